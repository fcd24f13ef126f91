"""Roofline of word2vec training on this machine: the work per word, the machine's peaks,
and where each trainer sits.

(a) Arithmetic per *raw* corpus word, from the corpus itself: the fraction of tokens in the
vocabulary (``min_count``), the fraction kept by subsampling (word2vec's formula,
:func:`embedkit.training.kernels.make_keep_thresholds`), and the mean number of contexts per
kept centre word under the dynamic window (``b`` uniform in 1..window) and line ends,
simulated on (up to ``SAMPLE_TOKENS`` of) the corpus. Per kept centre word, with
``T = 1 + negative`` targets and ``C`` contexts, ``d`` = dim:

* skip-gram (targets shared by ``share_negatives`` contexts, 0 = the whole window): every
  (context, target) pair costs a dot (2d), the context's gradient (2d) and the target's
  update (2d), plus d to apply each context's gradient: ``C * (6 d T + d)`` flops. Bytes:
  each context row read and written, each distinct target row read and written once
  (``1 + negative * ceil(C / share)`` of them).
* CBOW: the mean of the contexts (C d), T dots, gradients and updates (6 d T), the gradient
  added back to every context (C d): ``2 C d + 6 d T`` flops; each context and target row
  read and written once.

(b) The machine's peaks, measured in this run: numpy/OpenBLAS sgemm (1 and 2 threads), a
numba small GEMM of the kernel's shape (C x d) . (d x T), memory bandwidth (numpy copy),
random-row gathers from a 70k x 100 float32 matrix (the latency side), and a plain read of
the corpus file.

(c) Each trainer's training words/s turned into GFLOP/s and fractions of the peaks
(the single-thread peaks times the trainers' thread count).

    python -m benchmarks.roofline [--corpus FILE] [--results benchmarks/results/DATE.json]
    python -m benchmarks.roofline --results benchmarks/results/DATE.json --readme

``--readme`` rewrites the table between the roofline markers of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
from numba import njit

SAMPLE_TOKENS = 2_000_000
README = Path(__file__).parent / "README.md"
FRESH = "sg (fresh negatives per pair)"
BEGIN, END = "<!-- roofline:begin -->", "<!-- roofline:end -->"


def corpus_statistics(corpus: Path, settings: dict, seed: int = 0) -> dict:
    """In-vocabulary and kept fractions, and mean contexts per kept centre word."""
    from embedkit.training.kernels import make_keep_thresholds

    counts: Counter[str] = Counter()
    with open(corpus, encoding="utf-8") as stream:
        for line in stream:
            counts.update(line.split())
    raw = sum(counts.values())
    vocab = {w: c for w, c in counts.items() if c >= settings["min_count"]}
    words = list(vocab)
    freq = np.array([vocab[w] for w in words], dtype=np.int64)
    keep = np.minimum(make_keep_thresholds(freq, settings["sample"]) / 2**32, 1.0)
    keep_of = dict(zip(words, keep))
    rng = np.random.default_rng(seed)
    window = settings["window"]
    kept = contexts = seen = 0
    with open(corpus, encoding="utf-8") as stream:
        for line in stream:
            probs = np.array([keep_of[w] for w in line.split() if w in keep_of])
            seen += len(probs)
            n = int((rng.random(len(probs)) < probs).sum())
            if n:
                pos = np.arange(n)
                b = rng.integers(1, window + 1, n)
                contexts += int((np.minimum(pos, b) + np.minimum(n - 1 - pos, b)).sum())
                kept += n
            if seen >= SAMPLE_TOKENS:
                break
    return {
        "raw_tokens": raw,
        "vocabulary": len(vocab),
        "in_vocab_fraction": float(freq.sum() / raw),
        "kept_fraction": kept / seen,
        "contexts_per_kept_word": contexts / max(kept, 1),
        "sampled_tokens": seen,
    }


def work_per_word(stats: dict, settings: dict, cbow: bool, share_negatives: int = 0) -> dict:
    """Flops and bytes per kept centre word and per raw corpus word."""
    d, targets = settings["dim"], 1 + settings["negative"]
    c = stats["contexts_per_kept_word"]
    if cbow:
        flops = 2 * c * d + 6 * d * targets
        rows = c + targets
    else:
        flops = c * (6 * d * targets + d)
        draws = math.ceil(c / share_negatives) if share_negatives else 1
        rows = c + 1 + settings["negative"] * draws
    per_raw = stats["in_vocab_fraction"] * stats["kept_fraction"]
    return {
        "flops_per_kept_word": flops,
        "bytes_per_kept_word": rows * d * 4 * 2,
        "rows_per_kept_word": rows,
        "flops_per_raw_word": flops * per_raw,
        "bytes_per_raw_word": rows * d * 4 * 2 * per_raw,
        "rows_per_raw_word": rows * per_raw,
    }


def _best(func, repeats: int = 3) -> float:
    """Best wall seconds of ``func()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return min(times)


