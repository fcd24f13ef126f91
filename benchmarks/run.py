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
from benchmarks import train_speed
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


def markdown(result: dict) -> str:
    """The results as markdown tables."""
    m, c = result["machine"], result["corpus"]
    lines = [
        f"Run {result['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"Corpus: {c['name']}, {c['tokens']:,} tokens; {result['repeats']} repeats, medians.",
        "",
        result["training_table"].strip(),
        "",
        "| evaluation of the whole Google set, full vocabulary | embedkit s | gensim s | speed-up |",
        "|---|---|---|---|",
    ]
    e = result["evaluation"]
    lines.append(
        f"| {e['vocabulary']:,} words | {e['embedkit_seconds']:.2f} | {e['gensim_seconds']:.1f} "
        f"| {e['speedup']:.0f}x |"
    )
    q = result["queries"]
    lines += [
        "",
        "| analogy queries (k=10, exact) | embedkit batched q/s | gensim loop q/s | speed-up | same top-1 |",
        "|---|---|---|---|---|",
        f"| {q['queries']:,} over {q['vocabulary']:,} words | {q['embedkit_qps']:,.0f} "
        f"| {q['gensim_qps']:,.0f} | {q['speedup']:.1f}x | {q['same_top1']:.1%} |",
    ]
    return "\n".join(lines) + "\n"


def chart(result: dict, out: Path) -> None:
    """A PNG comparing embedkit and gensim on speed and quality."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["training_runs"]
    workers = max(r["workers"] for r in rows)

    def med(tool: str, key: str) -> float:
        values = [r[key] for r in rows if r["tool"] == tool and r["workers"] == workers and key in r]
        return statistics.median(values)

    tools = ("embedkit", "gensim")
    colours = ("tab:blue", "tab:gray")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), dpi=110)
    speeds = [med(t, "words_per_second") / 1e3 for t in tools]
    axes[0].bar(tools, speeds, color=colours)
    axes[0].set_title(f"training, {workers} workers (k words/s)")
    quality = ("analogy", "ws353", "simlex")
    x = np.arange(len(quality))
    for i, tool in enumerate(tools):
        axes[1].bar(x + (i - 0.5) * 0.38, [med(tool, k) for k in quality], 0.38, label=tool, color=colours[i])
    axes[1].set_xticks(x, ["analogy acc.", "WS353 ρ", "SimLex ρ"])
    axes[1].set_title("quality")
    axes[1].legend()
    q, e = result["queries"], result["evaluation"]
    axes[2].bar(
        ["queries/s\nembedkit", "queries/s\ngensim", "eval/min\nembedkit", "eval/min\ngensim"],
        [q["embedkit_qps"], q["gensim_qps"], 60 / e["embedkit_seconds"], 60 / e["gensim_seconds"]],
        color=[colours[0], colours[1], colours[0], colours[1]],
    )
    axes[2].set_yscale("log")
    axes[2].set_title("analogy queries and full evaluations")
    fig.suptitle(f"embedkit vs gensim, {result['corpus']['tokens']:,} tokens ({result['date']})")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"First {QUICK_TOKENS:,} tokens only.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--corpus", type=Path, help="Use this file instead of the benchmark corpus.")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    corpus = args.corpus or prepare_benchmark_corpus()
    date = time.strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="embedkit-bench-") as scratch:
        scratch = Path(scratch)
        if args.quick:
            corpus = train_speed.prefix_file(corpus, QUICK_TOKENS, 1, scratch / "quick.txt")
        workers = [2] if args.quick else [2, 1]
        rows, table = train_speed.compare(corpus, args.repeats, workers, [2], save_dir=scratch)
        vectors = embedkit.load(scratch / "embedkit")
        kv = vectors.to_gensim()
        result = {
            "date": date,
            "machine": machine_info(),
            "corpus": {"name": corpus.name, "tokens": rows[0]["raw_tokens"], "quick": args.quick},
            "settings": train_speed.SETTINGS,
            "repeats": args.repeats,
            "training_runs": rows,
            "training_table": table,
            "evaluation": evaluation_timing(vectors, kv, args.repeats),
            "queries": query_timing(vectors, kv, args.queries, args.repeats),
        }
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
