"""embedkit against gensim in one command: train, evaluate, query, on real text.

Prepares the benchmark corpus (``corpora/build_benchmark_corpus.py``: the largest mix of
offline English text, built once and cached), then, in this one run:

1. trains embedkit and gensim with the same settings on the same file (each training in its
   own subprocess, alternating, ``--repeats`` times; medians and ratios within this run),
   with embedkit also on one worker for its scaling;
2. evaluates both (Google analogies on the 30,000 most frequent words, WordSim-353,
   SimLex-999) and times the evaluation of the whole Google set on the full vocabulary:
   embedkit's batched evaluation against gensim's ``evaluate_word_analogies``;
3. times analogy queries on embedkit's vectors: one batched call against gensim's
   ``most_similar`` loop, answers compared.

Writes ``benchmarks/results/<date>.json`` (machine, versions, corpus, every raw run),
``<date>.md`` (the tables) and ``<date>.png`` (a chart; needs matplotlib).

    python -m benchmarks.run            # full: ~16M tokens, 3 repeats (about an hour on 2 cores)
    python -m benchmarks.run --quick    # 1M-token prefix, 3 repeats, under 5 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import embedkit
from benchmarks import peers, roofline, train_speed
from corpora.build_benchmark_corpus import prepare_benchmark_corpus
from embedkit.vectors.evaluation import gensim_test_file

RESULTS = Path(__file__).parent / "results"
QUICK_TOKENS = 1_000_000


def machine_info() -> dict:
    """CPU model, core count, Python and package versions, for the record."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("embedkit", "numpy", "numba", "faiss-cpu", "gensim", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _median_time(func, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def evaluation_timing(vectors: embedkit.Vectors, kv: Any, repeats: int) -> dict:
    """Seconds to evaluate the whole Google set on the full vocabulary: embedkit vs gensim
    (``kv``: the same vectors as gensim ``KeyedVectors``)."""
    questions = str(gensim_test_file("questions-words.txt"))
    size = len(vectors)
    ours_s, ours = _median_time(lambda: embedkit.evaluate_analogies(vectors, restrict=size), repeats)
    theirs_s, theirs = _median_time(lambda: kv.evaluate_word_analogies(questions, restrict_vocab=size), 1)
    return {
        "vocabulary": size,
        "embedkit_seconds": ours_s,
        "gensim_seconds": theirs_s,
        "speedup": theirs_s / ours_s,
        "embedkit_accuracy": ours.accuracy,
        "gensim_accuracy": float(theirs[0]),
    }


def query_timing(vectors: embedkit.Vectors, kv: Any, n_queries: int, repeats: int) -> dict:
    """Analogy queries per second: one batched embedkit call against gensim's loop."""
    triples = []
    for line in gensim_test_file("questions-words.txt").read_text().splitlines():
        words = line.lower().split()
        if len(words) == 4 and all(w in vectors for w in words):
            triples.append((words[0], words[1], words[2]))
    rng = np.random.default_rng(0)
    triples = [triples[i] for i in rng.integers(0, len(triples), n_queries)]
    vectors.most_similar(vectors.words[0], k=1, index="exact")  # build the index before timing
    ours_s, ours = _median_time(lambda: vectors.analogy_batch(triples, k=10, index="exact"), repeats)

    def gensim_loop() -> list:
        return [kv.most_similar(positive=[b, c], negative=[a], topn=10) for a, b, c in triples]

    theirs_s, theirs = _median_time(gensim_loop, 1)
    same = sum(o[0][0] == t[0][0] for o, t in zip(ours, theirs)) / len(triples)
    return {
        "queries": len(triples),
        "vocabulary": len(vectors),
        "embedkit_qps": len(triples) / ours_s,
        "gensim_qps": len(triples) / theirs_s,
        "speedup": theirs_s / ours_s,
        "same_top1": same,
    }


TRAINERS = ("embedkit", "gensim", "w2v", "fasttext")
LABELS = {"embedkit": "embedkit", "gensim": "gensim", "w2v": "word2vec C", "fasttext": "fastText"}


def count_tokens(corpus: Path) -> int:
    """Whitespace-separated tokens in ``corpus`` (what every trainer's words/s divides)."""
    with open(corpus, "rb") as stream:
        return sum(len(line.split()) for line in stream)


