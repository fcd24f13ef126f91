"""Quality across seeds: embedkit against gensim, skip-gram and CBOW, on two corpora.

The benchmark corpus is the one the trainer was tuned on; the held-out corpus (the Linux
kernel's documentation and Shakespeare, ``HELD_OUT_MIX``: none of its text is in the
benchmark corpus) is the one it was not. Each (trainer, mode, seed) trains once in this
process with the benchmark settings (dim 100, window 5, negative 5, sample 1e-3,
min_count 5, 5 epochs, 2 workers; alpha 0.025 for skip-gram, 0.05 for CBOW, as in
``benchmarks.run``), and is scored by embedkit's evaluator (Google analogies on the 30,000
most frequent words, semantic and syntactic apart, WordSim-353, SimLex-999). The table gives
the mean and the range (min–max) over the seeds.

    python -m benchmarks.quality_seeds                       # both corpora, seeds 1 2 3
    python -m benchmarks.quality_seeds --corpus held-out --seeds 1 --modes sg
    python -m benchmarks.quality_seeds --quick               # a 1M-token prefix, seed 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.train_speed import ALPHA, evaluate
from corpora.build_benchmark_corpus import prepare_benchmark_corpus

RESULTS = Path(__file__).parent / "results"
HELD_OUT_MIX = "linux-doc:1,shakespeare:1"
SETTINGS = {"dim": 100, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5, "epochs": 5}
METRICS = ("analogy", "semantic", "syntactic", "ws353", "simlex")


def corpus_file(name: str, tokens: int | None = None) -> Path:
    """The benchmark or held-out corpus (built offline on first use), or its first ``tokens`` tokens."""
    path = prepare_benchmark_corpus(mix=HELD_OUT_MIX if name == "held-out" else None)
    if tokens is None:
        return path
    prefix = path.with_name(f"{path.stem}-first{tokens}.txt")
    if not prefix.exists():
        kept, lines = 0, []
        with path.open(encoding="utf-8") as source:
            for line in source:
                lines.append(line)
                kept += line.count(" ") + 1
                if kept >= tokens:
                    break
        prefix.write_text("".join(lines), encoding="utf-8")
    return prefix


def train_once(tool: str, corpus: Path, cbow: bool, seed: int, workers: int) -> dict[str, Any]:
    """Train one model and score it; returns the scores with the seconds it took."""
    began = time.perf_counter()
    alpha = ALPHA[cbow]
    if tool == "embedkit":
        import embedkit

        vectors = embedkit.train(corpus, progress=False, seed=seed, cbow=cbow, alpha=alpha, workers=workers,
                                 **SETTINGS)  # fmt: skip
        words, matrix = vectors.words, vectors.vectors
    else:
        from gensim.models import Word2Vec

        s = SETTINGS
        model = Word2Vec(
            corpus_file=str(corpus), sg=int(not cbow), vector_size=s["dim"], window=s["window"],
            negative=s["negative"], sample=s["sample"], min_count=s["min_count"], epochs=s["epochs"],
            workers=workers, seed=seed, alpha=alpha,
        )  # fmt: skip
        words, matrix = list(model.wv.index_to_key), model.wv.vectors
    seconds = time.perf_counter() - began
    return {"seconds": round(seconds, 1), **evaluate(words, matrix)}


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and range over seeds of each (corpus, mode, tool)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["corpus"], record["mode"], record["tool"]), []).append(record)
    rows = []
    for (corpus, mode, tool), runs in sorted(groups.items()):
        seeds = sorted(r["seed"] for r in runs)
        row: dict[str, Any] = {"corpus": corpus, "mode": mode, "tool": tool, "seeds": seeds}
        for metric in METRICS:
            values = [r[metric] for r in runs]
            row[metric] = (statistics.fmean(values), min(values), max(values))
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The summary as a markdown table (percentages for analogies)."""
    head = "| corpus | mode | trainer | seeds | analogy | semantic | syntactic | WS353 | SimLex |"
    lines = [head, "|" + "---|" * 9]
    for row in rows:
        cells = []
        for metric in METRICS:
            mean, low, high = row[metric]
            scale, unit = (100, "%") if metric in METRICS[:3] else (1, "")
            digits = 1 if unit else 3
            mean, low, high = (f"{x * scale:.{digits}f}" for x in (mean, low, high))
            cells.append(f"{mean}{unit} ({low}–{high})")
        seeds = ",".join(map(str, row["seeds"]))
        first = f"| {row['corpus']} | {row['mode']} | {row['tool']} | {seeds} | "
        lines.append(first + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpora = ["benchmark", "held-out"]
    parser.add_argument("--corpus", nargs="+", default=corpora, choices=corpora)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--modes", nargs="+", default=["sg", "cbow"], choices=["sg", "cbow"])
    trainers = ["embedkit", "gensim"]
    parser.add_argument("--trainers", nargs="+", default=trainers, choices=trainers)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the first 1M tokens of each corpus, seed 1")
    args = parser.parse_args(argv)
    seeds = [1] if args.quick else args.seeds
    records = []
    for name in args.corpus:
        corpus = corpus_file(name, 1_000_000 if args.quick else None)
        for mode in args.modes:
            for seed in seeds:
                for tool in args.trainers:
                    scores = train_once(tool, corpus, mode == "cbow", seed, args.workers)
                    record = {"corpus": name, "mode": mode, "tool": tool, "seed": seed, **scores}
                    print(json.dumps(record), flush=True)
                    records.append(record)
    rows = summarise(records)
    stem = f"quality_seeds-{time.strftime('%Y-%m-%d')}{'-quick' if args.quick else ''}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps({"settings": SETTINGS, "runs": records}, indent=1))
    title = f"# Quality across seeds ({time.strftime('%Y-%m-%d')})\n\n"
    (RESULTS / f"{stem}.md").write_text(title + table(rows))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
