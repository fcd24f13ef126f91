"""Training speed, quality and memory: embedkit against gensim's Word2Vec, same file, same run.

Each training runs in its own subprocess (so peak RSS is its own, read with ``wait4``),
one after the other: embedkit and gensim alternate within each repeat. Throughput is raw
corpus tokens x epochs / wall seconds of training, vocabulary building timed apart.
Quality: Google analogies on the 30,000 most frequent words, WordSim-353 and SimLex-999
Spearman. Medians over the repeats; ratios are taken within this one run.

    python -m benchmarks.train_speed --corpus FILE [--repeats 3] [--workers 1 2]
    python -m benchmarks.train_speed --corpus FILE --scale 1e6 4e6 16e6 --times 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SETTINGS = {"dim": 100, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5, "epochs": 5}
ALPHA = {False: 0.025, True: 0.05}
"""Initial learning rate by mode (``cbow``), word2vec C's defaults, given to every trainer."""


def mode_settings(cbow: bool, epochs: int | None = None, min_count: int | None = None) -> dict:
    """The shared settings for skip-gram or CBOW: ``SETTINGS`` plus the mode's alpha."""
    return {
        **SETTINGS, "alpha": ALPHA[cbow], "epochs": epochs or SETTINGS["epochs"],
        "min_count": min_count or SETTINGS["min_count"],
    }  # fmt: skip


RESULTS = Path(__file__).parent / "results"


def evaluate(words: list[str], matrix) -> dict:
    import embedkit

    vectors = embedkit.Vectors(words, matrix)
    analogies = embedkit.evaluate_analogies(vectors, restrict=30_000)
    return {
        "analogy": analogies.accuracy,
        "semantic": analogies.semantic,
        "syntactic": analogies.syntactic,
        "answerable": analogies.total,
        "ws353": embedkit.evaluate_similarity(vectors).spearman,
        "simlex": embedkit.evaluate_similarity(
            vectors, embedkit.vectors.evaluation.gensim_test_file("simlex999.txt")
        ).spearman,
    }


_evaluate = evaluate  # the old name, used by benchmarks/continue_quality.py


def train_gensim(
    corpus: str | Path, settings: dict, workers: int, seed: int, cbow: bool = False
) -> tuple[Any, float, float]:
    """gensim ``Word2Vec`` (CBOW with ``cbow``) on ``corpus`` through ``corpus_file=`` with embedkit-style
    ``settings``; returns (model, vocabulary seconds, training seconds)."""
    from gensim.models import Word2Vec

    s = settings
    model = Word2Vec(
        sg=int(not cbow), vector_size=s["dim"], window=s["window"], negative=s["negative"],
        sample=s["sample"], min_count=s["min_count"], alpha=s.get("alpha", 0.025),
        min_alpha=s.get("min_alpha", 0.0001), epochs=s["epochs"], workers=workers, seed=seed,
    )  # fmt: skip
    began = time.perf_counter()
    model.build_vocab(corpus_file=str(corpus))
    vocab_seconds = time.perf_counter() - began
    began = time.perf_counter()
    model.train(
        corpus_file=str(corpus), total_examples=model.corpus_count,
        total_words=model.corpus_total_words, epochs=s["epochs"],
    )  # fmt: skip
    return model, vocab_seconds, time.perf_counter() - began


def run_one(
    tool: str,
    corpus: str,
    workers: int,
    seed: int,
    evaluate: bool,
    epochs: int,
    save: str | None = None,
    min_count: int | None = None,
    cbow: bool = False,
) -> dict:
    """Train once in this process and return the measurements (called in a subprocess).

    ``save`` writes the trained vectors there in embedkit's native format.
    """
    settings = mode_settings(cbow, epochs, min_count)
    if tool == "embedkit":
        import embedkit

        vectors = embedkit.train(corpus, workers=workers, seed=seed, progress=False, cbow=cbow, **settings)
        info = vectors.meta["training"]
        out = {
            "raw_tokens": info["raw_tokens"],
            "vocab_seconds": info["vocab_seconds"],
            "train_seconds": info["train_seconds"],
            "vocab": len(vectors),
        }
        words, matrix = vectors.words, vectors.vectors
    else:
        model, vocab_seconds, train_seconds = train_gensim(corpus, settings, workers, seed, cbow)
        out = {
            "raw_tokens": model.corpus_total_words,
            "vocab_seconds": vocab_seconds,
            "train_seconds": train_seconds,
            "vocab": len(model.wv),
        }
        words, matrix = model.wv.index_to_key, model.wv.vectors
    out["words_per_second"] = out["raw_tokens"] * epochs / out["train_seconds"]
    if evaluate:
        out.update(evaluate(list(words), matrix))
    if save:
        import embedkit

        embedkit.Vectors(list(words), matrix).save(save)
    return out


