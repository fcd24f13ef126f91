"""Subword (fastText-style) training: embedkit against the ``fasttext`` program and gensim's FastText.

Same corpus, same settings (skip-gram, dim 100, window 5, negative 5, minn 3, maxn 6,
buckets, 5 epochs, 2 threads, lr 0.025, sample 1e-3, min_count 5), one trainer after the
other in one run, each in its own process (peak RSS and whole-process seconds from
``wait4``). Training words/s: embedkit's and gensim's from their own training timer (raw
tokens x epochs / seconds), fastText's as it prints it (words/sec/thread x threads) and also
from the whole process. Every model is read back with :func:`embedkit.load` (native folder,
fastText ``.bin`` from the program and from gensim's ``save_facebook_model``) and scored the
same way: Google analogies (30,000 most frequent words, semantic and syntactic apart),
WordSim-353 and SimLex-999 Spearman.

Out-of-vocabulary quality: ``--held-out`` vocabulary words (the WS353/SimLex words of rank
>= 1000, then seeded mid-frequency words) are removed from a copy of the corpus and each
trainer is trained on it too; reported are (a) the mean cosine between a held-out word's
n-gram vector and its vector in the same trainer's full model, and (b) the Spearman of
WS353 + SimLex pairs with a held-out word, scored with the n-gram vectors.

    python -m benchmarks.subword_speed                       # full: benchmark corpus, 3 repeats
    python -m benchmarks.subword_speed --quick               # 1M tokens, 1 repeat, 200k buckets
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SETTINGS = {"dim": 100, "window": 5, "negative": 5, "minn": 3, "maxn": 6, "epochs": 5,
            "alpha": 0.025, "sample": 1e-3, "min_count": 5}  # fmt: skip
RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("embedkit", "fasttext", "gensim")


def _run(cmd: list[str]) -> tuple[str, float, float]:
    """Run ``cmd``; return (stdout+stderr, wall seconds, peak RSS in MB)."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise RuntimeError(f"{cmd[0]} failed (status {status}):\n{output[-2000:]}")
    return output, seconds, usage.ru_maxrss / 1024


def train_one(tool: str, corpus: Path, out: Path, buckets: int, threads: int) -> dict[str, Any]:
    """Train ``tool`` on ``corpus`` into ``out`` (a model embedkit.load reads) in a subprocess."""
    s = SETTINGS
    if tool == "fasttext":
        cmd = ["fasttext", "skipgram", "-input", str(corpus), "-output", str(out), "-dim", str(s["dim"]),
               "-ws", str(s["window"]), "-neg", str(s["negative"]), "-minn", str(s["minn"]),
               "-maxn", str(s["maxn"]), "-bucket", str(buckets), "-epoch", str(s["epochs"]),
               "-thread", str(threads), "-lr", str(s["alpha"]), "-t", str(s["sample"]),
               "-minCount", str(s["min_count"]), "-verbose", "2"]  # fmt: skip
        output, seconds, rss = _run(cmd)
        rates = re.findall(r"words/sec/thread:\s*(\d+)", output)
        words = re.findall(r"Number of words:\s*(\d+)", output)
        return {"model": f"{out}.bin", "process_seconds": seconds, "peak_rss_mb": rss,
                "words_per_second": int(rates[-1]) * threads if rates else None,
                "vocab": int(words[0]) if words else None}  # fmt: skip
    cmd = [sys.executable, "-m", "benchmarks.subword_speed", "--one", tool, "--corpus", str(corpus),
           "--out", str(out), "--buckets", str(buckets), "--threads", str(threads)]  # fmt: skip
    output, seconds, rss = _run(cmd)
    result = json.loads(output.strip().splitlines()[-1])
    result.update(process_seconds=seconds, peak_rss_mb=rss)
    return result