def train_once(trainer: str, corpus: Path, cbow: bool, workers: int, out: Path, epochs: int) -> dict:
    """One training of ``trainer`` in its own subprocess; timings, peak RSS, vectors path."""
    if trainer in ("embedkit", "gensim"):
        began = time.perf_counter()
        row = train_speed.measure(
            trainer, corpus, workers, evaluate=False, epochs=epochs, save=out, cbow=cbow
        )
        row["whole_seconds"] = time.perf_counter() - began
        row["vectors_path"] = str(out)
        row["self_reported_words_per_second"] = None
        return row
    settings = train_speed.mode_settings(cbow, epochs)
    return peers.run_peer(trainer, corpus, out, settings, cbow, workers)


def compare_trainers(
    corpus: Path,
    trainers: list[str],
    modes: list[str],
    repeats: int,
    workers: int,
    epochs: int,
    scratch: Path,
) -> list[dict]:
    """Every trainer in every mode, ``repeats`` times, trainers alternating within a repeat;
    the first repeat's vectors are evaluated (in this process, from each trainer's file)."""
    tokens = count_tokens(corpus)
    rows = []
    for mode in modes:
        for repeat in range(repeats):
            for trainer in trainers:
                out = scratch / f"{trainer}-{mode}-{repeat}"
                row = train_once(trainer, corpus, mode == "cbow", workers, out, epochs)
                row.update(tool=trainer, mode=mode, repeat=repeat, workers=workers, epochs=epochs)
                row["raw_tokens"] = tokens
                row["words_per_second"] = tokens * epochs / row["train_seconds"]
                row["whole_words_per_second"] = tokens * epochs / row["whole_seconds"]
                if repeat == 0:
                    vectors = embedkit.load(row["vectors_path"])
                    row.update(train_speed.evaluate(list(vectors.words), vectors.vectors))
                    row["vocab"] = len(vectors)
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "command"}), flush=True)
    return rows


