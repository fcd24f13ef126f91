"""Reading and writing word-vector files: embedkit against gensim, same files, same run.

Generates WORDS random unique words (varied length, some non-ASCII UTF-8) with DIM float32
values each, then times, alternating embedkit and gensim within each repeat:

* word2vec binary: ``Vectors.save_word2vec(binary=True)`` against
  ``KeyedVectors.save_word2vec_format(binary=True)`` (the two files must be
  byte-identical) and ``embedkit.load`` against ``KeyedVectors.load_word2vec_format``;
* word2vec text, the same way, on the first TEXT_WORDS words (gensim formats every float
  in Python, so the full size would take many minutes);
* embedkit's native folder: save, load, and load with ``mmap=True`` (for information).

Every loaded file is checked against the generated words and vectors. Files are read
back right after being written, so they are in the page cache for both tools. Medians
over the repeats; ratios are taken within this one run. The table goes to
``benchmarks/results/format_speed-DATE.md`` (and ``.json``).

    python -m benchmarks.format_speed [--words 1000000] [--dim 300] [--repeats 3]
                                      [--text-words 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import filecmp
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
_ASCII = "abcdefghijklmnopqrstuvwxyz"
_EXTRA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-'0123456789"
_NON_ASCII = "éèàüöäßñçøåœжиаяб中文字日本語한국ü"


def make_words(count: int, seed: int = 0) -> list[str]:
    """``count`` unique word-like strings: 1 to 25 characters, mostly lowercase, some
    capitals, digits and phrases joined by ``_``, about 5% with non-ASCII letters."""
    rng = np.random.default_rng(seed)
    draws = 2 * count
    lengths = np.clip(1 + rng.geometric(1 / 7, size=draws), 1, 25)
    letters = rng.integers(0, 26, size=(draws, 25), dtype=np.uint8)
    kind = rng.random(draws)
    where = rng.integers(0, 1 << 30, size=(draws, 2))
    words: list[str] = []
    seen: set[str] = set()
    for i in range(draws):
        n = int(lengths[i])
        chars = [_ASCII[x] for x in letters[i, :n].tolist()]
        spot, pick = int(where[i, 0]) % n, int(where[i, 1])
        if kind[i] < 0.05:
            chars[spot] = _NON_ASCII[pick % len(_NON_ASCII)]
        elif kind[i] < 0.20:
            chars[spot] = _EXTRA[pick % len(_EXTRA)]
        word = "".join(chars)
        if word not in seen:
            seen.add(word)
            words.append(word)
            if len(words) == count:
                return words
    raise RuntimeError("could not draw enough unique words")  # pragma: no cover


def _timed(fn: Callable[[], object]) -> tuple[tuple[float, float], object]:
    """((wall seconds, CPU seconds of this process, all threads), what ``fn`` returned)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - start, time.process_time() - cpu), result


def _check(name: str, words: list[str], matrix: np.ndarray, got_words: list[str], got: np.ndarray) -> None:
    if list(got_words) != words:
        raise SystemExit(f"{name}: loaded words differ from the written ones")
    if not np.array_equal(np.asarray(got), matrix):
        raise SystemExit(f"{name}: loaded vectors differ from the written ones")


def _same_files(a: Path, b: Path, name: str) -> None:
    if not filecmp.cmp(a, b, shallow=False):
        raise SystemExit(f"{name}: embedkit's and gensim's files differ")