def one(tool: str, corpus: Path, out: Path, buckets: int, threads: int) -> dict[str, Any]:
    """In the subprocess: train embedkit or gensim, save, print the training timer's figures."""
    s = SETTINGS
    if tool == "embedkit":
        import embedkit

        v = embedkit.train(
            corpus, subwords=True, buckets=buckets, workers=threads, seed=1, progress=False, **s
        )
        info = v.meta["training"]
        v.save(out)
        raw, train_seconds, vocab = info["raw_tokens"], info["train_seconds"], len(v)
        model = str(out)
    else:
        from gensim.models import FastText
        from gensim.models.fasttext import save_facebook_model

        m = FastText(sg=1, vector_size=s["dim"], window=s["window"], negative=s["negative"], min_n=s["minn"],
                     max_n=s["maxn"], bucket=buckets, sample=s["sample"], alpha=s["alpha"],
                     min_count=s["min_count"], epochs=s["epochs"], workers=threads, seed=1)  # fmt: skip
        m.build_vocab(corpus_file=str(corpus))
        began = time.perf_counter()
        m.train(corpus_file=str(corpus), total_examples=m.corpus_count, total_words=m.corpus_total_words,
                epochs=s["epochs"])  # fmt: skip
        train_seconds = time.perf_counter() - began
        model = f"{out}.bin"
        save_facebook_model(m, model)
        raw, vocab = m.corpus_total_words, len(m.wv)
    return {"model": model, "train_seconds": train_seconds, "vocab": vocab,
            "words_per_second": raw * s["epochs"] / train_seconds}  # fmt: skip


def quality(model: str) -> dict[str, Any]:
    """Analogies (30k most frequent), WS353 and SimLex of a saved model."""
    import embedkit
    from embedkit.vectors.evaluation import gensim_test_file

    v = embedkit.load(model)
    analogies = embedkit.evaluate_analogies(v, restrict=30_000)
    simlex = embedkit.evaluate_similarity(v, gensim_test_file("simlex999.txt")).spearman
    return {"analogy": analogies.accuracy, "semantic": analogies.semantic, "syntactic": analogies.syntactic,
            "ws353": embedkit.evaluate_similarity(v).spearman, "simlex": simlex}  # fmt: skip


def pair_files() -> list[tuple[str, str, float]]:
    """WS353 and SimLex-999 pairs (word, word, gold score)."""
    from embedkit.vectors.evaluation import gensim_test_file

    pairs = []
    for name in ("wordsim353.tsv", "simlex999.txt"):
        for line in gensim_test_file(name).read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if line.startswith("#") or len(parts) < 3:
                continue
            try:
                pairs.append((parts[0], parts[1], float(parts[2])))
            except ValueError:
                continue
    return pairs


def choose_held_out(corpus: Path, n: int, seed: int) -> list[str]:
    """Vocabulary words to hold out: test-pair words of rank >= 1000, then seeded mid-frequency ones."""
    counts: dict[str, int] = {}
    with open(corpus, encoding="utf-8") as stream:
        for line in stream:
            for token in line.split():
                counts[token] = counts.get(token, 0) + 1
    ranked = [w for w, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= SETTINGS["min_count"]]
    rank = {w: i for i, w in enumerate(ranked)}
    tested = sorted({w for a, b, _ in pair_files() for w in (a, b) if rank.get(w, 0) >= 1000})
    chosen = tested[:n]
    mid = [w for w in ranked[2000:20000] if w not in set(chosen) and w.isalpha()]
    rng = np.random.default_rng(seed)
    chosen += [mid[i] for i in rng.permutation(len(mid))[: max(0, n - len(chosen))]]
    return chosen


def drop_words(corpus: Path, words: list[str], out: Path) -> Path:
    """A copy of ``corpus`` without any token of ``words``."""
    dropped = set(words)
    with open(corpus, encoding="utf-8") as source, open(out, "w", encoding="utf-8") as sink:
        for line in source:
            sink.write(" ".join(t for t in line.split() if t not in dropped) + "\n")
    return out


def oov_quality(full_model: str, held_model: str, held: list[str]) -> dict[str, Any]:
    """(a) cosine of each held-out word's n-gram vector with its full-model vector; (b) Spearman of
    test pairs with a held-out word, from n-gram vectors."""
    import embedkit
    from embedkit.vectors.evaluation import spearman

    full, part = embedkit.load(full_model), embedkit.load(held_model)
    # the two models' spaces differ by a rotation (their own random starts): align them first,
    # orthogonal Procrustes over the words both know (the held-out words not among them)
    shared = [w for w in part.words[:20_000] if w in full]
    x = np.array([part[w] for w in shared]) / np.linalg.norm([part[w] for w in shared], axis=1)[:, None]
    y = np.array([full[w] for w in shared]) / np.linalg.norm([full[w] for w in shared], axis=1)[:, None]
    u, _, vt = np.linalg.svd(x.T @ y)
    rotation = u @ vt
    cosines, raw = [], []
    for word in held:
        if word in full and not part.is_known(word) and part.has_vector(word):
            a, b = full[word], part[word]
            norms = np.linalg.norm(a) * np.linalg.norm(b) + 1e-12
            raw.append(float(a @ b / norms))
            cosines.append(float(a @ (b @ rotation) / norms))
    held_set = set(held)
    gold, got = [], []
    for a, b, score in pair_files():
        if (a in held_set or b in held_set) and part.has_vector(a) and part.has_vector(b):
            x, y = part[a], part[b]
            gold.append(score)
            got.append(float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12)))
    return {"oov_cosine": float(np.mean(cosines)) if cosines else None, "oov_words": len(cosines),
            "oov_cosine_unaligned": float(np.mean(raw)) if raw else None,
            "oov_spearman": spearman(np.array(gold), np.array(got)) if len(gold) > 2 else None,
            "oov_pairs": len(gold)}  # fmt: skip


