"""Continued training against one run: do two halves of 5 epochs make vectors as good as 10?

On the benchmark corpus (``corpora/build_benchmark_corpus.py``), one after the other:

- ``one run``: 10 epochs (alpha 0.025 → 0.0001);
- ``two halves``: 5 epochs kept as a full model (``keep_training_state=True``), then 5 more
  epochs continuing it (``init=``) with the defaults: each half decays 0.025 → 0.0001;
- ``two halves, split schedule``: the same, but the halves take the two halves of the
  one-run schedule (0.025 → 0.0125, then 0.0125 → 0.0001), as the documented way to make a
  continued run follow one long schedule.

Each: Google analogies on the 30,000 most frequent words (semantic and syntactic) and
WordSim-353, per seed. Writes ``results/continue_quality-<date>.md`` and ``.json``.

    python -m benchmarks.continue_quality [--seeds 1 2] [--workers 2] [--corpus FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import tempfile
from pathlib import Path

import embedkit
from benchmarks.train_speed import _evaluate
from corpora.build_benchmark_corpus import prepare_benchmark_corpus

RESULTS = Path(__file__).parent / "results"


def _scores(vectors: embedkit.Vectors, seconds: float) -> dict:
    return {**_evaluate(vectors.words, vectors.vectors), "train_seconds": round(seconds, 1)}


def run_seed(corpus: Path, seed: int, workers: int) -> dict[str, dict]:
    """The three ways of training 10 epochs, for one seed."""
    common = {"workers": workers, "seed": seed, "progress": False}
    rows: dict[str, dict] = {}
    whole = embedkit.train(corpus, epochs=10, **common)
    rows["one run, 10 epochs"] = _scores(whole, whole.meta["training"]["train_seconds"])
    del whole
    for name, first, second in [
        ("two halves, 5 + 5 epochs", {}, {}),
        ("two halves, split schedule", {"min_alpha": 0.0125}, {"alpha": 0.0125, "min_alpha": 0.0001}),
    ]:
        half = embedkit.train(corpus, epochs=5, keep_training_state=True, **first, **common)
        with tempfile.TemporaryDirectory() as scratch:
            half.save(Path(scratch) / "half")
            seconds = half.meta["training"]["train_seconds"]
            del half
            more = embedkit.train(corpus, init=Path(scratch) / "half", epochs=5, **second, **common)
        rows[name] = _scores(more, seconds + more.meta["training"]["train_seconds"])
        del more
    return rows


def markdown(runs: dict[int, dict[str, dict]], corpus: Path, workers: int) -> str:
    names = list(next(iter(runs.values())))
    lines = [
        f"Continued training, {datetime.date.today()}, corpus {corpus.name}, skip-gram dim 100 window 5 "
        f"negative 5, {workers} workers, seeds {', '.join(map(str, runs))}.",
        "",
        "| training | seed | analogy | semantic | syntactic | WS353 | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        for seed, rows in runs.items():
            r = rows[name]
            lines.append(
                f"| {name} | {seed} | {r['analogy']:.1%} | {r['semantic']:.1%} | {r['syntactic']:.1%} "
                f"| {r['ws353']:.3f} | {r['train_seconds']} |"
            )
        if len(runs) > 1:
            mean = statistics.mean(rows[name]["analogy"] for rows in runs.values())
            ws = statistics.mean(rows[name]["ws353"] for rows in runs.values())
            lines.append(f"| {name} | mean | {mean:.1%} | | | {ws:.3f} | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=None)
    args = parser.parse_args()
    corpus = args.corpus or prepare_benchmark_corpus()
    runs = {}
    for seed in args.seeds:
        runs[seed] = run_seed(corpus, seed, args.workers)
        table = markdown(runs, corpus, args.workers)
        stem = RESULTS / f"continue_quality-{datetime.date.today()}"
        stem.with_suffix(".md").write_text(table)
        stem.with_suffix(".json").write_text(json.dumps({"corpus": str(corpus), "runs": runs}, indent=1))
        print(table, flush=True)


if __name__ == "__main__":
    main()
