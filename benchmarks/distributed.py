"""Data-parallel training on a Dask LocalCluster against single-process training.

On the benchmark corpus (or a prefix of it), same settings as ``train_speed``: one
single-process run with ``workers`` threads, then runs on a LocalCluster of ``processes``
single-threaded worker processes for every (combine, sync rounds) asked for. Throughput is
raw corpus tokens x epochs / seconds of training (vocabulary building and cluster start-up
excluded; weight traffic and merging included). Quality: Google analogies on the 30,000
most frequent words and WordSim-353 Spearman.

    python -m benchmarks.distributed [--tokens 4e6] [--rounds 1 4 16] [--average-rounds 4]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.train_speed import prefix_file

SETTINGS = {"dim": 100, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5, "epochs": 5}


def _measure(corpus: Path, label: str, **kwargs: object) -> dict:
    """Train once and evaluate; return the row of the table."""
    import embedkit

    began = time.perf_counter()
    vectors = embedkit.train(corpus, progress=False, seed=1, **SETTINGS, **kwargs)
    wall = time.perf_counter() - began
    info = vectors.meta["training"]
    row = {
        "run": label,
        "raw_tokens": info["raw_tokens"],
        "vocab": len(vectors),
        "train_seconds": info["train_seconds"],
        "wall_seconds": wall,
        "words_per_second": info["words_per_second"],
        "final_loss": info["epoch_loss"][-1],
        "analogy": embedkit.evaluate_analogies(vectors, restrict=30_000).accuracy,
        "ws353": embedkit.evaluate_similarity(vectors).spearman,
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="text corpus (default: the benchmark corpus)")
    parser.add_argument("--tokens", type=float, default=0, help="train on a prefix of this many tokens")
    parser.add_argument("--processes", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--workers", type=int, default=2, help="threads of the single-process run")
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 4, 16], help="sync rounds (sum)")
    parser.add_argument("--average-rounds", type=int, nargs="*", default=[4], help="sync rounds (average)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    if args.corpus is None:
        from corpora.build_benchmark_corpus import prepare_benchmark_corpus

        args.corpus = prepare_benchmark_corpus()
    with tempfile.TemporaryDirectory(prefix="embedkit-bench-") as scratch:
        corpus = args.corpus
        if args.tokens:
            corpus = prefix_file(corpus, int(args.tokens), 1, Path(scratch) / "prefix.txt")
        rows = [_measure(corpus, f"single process, {args.workers} threads", workers=args.workers)]
        with (
            LocalCluster(
                n_workers=args.processes, threads_per_worker=1, dashboard_address=None, silence_logs=40
            ) as cluster,
            Client(cluster) as client,
        ):
            runs = [("sum", r) for r in args.rounds] + [("average", r) for r in args.average_rounds]
            for combine, rounds in runs:
                label = f"LocalCluster {args.processes} processes, {combine}, {rounds} rounds/epoch"
                rows.append(_measure(corpus, label, cluster=client, sync_rounds=rounds, combine=combine))
    base = rows[0]["words_per_second"]
    lines = [
        f"Corpus {args.corpus.name}"
        + (f" (first {int(args.tokens):,} tokens)" if args.tokens else "")
        + f": {rows[0]['raw_tokens']:,} tokens, {rows[0]['vocab']:,} words; settings {SETTINGS}.",
        "",
        "| run | words/s | vs single | train s | analogy | WS353 | final loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        speed = row["words_per_second"]
        lines.append(
            f"| {row['run']} | {speed:,.0f} | {speed / base:.2f}x | {row['train_seconds']:.1f} "
            f"| {row['analogy']:.1%} | {row['ws353']:.3f} | {row['final_loss']:.4f} |"
        )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