def trainers_table(rows: list[dict]) -> str:
    """Medians per trainer and mode, with embedkit's speed over each trainer's."""
    lines = [
        "| trainer | mode | words/s (training) | words/s (whole process) | train s | whole s "
        "| self-reported words/s | analogy | semantic | syntactic | WS353 | SimLex | peak RSS MB "
        "| embedkit ÷ it (training) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    trainers = list(dict.fromkeys(r["tool"] for r in rows))
    for mode in modes:
        ours = [r for r in rows if r["mode"] == mode and r["tool"] == "embedkit"]
        for trainer in trainers:
            mine = [r for r in rows if r["mode"] == mode and r["tool"] == trainer]
            first = next(r for r in mine if "analogy" in r)
            speed = statistics.median(r["words_per_second"] for r in mine)
            ratio = f"{statistics.median(r['words_per_second'] for r in ours) / speed:.2f}x" if ours else "-"
            reported = [
                r["self_reported_words_per_second"] for r in mine if r["self_reported_words_per_second"]
            ]
            reported_text = f"{statistics.median(reported):,.0f}" if reported else "-"
            lines.append(
                f"| {LABELS[trainer]} | {mode} | {speed:,.0f} "
                f"| {statistics.median(r['whole_words_per_second'] for r in mine):,.0f} "
                f"| {statistics.median(r['train_seconds'] for r in mine):.1f} "
                f"| {statistics.median(r['whole_seconds'] for r in mine):.1f} | {reported_text} "
                f"| {first['analogy']:.1%} | {first['semantic']:.1%} | {first['syntactic']:.1%} "
                f"| {first['ws353']:.3f} | {first['simlex']:.3f} "
                f"| {statistics.median(r['peak_rss_mb'] for r in mine):,.0f} | {ratio} |"
            )
    return "\n".join(lines) + "\n"


def markdown(result: dict) -> str:
    """The results as markdown tables."""
    m, c = result["machine"], result["corpus"]
    s = result["settings"]
    lines = [
        f"Run {result['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"Corpus: {c['name']}, {c['tokens']:,} tokens; {result['repeats']} repeat(s), medians; "
        f"{result['workers']} threads each; dim {s['dim']}, window {s['window']}, negative {s['negative']}, "
        f"sample {s['sample']}, min_count {s['min_count']}, {result['epochs']} epochs, "
        "alpha 0.025 (skip-gram) / 0.05 (CBOW) for all.",
        "",
        result["training_table"].strip(),
    ]
    if "roofline" in result:
        lines += ["", result["roofline"]["markdown"].strip()]
    if "evaluation" in result:
        e = result["evaluation"]
        lines += [
            "",
            "| evaluation of the whole Google set, full vocabulary | embedkit s | gensim s | speed-up |",
            "|---|---|---|---|",
            f"| {e['vocabulary']:,} words | {e['embedkit_seconds']:.2f} | {e['gensim_seconds']:.1f} "
            f"| {e['speedup']:.0f}x |",
        ]
    if "queries" in result:
        q = result["queries"]
        lines += [
            "",
            "| analogy queries (k=10, exact) | embedkit batched q/s | gensim loop q/s | speed-up "
            "| same top-1 |",
            "|---|---|---|---|---|",
            f"| {q['queries']:,} over {q['vocabulary']:,} words | {q['embedkit_qps']:,.0f} "
            f"| {q['gensim_qps']:,.0f} | {q['speedup']:.1f}x | {q['same_top1']:.1%} |",
        ]
    return "\n".join(lines) + "\n"


def chart(result: dict, out: Path) -> None:
    """A PNG: training words/s and analogy accuracy of every trainer, per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["training_runs"]
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    trainers = list(dict.fromkeys(r["tool"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    x = np.arange(len(trainers))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        speeds, accuracy = [], []
        for trainer in trainers:
            mine = [r for r in rows if r["mode"] == mode and r["tool"] == trainer]
            speeds.append(statistics.median(r["words_per_second"] for r in mine) / 1e3)
            accuracy.append(next(r["analogy"] for r in mine if "analogy" in r))
        axes[0].bar(x + i * width, speeds, width, label=mode)
        axes[1].bar(x + i * width, accuracy, width, label=mode)
    for ax, title in zip(axes, ("training (k words/s)", "analogy accuracy (top 30k)")):
        ax.set_xticks(x + width * (len(modes) - 1) / 2, [LABELS[t] for t in trainers])
        ax.set_title(title)
        ax.legend()
    fig.suptitle(f"four trainers, {result['corpus']['tokens']:,} tokens ({result['date']})")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"First {QUICK_TOKENS:,} tokens, 1 repeat.")
    parser.add_argument("--repeats", type=int, help="Repeats (default 3; 1 with --quick).")
    parser.add_argument("--corpus", type=Path, help="Use this file instead of the benchmark corpus.")
    parser.add_argument("--trainers", nargs="+", choices=TRAINERS, default=list(TRAINERS))
    parser.add_argument("--modes", nargs="+", choices=["sg", "cbow"], default=["sg", "cbow"])
    parser.add_argument("--workers", type=int, default=2, help="Threads of every trainer.")
    parser.add_argument("--epochs", type=int, default=train_speed.SETTINGS["epochs"])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--no-roofline", action="store_true", help="Skip the machine's peaks.")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)

    corpus = args.corpus or prepare_benchmark_corpus()
    date = time.strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="embedkit-bench-") as scratch:
        scratch = Path(scratch)
        if args.quick:
            corpus = train_speed.prefix_file(corpus, QUICK_TOKENS, 1, scratch / "quick.txt")
        rows = compare_trainers(
            corpus, args.trainers, args.modes, repeats, args.workers, args.epochs, scratch
        )
        result = {
            "date": date,
            "machine": machine_info(),
            "corpus": {"name": corpus.name, "tokens": rows[0]["raw_tokens"], "quick": args.quick},
            "settings": train_speed.SETTINGS,
            "alpha": train_speed.ALPHA,
            "epochs": args.epochs,
            "workers": args.workers,
            "repeats": repeats,
            "training_runs": rows,
            "training_table": trainers_table(rows),
        }
        if not args.no_roofline:
            result["roofline"] = roofline.measure(corpus, rows)
        if "embedkit" in args.trainers and "gensim" in args.trainers:
            vectors = embedkit.load(next(r["vectors_path"] for r in rows if r["tool"] == "embedkit"))
            kv = vectors.to_gensim()
            result["evaluation"] = evaluation_timing(vectors, kv, repeats)
            result["queries"] = query_timing(vectors, kv, args.queries, repeats)
    stem = args.out / (f"{date}-quick" if args.quick else date)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    stem.with_suffix(".md").write_text(markdown(result))
    try:
        chart(result, stem.with_suffix(".png"))
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)")
    print(markdown(result))
    print(f"written: {stem}.json, .md, .png")


if __name__ == "__main__":
    main()
