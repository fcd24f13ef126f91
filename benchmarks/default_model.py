"""Is the default model's headline answer robust, and is it as good as gensim's?

Trains embedkit and gensim on the shipped default corpus with the default settings
(``embedkit.default.default_settings()``) for several seeds, one after the other in one
run, and reports for each: the top answers to ``madrid - spain + france``, accuracy on
the capital sections of Google's ``questions-words.txt`` (30,000 most frequent words),
overall analogy accuracy, WordSim-353 Spearman and training time.

    python -m benchmarks.default_model --seeds 1 2 3 [--out benchmarks/results/default_model.md]
"""

from __future__ import annotations

import argparse
import lzma
import shutil
import tempfile
from pathlib import Path

import embedkit
from benchmarks.train_speed import train_gensim
from embedkit.default import default_corpus_path, default_settings
from embedkit.vectors.evaluation import evaluate_analogies, evaluate_similarity

SETTINGS = default_settings().as_dict()
"""The default model's full settings."""
CAPITALS = ("capital-common-countries", "capital-world")


def _gensim_vectors(corpus: Path, seed: int, workers: int) -> tuple[embedkit.Vectors, float]:
    model, _, seconds = train_gensim(corpus, SETTINGS, workers, seed)
    return embedkit.Vectors(model.wv.index_to_key, model.wv.vectors), seconds


def _row(tool: str, seed: int, vectors: embedkit.Vectors, seconds: float) -> dict:
    top = vectors.analogy("spain", "madrid", "france", k=3)
    result = evaluate_analogies(vectors, restrict=30_000)
    capitals = [result.sections.get(name, (0, 0)) for name in CAPITALS]
    return {
        "tool": tool,
        "seed": seed,
        "top": ", ".join(f"{w} {s:.3f}" for w, s in top),
        "paris_first": top[0][0] == "paris",
        **{name: f"{c / t:.1%} ({c}/{t})" if t else "-" for name, (c, t) in zip(CAPITALS, capitals)},
        "capital_correct": sum(c for c, _ in capitals),
        "overall": f"{result.accuracy:.1%}",
        "ws353": f"{evaluate_similarity(vectors).spearman:.3f}",
        "seconds": f"{seconds:.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--workers", type=int, default=SETTINGS["workers"])
    parser.add_argument("--no-gensim", action="store_true", help="Only train embedkit.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "default_model.md")
    args = parser.parse_args()

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "corpus.txt"
        with lzma.open(default_corpus_path()) as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst)
        for seed in args.seeds:
            settings = {**SETTINGS, "seed": seed, "workers": args.workers}
            vectors = embedkit.train(plain, progress=False, **settings)
            rows.append(_row("embedkit", seed, vectors, vectors.meta["training"]["train_seconds"]))
            _report(rows, args.workers, args.out)
            if not args.no_gensim:
                vectors, seconds = _gensim_vectors(plain, seed, args.workers)
                rows.append(_row("gensim", seed, vectors, seconds))
                _report(rows, args.workers, args.out)
    print(markdown_table(rows, args.workers))


def markdown_table(rows: list[dict], workers: int) -> str:
    """The rows measured so far as a markdown table, settings in its caption."""
    settings = ", ".join(f"{k} {v}" for k, v in SETTINGS.items() if k not in ("seed", "workers"))
    lines = [
        f"Default corpus, skip-gram, {settings}, {workers} worker(s).",
        "",
        "| tool | seed | madrid - spain + france (top 3) | capital-common-countries | capital-world "
        "| overall (30k) | WS353 | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['tool']} | {r['seed']} | {r['top']} | {r[CAPITALS[0]]} | {r[CAPITALS[1]]} "
            f"| {r['overall']} | {r['ws353']} | {r['seconds']} |"
        )
    return "\n".join(lines) + "\n"


def _report(rows: list[dict], workers: int, out: Path) -> None:
    """Print the newest row and rewrite the table, so an interrupted run keeps its rows."""
    print(rows[-1], flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown_table(rows, workers))


if __name__ == "__main__":
    main()