def measure(
    tool: str,
    corpus: Path,
    workers: int,
    seed: int = 1,
    evaluate: bool = True,
    epochs: int = 0,
    save: Path | None = None,
    min_count: int | None = None,
    cbow: bool = False,
) -> dict:
    """Run one training in a fresh subprocess; add its peak RSS in MB."""
    cmd = [
        sys.executable, "-m", "benchmarks.train_speed", "--one", tool, "--corpus", str(corpus),
        "--workers", str(workers), "--seed", str(seed), "--epochs", str(epochs or SETTINGS["epochs"]),
    ]  # fmt: skip
    if not evaluate:
        cmd.append("--no-eval")
    if save is not None:
        cmd += ["--save", str(save)]
    if min_count is not None:
        cmd += ["--min-count", str(min_count)]
    if cbow:
        cmd.append("--cbow")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=root, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    output = proc.stdout.read()
    proc.stdout.close()
    if status != 0:
        raise RuntimeError(f"{tool} run failed (status {status})")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result.update(tool=tool, workers=workers)
    return result


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def compare(
    corpus: Path,
    repeats: int,
    workers_list: list[int],
    gensim_workers: list[int],
    save_dir: Path | None = None,
) -> tuple[list[dict], str]:
    """Alternate embedkit and gensim runs; return raw rows and a markdown table of medians.

    gensim runs only with ``gensim_workers`` threads (its rows are the baseline); embedkit
    runs with every count in ``workers_list`` (its scaling). With ``save_dir``, the first
    run of each tool saves its vectors there as ``<tool>/`` (native format).
    """
    rows = []
    for workers in workers_list:
        for repeat in range(repeats):
            tools = ("embedkit", "gensim") if workers in gensim_workers else ("embedkit",)
            for tool in tools:
                first = repeat == 0 and workers == workers_list[0]
                save = save_dir / tool if save_dir is not None and first else None
                row = measure(tool, corpus, workers, evaluate=repeat == 0, save=save)
                row["repeat"] = repeat
                rows.append(row)
                print(json.dumps(row), flush=True)
    lines = [
        "| tool | workers | words/s (median) | vs gensim | analogy | semantic | syntactic | WS353 | SimLex "
        "| peak RSS MB | vocab s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workers in workers_list:
        for tool in ("embedkit", "gensim"):
            mine = [r for r in rows if r["tool"] == tool and r["workers"] == workers]
            if not mine:
                continue
            baseline = [r for r in rows if r["tool"] == "gensim" and r["workers"] == workers]
            first = next(r for r in mine if "analogy" in r)
            speed = _median(mine, "words_per_second")
            ratio = f"{speed / _median(baseline, 'words_per_second'):.2f}x" if baseline else "-"
            lines.append(
                f"| {tool} | {workers} | {speed:,.0f} | {ratio} | {first['analogy']:.1%} "
                f"| {first['semantic']:.1%} | {first['syntactic']:.1%} | {first['ws353']:.3f} "
                f"| {first['simlex']:.3f} | {_median(mine, 'peak_rss_mb'):,.0f} "
                f"| {_median(mine, 'vocab_seconds'):.1f} |"
            )
    if len(workers_list) > 1:
        ours = [r for r in rows if r["tool"] == "embedkit"]
        ek = {w: _median([r for r in ours if r["workers"] == w], "words_per_second") for w in workers_list}
        low, high = min(workers_list), max(workers_list)
        lines.append("")
        lines.append(f"embedkit scaling from {low} to {high} workers: {ek[high] / ek[low]:.2f}x")
    tokens = rows[0]["raw_tokens"]
    header = f"Corpus {corpus.name}: {tokens:,} tokens; settings {SETTINGS}; {repeats} repeats.\n\n"
    return rows, header + "\n".join(lines) + "\n"


def prefix_file(corpus: Path, tokens: int, times: int, out: Path) -> Path:
    """The first ``tokens`` tokens of ``corpus`` (whole lines), repeated ``times`` times."""
    lines, count = [], 0
    with open(corpus, encoding="utf-8") as stream:
        for line in stream:
            lines.append(line)
            count += len(line.split())
            if count >= tokens:
                break
    with open(out, "w", encoding="utf-8") as stream:
        for _ in range(times):
            stream.writelines(lines)
    return out


def scale(corpus: Path, sizes: list[float], times: int, scratch: Path, epochs: int) -> str:
    """Training time, throughput and peak RSS of embedkit as the corpus grows.

    The corpus repeated ``times`` times is trained with ``min_count`` multiplied by
    ``times`` too, so it has exactly the vocabulary of the corpus itself: the memory
    comparison is then about the corpus size alone, with the same weight matrices.
    """
    min_count = SETTINGS["min_count"]
    lines = [
        f"embedkit, 2 workers, {epochs} epoch(s), skip-gram dim 100, window 5, negative 5.",
        "",
        "| corpus | tokens | min_count | vocabulary | vocab + encoding s | train s | words/s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rss = {}
    runs = [
        (f"{size / 1e6:g}M prefix", prefix_file(corpus, int(size), 1, scratch / f"p{size:g}.txt"), min_count)
        for size in sizes
    ]
    runs.append(("whole corpus", corpus, min_count))
    repeated = prefix_file(corpus, 10**12, times, scratch / "times.txt")
    runs.append((f"whole corpus x {times}", repeated, min_count * times))
    for name, path, count in runs:
        row = measure("embedkit", path, 2, evaluate=False, epochs=epochs, min_count=count)
        print(json.dumps(row), flush=True)
        rss[name] = row["peak_rss_mb"]
        lines.append(
            f"| {name} | {row['raw_tokens']:,} | {count} | {row['vocab']:,} | {row['vocab_seconds']:.1f} "
            f"| {row['train_seconds']:.1f} | {row['words_per_second']:,.0f} | {row['peak_rss_mb']:,.0f} |"
        )
    growth = rss[f"whole corpus x {times}"] - rss["whole corpus"]
    lines += ["", f"Peak RSS growth from the whole corpus to {times} times it: {growth:+,.0f} MB."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument(
        "--gensim-workers", type=int, nargs="+", default=[2], help="Worker counts gensim runs with."
    )
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, nargs="*", help="Token counts for the cost curve.")
    parser.add_argument(
        "--times", type=int, default=10, help="Repeat the corpus this often for the largest run."
    )
    parser.add_argument("--one", choices=["embedkit", "gensim"], help=argparse.SUPPRESS)
    parser.add_argument("--no-eval", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    parser.add_argument("--min-count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cbow", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        evaluate = not args.no_eval
        result = run_one(
            args.one, str(args.corpus), args.workers[0], args.seed, evaluate, args.epochs, args.save,
            args.min_count, args.cbow,
        )  # fmt: skip
        print(json.dumps(result))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d")
    if args.scale is not None:
        import tempfile

        with tempfile.TemporaryDirectory(dir=args.corpus.parent) as scratch:
            table = scale(args.corpus, args.scale, args.times, Path(scratch), args.epochs)
        (RESULTS / f"train_scale-{stamp}.md").write_text(table)
    else:
        rows, table = compare(args.corpus, args.repeats, args.workers, args.gensim_workers)
        (RESULTS / f"train_speed-{stamp}.json").write_text(json.dumps(rows, indent=1))
        (RESULTS / f"train_speed-{stamp}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
