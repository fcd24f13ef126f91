"""Phrase detection and joining: embedkit's ``detect_phrases`` against gensim's ``Phrases``.

Both find the phrases of the benchmark corpus (min_count 5, threshold 100, gensim's
English connector words) and write the corpus with them joined: gensim as
``Phrases(LineSentence(corpus))`` then ``phrases[sentence]`` for every line, embedkit as
``detect_phrases(corpus, out=...)``. Each run is its own subprocess (peak RSS read with
``wait4``); the tools alternate within each repeat and the medians are compared within
this one run. Then embedkit alone: two passes, and a small ``max_vocab_size`` (memory
bounded by pruning). Last, analogy accuracy (Google analogies, 30,000 most frequent
words) of embedkit's default model, two workers, trained without phrases and after one
and two phrase passes (``train(corpus, phrases=N)``).

    python -m benchmarks.phrases_speed [--corpus FILE] [--repeats 3] [--no-analogies]

Without ``--corpus`` the benchmark corpus is built (or read from its cache) by
``corpora.build_benchmark_corpus.prepare_benchmark_corpus``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS = {"min_count": 5, "threshold": 100.0}
RESULTS = Path(__file__).parent / "results"


def run_one(tool: str, corpus: str, passes: int, max_vocab_size: int, out: str) -> dict:
    """Detect phrases and write the joined corpus once, in this process (called in a subprocess)."""
    began = time.perf_counter()
    if tool == "embedkit":
        from embedkit.text.phrases import detect_phrases

        model = detect_phrases(corpus, passes=passes, max_vocab_size=max_vocab_size, out=out, **SETTINGS)
        seconds = time.perf_counter() - began
        return {
            "seconds": seconds,
            "phrases": [len(found) for found in model.passes],
            "joined": [r.joined for r in model.reports],
            "prunes": [r.prunes for r in model.reports],
            "types": [r.word_types + r.candidate_types for r in model.reports],
        }
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
    from gensim.models.word2vec import LineSentence

    models = []
    for _ in range(passes):
        sentences = LineSentence(corpus)
        for previous in models:
            sentences = previous[sentences]
        models.append(Phrases(sentences, connector_words=ENGLISH_CONNECTOR_WORDS,
                              max_vocab_size=max_vocab_size, **SETTINGS))  # fmt: skip
    detect_seconds = time.perf_counter() - began
    with open(out, "w", encoding="utf-8") as handle:
        for sentence in LineSentence(corpus):
            for model in models:
                sentence = model[sentence]
            handle.write(" ".join(sentence) + "\n")
    return {
        "seconds": time.perf_counter() - began,
        "detect_seconds": detect_seconds,
        "phrases": [len(m.export_phrases()) for m in models[:1]],
        "types": [len(m.vocab) for m in models],
    }


def train_one(corpus: str, phrases: int) -> dict:
    """Train embedkit's default settings (two workers) and score the analogies (in a subprocess)."""
    import embedkit

    began = time.perf_counter()
    vectors = embedkit.train(corpus, workers=2, phrases=phrases, progress=False)
    seconds = time.perf_counter() - began
    result = embedkit.evaluate_analogies(vectors, restrict=30_000)
    return {
        "phrases": phrases,
        "phrases_found": vectors.meta["training"]["phrases_found"],
        "vocab": len(vectors),
        "analogy": result.accuracy,
        "semantic": result.semantic,
        "syntactic": result.syntactic,
        "answerable": result.total,
        "seconds": seconds,
    }


def _subprocess(args: list[str]) -> dict:
    """Run this module with ``args`` in a fresh process; its JSON result plus peak RSS in MB."""
    cmd = [sys.executable, "-m", "benchmarks.phrases_speed", *args]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=root, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    output = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise RuntimeError(f"{' '.join(args)} failed (status {status})")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def measure(
    tool: str, corpus: Path, scratch: Path, passes: int = 1, max_vocab_size: int = 40_000_000
) -> dict:
    """One timed run in a subprocess; the joined corpus's size is added."""
    out = scratch / f"{tool}-{passes}.txt"
    result = _subprocess(["--one", tool, "--corpus", str(corpus), "--passes", str(passes),
                          "--max-vocab-size", str(max_vocab_size), "--out", str(out)])  # fmt: skip
    result.update(tool=tool, passes=passes, max_vocab_size=max_vocab_size, out_bytes=out.stat().st_size)
    print(json.dumps(result), flush=True)
    return result