def _cell(key: str, value: Any) -> str:
    if key == "words_per_second" and value is not None:
        return f"{value:,.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(result: dict[str, Any]) -> str:
    rows = result["tools"]
    keys = ["words_per_second", "process_seconds", "peak_rss_mb", "analogy", "semantic", "syntactic",
            "ws353", "simlex", "oov_cosine", "oov_cosine_unaligned", "oov_spearman"]  # fmt: skip
    lines = [f"# Subword training, {result['date']}", "", f"Corpus {result['corpus']} ({result['tokens']});"
             f" settings {SETTINGS}, buckets {result['buckets']}, {result['threads']} threads,"
             f" {result['repeats']} repeats (medians); {result['held_out']} held-out words.", "",
             "| tool | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]  # fmt: skip
    for tool in TOOLS:
        row = rows[tool]
        cells = [_cell(k, row.get(k)) for k in keys]
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    ek = rows["embedkit"]["words_per_second"]
    lines += ["", f"embedkit training throughput: {ek / rows['fasttext']['words_per_second']:.2f}x fasttext, "
              f"{ek / rows['gensim']['words_per_second']:.2f}x gensim FastText"]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="default: the benchmark corpus")
    parser.add_argument("--tokens", type=int, default=0, help="train on this many first tokens only")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--buckets", type=int, default=2_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--held-out", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="1M tokens, 1 repeat, 200k buckets")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/embedkit-subword-bench"))
    parser.add_argument("--one", choices=("embedkit", "gensim"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.corpus, args.out, args.buckets, args.threads)))
        return
    if args.quick:
        args.tokens, args.repeats, args.buckets = args.tokens or 1_000_000, 1, 200_000
    from benchmarks.train_speed import prefix_file
    from corpora.build_benchmark_corpus import prepare_benchmark_corpus

    args.scratch.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or prepare_benchmark_corpus()
    if args.tokens:
        corpus = prefix_file(corpus, args.tokens, 1, args.scratch / f"prefix-{args.tokens}.txt")
    held = choose_held_out(corpus, args.held_out, seed=1)
    held_corpus = drop_words(corpus, held, args.scratch / "held-out.txt")
    rows: dict[str, Any] = {}
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in TOOLS}
    for repeat in range(args.repeats):
        for tool in TOOLS:
            run = train_one(tool, corpus, args.scratch / f"{tool}-full", args.buckets, args.threads)
            print(tool, repeat, {k: v for k, v in run.items() if k != "model"}, flush=True)
            runs[tool].append(run)
    for tool in TOOLS:
        row = {k: statistics.median(r[k] for r in runs[tool]) for k in runs[tool][0]
               if isinstance(runs[tool][0][k], (int, float))}  # fmt: skip
        row.update(quality(runs[tool][-1]["model"]))
        held_run = train_one(tool, held_corpus, args.scratch / f"{tool}-held", args.buckets, args.threads)
        row.update(oov_quality(runs[tool][-1]["model"], held_run["model"], held))
        rows[tool] = row
        print(tool, row, flush=True)
    with open(corpus, encoding="utf-8") as stream:
        n_tokens = sum(len(line.split()) for line in stream)
    date = time.strftime("%Y-%m-%d")
    name = str(args.corpus or "benchmark corpus")
    result = {"date": date, "corpus": name, "tokens": f"{n_tokens:,} tokens",
              "buckets": args.buckets, "threads": args.threads, "repeats": args.repeats,
              "held_out": len(held), "settings": SETTINGS, "tools": rows, "runs": runs}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"subword_speed-{date}{suffix}.json").write_text(json.dumps(result, indent=1, default=str))
    text = markdown(result)
    (RESULTS / f"subword_speed-{date}{suffix}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