def sgemm_gflops(threads: int, n: int = 2000) -> float:
    """numpy (OpenBLAS) float32 n x n matmul GFLOP/s with ``threads`` BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds = _best(lambda: a @ b)
    return 2 * n**3 / seconds / 1e9


@njit(cache=True, nogil=True, fastmath=True)  # as the training kernels: the reduction vectorises
def _small_gemm(matrix: np.ndarray, rows: np.ndarray, contexts: int, targets: int, out: np.ndarray) -> None:
    """For each block of ``contexts + targets`` row indices: all (context, target) dots."""
    d = matrix.shape[1]
    step = contexts + targets
    for start in range(0, rows.shape[0] - step + 1, step):
        for i in range(contexts):
            ci = rows[start + i]
            for j in range(targets):
                tj = rows[start + contexts + j]
                acc = np.float32(0.0)
                for k in range(d):
                    acc += matrix[ci, k] * matrix[tj, k]
                out[i, j] += acc


def small_gemm_gflops(dim: int = 100, contexts: int = 6, targets: int = 6) -> float:
    """One thread, numba: (contexts x dim) . (dim x targets) on rows of a cache-resident matrix."""
    rng = np.random.default_rng(0)
    matrix = rng.random((512, dim), dtype=np.float32)
    blocks = 200_000
    rows = rng.integers(0, 512, blocks * (contexts + targets)).astype(np.int64)
    out = np.zeros((contexts, targets), dtype=np.float32)
    _small_gemm(matrix, rows[: contexts + targets], contexts, targets, out)  # compile
    seconds = _best(lambda: _small_gemm(matrix, rows, contexts, targets, out))
    return 2 * contexts * targets * dim * blocks / seconds / 1e9


def copy_bandwidth(megabytes: int = 256) -> float:
    """GB/s of a numpy copy of a large float32 array (bytes read + written)."""
    a = np.ones(megabytes * 2**20 // 4, dtype=np.float32)
    b = np.empty_like(a)
    seconds = _best(lambda: np.copyto(b, a))
    return 2 * a.nbytes / seconds / 1e9


@njit(cache=True, nogil=True)
def _gather(matrix: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    for r in rows:
        for k in range(matrix.shape[1]):
            out[k] += matrix[r, k]


def gather_rate(words: int = 70_000, dim: int = 100, count: int = 2_000_000) -> float:
    """Random rows (400 bytes each) summed per second, one thread, numba."""
    rng = np.random.default_rng(0)
    matrix = rng.random((words, dim), dtype=np.float32)
    rows = rng.integers(0, words, count).astype(np.int64)
    out = np.zeros(dim, dtype=np.float32)
    _gather(matrix, rows[:10], out)  # compile
    return count / _best(lambda: _gather(matrix, rows, out))


def file_read(corpus: Path, tokens: int) -> dict:
    """GB/s and tokens/s of reading the corpus file (from the page cache after the first pass)."""
    size = corpus.stat().st_size

    def read() -> None:
        with open(corpus, "rb") as stream:
            while stream.read(1 << 24):
                pass

    seconds = _best(read)
    return {"gb_per_second": size / seconds / 1e9, "tokens_per_second": tokens / seconds}


def machine_peaks(corpus: Path, tokens: int) -> dict:
    """Every peak the roofline compares against."""
    return {
        "sgemm_gflops_1": sgemm_gflops(1),
        "sgemm_gflops_2": sgemm_gflops(2),
        "small_gemm_gflops_1": small_gemm_gflops(),
        "copy_gb_per_second_1": copy_bandwidth(),
        "gather_rows_per_second_1": gather_rate(),
        "file_read": file_read(corpus, tokens),
    }


def placement(rows: list[dict], work: dict, peaks: dict) -> list[dict]:
    """Each trainer and mode: median training words/s as GFLOP/s and fractions of the peaks."""
    placed = []
    for mode in dict.fromkeys(r["mode"] for r in rows):
        for tool in dict.fromkeys(r["tool"] for r in rows):
            mine = [r for r in rows if r["mode"] == mode and r["tool"] == tool]
            if not mine:
                continue
            speed = statistics.median(r["words_per_second"] for r in mine)
            threads = mine[0].get("workers", 2)
            # embedkit shares one draw of noise words across the window; the peers draw per pair
            fresh = mode == "sg" and tool != "embedkit" and FRESH in work
            w = work[FRESH if fresh else mode]
            gflops = speed * w["flops_per_raw_word"] / 1e9
            placed.append({
                "tool": tool, "mode": mode, "words_per_second": speed, "gflops": gflops,
                "of_small_gemm": gflops / (peaks["small_gemm_gflops_1"] * threads),
                "of_sgemm": gflops / peaks[f"sgemm_gflops_{min(threads, 2)}"],
                "gb_per_second": speed * w["bytes_per_raw_word"] / 1e9,
                "of_gather": speed * w["rows_per_raw_word"] / (peaks["gather_rows_per_second_1"] * threads),
            })  # fmt: skip
    return placed


def markdown(result: dict) -> str:
    """The roofline as markdown tables."""
    s, p = result["corpus_statistics"], result["peaks"]
    lines = [
        f"Roofline (corpus {s['raw_tokens']:,} tokens, vocabulary {s['vocabulary']:,}: "
        f"{s['in_vocab_fraction']:.1%} of tokens in the vocabulary, {s['kept_fraction']:.1%} of those kept "
        f"by subsampling, {s['contexts_per_kept_word']:.2f} contexts per kept word).",
        "",
        "| mode | flops / kept word | flops / raw word | bytes / raw word | rows / raw word |",
        "|---|---|---|---|---|",
    ]
    for mode, w in result["work"].items():
        lines.append(
            f"| {mode} | {w['flops_per_kept_word']:,.0f} | {w['flops_per_raw_word']:,.0f} "
            f"| {w['bytes_per_raw_word']:,.0f} | {w['rows_per_raw_word']:.1f} |"
        )
    lines += [
        "",
        "| peak (measured) | value |",
        "|---|---|",
        f"| sgemm 2000², 1 thread | {p['sgemm_gflops_1']:.1f} GFLOP/s |",
        f"| sgemm 2000², 2 threads | {p['sgemm_gflops_2']:.1f} GFLOP/s |",
        f"| small GEMM (6×100)·(100×6), numba, 1 thread | {p['small_gemm_gflops_1']:.1f} GFLOP/s |",
        f"| memory copy, 1 thread | {p['copy_gb_per_second_1']:.1f} GB/s |",
        f"| random 400-byte row gathers (70k×100), 1 thread "
        f"| {p['gather_rows_per_second_1'] / 1e6:.1f} M rows/s |",
        f"| corpus file read | {p['file_read']['gb_per_second']:.2f} GB/s, "
        f"{p['file_read']['tokens_per_second'] / 1e6:.0f} M tokens/s |",
    ]
    if result.get("placement"):
        lines += [
            "",
            "| trainer | mode | words/s | GFLOP/s | of small GEMM × threads | of sgemm | GB/s (rows) "
            "| of gather rate × threads |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in result["placement"]:
            lines.append(
                f"| {r['tool']} | {r['mode']} | {r['words_per_second']:,.0f} | {r['gflops']:.2f} "
                f"| {r['of_small_gemm']:.0%} | {r['of_sgemm']:.0%} | {r['gb_per_second']:.2f} "
                f"| {r['of_gather']:.0%} |"
            )
    return "\n".join(lines) + "\n"


def _assemble(stats: dict, settings: dict, peaks: dict, rows: list[dict]) -> dict:
    work = {
        "sg": work_per_word(stats, settings, False),
        FRESH: work_per_word(stats, settings, False, share_negatives=1),
        "cbow": work_per_word(stats, settings, True),
    }
    result = {
        "corpus_statistics": stats,
        "settings": settings,
        "work": work,
        "peaks": peaks,
        "placement": placement(rows, work, peaks),
    }
    result["markdown"] = markdown(result)
    return result


def from_run(data: dict) -> dict:
    """The roofline of a ``benchmarks.run`` results JSON, from the statistics and peaks
    measured in that run (no new measurement)."""
    old = data["roofline"]
    return _assemble(old["corpus_statistics"], old["settings"], old["peaks"], data["training_runs"])


def measure(corpus: Path, rows: list[dict] | None = None, settings: dict | None = None) -> dict:
    """The whole roofline for ``corpus`` and (optionally) the trainers' ``rows``."""
    from benchmarks import train_speed

    settings = settings or train_speed.SETTINGS
    stats = corpus_statistics(corpus, settings)
    return _assemble(stats, settings, machine_peaks(corpus, stats["raw_tokens"]), rows or [])