def _same_output(scratch: Path) -> bool:
    """Did embedkit and gensim write the same joined corpus (one pass)?"""
    with open(scratch / "embedkit-1.txt", "rb") as a, open(scratch / "gensim-1.txt", "rb") as b:
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="Text corpus (default: the benchmark corpus).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cap", type=int, default=1_000_000, help="Small max_vocab_size for the memory run.")
    parser.add_argument("--no-analogies", action="store_true", help="Skip the training runs.")
    parser.add_argument("--one", choices=["embedkit", "gensim"], help=argparse.SUPPRESS)
    parser.add_argument("--train", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--max-vocab-size", type=int, default=40_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, str(args.corpus), args.passes, args.max_vocab_size, args.out)))
        return
    if args.train is not None:
        print(json.dumps(train_one(str(args.corpus), args.train)))
        return
    if args.corpus is None:
        from corpora.build_benchmark_corpus import prepare_benchmark_corpus

        args.corpus = Path(prepare_benchmark_corpus())
    with open(args.corpus, "rb") as handle:
        tokens = sum(len(line.split()) for line in handle)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="phrases-bench-") as tmp:
        scratch = Path(tmp)
        for _ in range(args.repeats):
            for tool in ("embedkit", "gensim"):
                rows.append(measure(tool, args.corpus, scratch))
        same = _same_output(scratch)
        rows.append(measure("embedkit", args.corpus, scratch, passes=2))
        rows.append(measure("embedkit", args.corpus, scratch, max_vocab_size=args.cap))
    trained = []
    if not args.no_analogies:
        for phrases in (0, 1, 2):
            result = _subprocess(["--corpus", str(args.corpus), "--train", str(phrases)])
            print(json.dumps(result), flush=True)
            trained.append(result)
    table = report(args.corpus, tokens, args.repeats, rows, same, trained)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d")
    (RESULTS / f"phrases_speed-{stamp}.json").write_text(
        json.dumps({"runs": rows, "training": trained}, indent=1)
    )
    (RESULTS / f"phrases_speed-{stamp}.md").write_text(table)
    print(table)


def report(corpus: Path, tokens: int, repeats: int, rows: list[dict], same: bool, trained: list[dict]) -> str:
    """The Markdown table of the results."""
    lines = [
        f"Corpus {corpus.name}: {tokens:,} tokens; min_count {SETTINGS['min_count']}, threshold "
        f"{SETTINGS['threshold']:g}, gensim's English connector words; medians of {repeats} repeats "
        "(detection + writing the joined corpus, wall seconds, each run in its own process).",
        "",
        "| tool | passes | max_vocab_size | seconds (median) | vs gensim | phrases | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    main_rows = [r for r in rows if r["passes"] == 1 and r["max_vocab_size"] == 40_000_000]
    gensim = statistics.median(r["seconds"] for r in main_rows if r["tool"] == "gensim")
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["tool"], r["passes"], r["max_vocab_size"]), []).append(r)
    for (tool, passes, cap_used), group in groups.items():
        seconds = statistics.median(r["seconds"] for r in group)
        rss = statistics.median(r["peak_rss_mb"] for r in group)
        found = "+".join(str(n) for n in group[0]["phrases"])
        prunes = sum(group[0].get("prunes", [])) if tool == "embedkit" else 0
        cap_text = f"{cap_used:,}" + (f" ({prunes} prunes)" if prunes else "")
        ratio = f"{gensim / seconds:.2f}x" if passes == 1 and cap_used == 40_000_000 else "-"
        lines.append(f"| {tool} | {passes} | {cap_text} | {seconds:.1f} | {ratio} | {found} | {rss:,.0f} |")
    lines += ["", f"Joined corpus identical to gensim's (one pass): {'yes' if same else 'NO'}."]
    if trained:
        lines += [
            "",
            "Analogy accuracy (Google analogies, 30,000 most frequent words) of embedkit's default "
            "settings, two workers, trained on the corpus as it is and after phrase passes:",
            "",
            "| phrase passes | phrases | vocabulary | analogy | semantic | syntactic | answerable "
            "| seconds |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for t in trained:
            lines.append(
                f"| {t['phrases']} | {t['phrases_found']:,} | {t['vocab']:,} | {t['analogy']:.1%} | "
                f"{t['semantic']:.1%} | {t['syntactic']:.1%} | {t['answerable']:,} | {t['seconds']:.0f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