def run(words_n: int, dim: int, repeats: int, text_words: int, workdir: Path) -> tuple[list[dict], str]:
    """Measure everything; return the rows and the markdown table."""
    from gensim.models import KeyedVectors

    import embedkit

    t0 = time.perf_counter()
    words = make_words(words_n)
    matrix = (np.random.default_rng(1).standard_normal((words_n, dim), dtype=np.float32) * 0.1).astype(
        np.float32
    )
    vectors = embedkit.Vectors(words, matrix)
    kv = KeyedVectors(vector_size=dim)
    kv.add_vectors(words, matrix)
    small_n = min(text_words, words_n)
    small = embedkit.Vectors(words[:small_n], matrix[:small_n])
    small_kv = KeyedVectors(vector_size=dim)
    small_kv.add_vectors(words[:small_n], matrix[:small_n])
    non_ascii = sum(not w.isascii() for w in words)
    took = time.perf_counter() - t0
    print(f"generated {words_n:,} words x {dim} ({non_ascii:,} non-ASCII) in {took:.1f} s")

    times: dict[str, dict[str, list[float]]] = {}
    cpu_times: dict[str, dict[str, list[float]]] = {}
    load_before = os.getloadavg()[0]

    def record(op: str, tool: str, timing: tuple[float, float]) -> None:
        times.setdefault(op, {}).setdefault(tool, []).append(timing[0])
        cpu_times.setdefault(op, {}).setdefault(tool, []).append(timing[1])
        print(f"  {op:<28} {tool:<9} {timing[0]:8.2f} s  (CPU {timing[1]:.2f} s)", flush=True)

    ek_bin, gs_bin = workdir / "embedkit.bin", workdir / "gensim.bin"
    ek_txt, gs_txt = workdir / "embedkit.txt", workdir / "gensim.txt"
    native = workdir / "native"
    for repeat in range(repeats):
        print(f"repeat {repeat + 1} of {repeats}")
        # --- word2vec binary
        record("write binary", "embedkit", _timed(lambda: vectors.save_word2vec(ek_bin, binary=True))[0])
        record("write binary", "gensim", _timed(lambda: kv.save_word2vec_format(str(gs_bin), binary=True))[0])
        _same_files(ek_bin, gs_bin, "binary")
        gs_bin.unlink()
        timing, loaded = _timed(lambda: embedkit.load(ek_bin))
        record("read binary", "embedkit", timing)
        _check("embedkit binary", words, matrix, loaded.words, loaded.vectors)
        del loaded
        timing, loaded = _timed(lambda: KeyedVectors.load_word2vec_format(str(ek_bin), binary=True))
        record("read binary", "gensim", timing)
        _check("gensim binary", words, matrix, loaded.index_to_key, loaded.vectors)
        del loaded
        # --- native folder (embedkit only)
        record("write native", "embedkit", _timed(lambda: vectors.save(native))[0])
        timing, loaded = _timed(lambda: embedkit.load(native))
        record("read native", "embedkit", timing)
        _check("native", words, matrix, loaded.words, loaded.vectors)
        del loaded
        timing, loaded = _timed(lambda: embedkit.load(native, mmap=True))
        record("read native, mmap=True", "embedkit", timing)
        assert isinstance(loaded.vectors, np.memmap)
        _check("native mmap", words, matrix, loaded.words, loaded.vectors)
        del loaded
        # --- word2vec text (a prefix)
        if small_n == 0:
            continue  # --text-words 0: no text
        op = f"write text ({small_n:,} words)"
        record(op, "embedkit", _timed(lambda: small.save_word2vec(ek_txt, binary=False))[0])
        record(op, "gensim", _timed(lambda: small_kv.save_word2vec_format(str(gs_txt), binary=False))[0])
        _same_files(ek_txt, gs_txt, "text")
        gs_txt.unlink()
        op = f"read text ({small_n:,} words)"
        timing, loaded = _timed(lambda: embedkit.load(ek_txt))
        record(op, "embedkit", timing)
        _check("embedkit text", small.words, small.vectors, loaded.words, loaded.vectors)
        del loaded
        timing, loaded = _timed(lambda: KeyedVectors.load_word2vec_format(str(ek_txt), binary=False))
        record(op, "gensim", timing)
        _check("gensim text", small.words, small.vectors, loaded.index_to_key, loaded.vectors)
        del loaded
    for path in (ek_bin, ek_txt):
        path.unlink(missing_ok=True)
    shutil.rmtree(native, ignore_errors=True)

    rows = []
    for op, by_tool in times.items():
        row: dict = {"operation": op, "runs": by_tool, "cpu_runs": cpu_times[op]}
        for tool in ("embedkit", "gensim"):
            row[f"{tool}_s"] = statistics.median(by_tool[tool]) if tool in by_tool else None
            row[f"{tool}_cpu_s"] = statistics.median(cpu_times[op][tool]) if tool in by_tool else None
        rows.append(row)
    lines = [
        f"{words_n:,} words x {dim} dims (float32), {non_ascii:,} words with non-ASCII UTF-8; "
        f"text rows: the first {small_n:,} words; median of {repeats} repeats, seconds. "
        f"Load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"({os.cpu_count()} CPUs); CPU = seconds of CPU time of the process (all threads).",
        "",
        "| operation | embedkit | gensim | embedkit speed-up | CPU embedkit | CPU gensim |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        theirs, cpu_theirs = row["gensim_s"], row["gensim_cpu_s"]
        ratio = "" if theirs is None else f"{theirs / row['embedkit_s']:.1f}x"
        gensim_cell = "—" if theirs is None else f"{theirs:.2f}"
        gensim_cpu = "—" if cpu_theirs is None else f"{cpu_theirs:.2f}"
        lines.append(
            f"| {row['operation']} | {row['embedkit_s']:.2f} | {gensim_cell} | {ratio} "
            f"| {row['embedkit_cpu_s']:.2f} | {gensim_cpu} |"
        )
    return rows, "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text-words", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="Folder for the temporary files (default: a temp dir).")
    args = parser.parse_args()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="format_speed.") as scratch:
        rows, table = run(args.words, args.dim, args.repeats, args.text_words, Path(scratch))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d")
    (RESULTS / f"format_speed-{stamp}.json").write_text(json.dumps(rows, indent=1))
    (RESULTS / f"format_speed-{stamp}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