def update_readme(text: str, readme: Path = README) -> None:
    """Replace the text between the roofline markers of ``readme`` (temp file, then rename)."""
    current = readme.read_text()
    if BEGIN not in current or END not in current:
        raise SystemExit(f"{readme} has no {BEGIN} ... {END} markers")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    partial = readme.with_suffix(".md.tmp")
    partial.write_text(f"{head}{BEGIN}\n{text.strip()}\n{END}{tail}")
    partial.replace(readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="Default: the benchmark corpus.")
    parser.add_argument("--results", type=Path, help="A benchmarks.run results JSON: place its trainers.")
    parser.add_argument("--readme", action="store_true", help="Write the tables into benchmarks/README.md.")
    args = parser.parse_args()
    if args.results and args.corpus is None:
        data = json.loads(args.results.read_text())
        if "roofline" in data:  # measured in that run: its statistics and peaks, placed again
            text = from_run(data)["markdown"]
            print(text)
            if args.readme:
                update_readme(f"From `results/{args.results.name}`:\n\n{text}")
            return
    if args.corpus is None:
        from corpora.build_benchmark_corpus import prepare_benchmark_corpus

        args.corpus = prepare_benchmark_corpus()
    rows = json.loads(args.results.read_text())["training_runs"] if args.results else None
    result = measure(args.corpus, rows)
    print(result["markdown"])
    if args.readme:
        update_readme(result["markdown"])


if __name__ == "__main__":
    main()
