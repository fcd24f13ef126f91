"""Query speed: batched exact analogies against gensim, HNSW against exact search, growth with vocabulary.

    python -m benchmarks.query_speed                  # all three parts (about 30 minutes on 2 cores)
    python -m benchmarks.query_speed --parts 1 --repeats 3
    python -m benchmarks.query_speed --parts 2 3 --workdir DIR   # the 1M model and its HNSW index kept in DIR

1. 10,000 analogy queries (3CosAdd, k = 10) over a 100k-word, 100-dim space: embedkit's
   ``analogy_batch`` on the exact index against a loop of gensim's ``most_similar`` on the
   same vectors; every answer compared; throughput ratio.
2. A 1M-word, 100-dim space: HNSW build time and index size; recall@10 of single-word
   ``most_similar`` against exact search; single-query throughput of both, for several
   ``ef_search`` values.
3. Single-query time against vocabulary size (10k, 100k, 1M) for exact and HNSW: a markdown
   table and a PNG plot.

The spaces are synthetic but shaped like trained embeddings, not uniform noise (on which
HNSW recall is meaningless): words belong to fine clusters of Zipf-distributed sizes inside
coarser topics, the variance decays over the dimensions as in the PCA spectrum of trained
vectors, all vectors share an offset (trained spaces are anisotropic), and the noise is set
so that a word's nearest neighbour has cosine about 0.69, its 10th about 0.64 and random
pairs 0.06 ± 0.21, as in word2vec models of this size. The statistics are measured and
reported. Smaller spaces are the most frequent words of the 1M space. Times are medians over
``--repeats`` runs (chunks of queries for the loops); ratios are taken within one run.
Results: ``benchmarks/results/query_speed-DATE.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import embedkit
from embedkit import Vectors

RESULTS = Path(__file__).parent / "results"
DIM = 100


def embedding_like_space(size: int, dim: int = DIM, seed: int = 1, noise: float = 2.0) -> np.ndarray:
    """Clustered vectors with a decaying spectrum and a shared offset (see the module docstring)."""
    rng = np.random.default_rng(seed)
    spectrum = (np.arange(1, dim + 1) ** -0.5).astype(np.float32)
    topics, clusters = max(20, size // 5000), max(50, size // 50)
    topic_centres = rng.normal(size=(topics, dim)).astype(np.float32) * spectrum
    centres = topic_centres[rng.integers(topics, size=clusters)]
    centres += 0.8 * rng.normal(size=(clusters, dim)).astype(np.float32) * spectrum
    weights = 1.0 / (np.arange(clusters) + 10.0)
    members = rng.choice(clusters, size, p=weights / weights.sum())
    offset = 0.6 * spectrum.mean() * rng.normal(size=dim).astype(np.float32)
    rotation, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    rotation = rotation.astype(np.float32)
    out = np.empty((size, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, size, step):
        part = members[start : start + step]
        noise_part = noise * rng.normal(size=(len(part), dim)).astype(np.float32) * spectrum
        out[start : start + step] = (centres[part] + noise_part + offset) @ rotation
    return out


def space_statistics(vectors: Vectors, queries: int = 500) -> dict:
    """Mean cosine of the 1st and 10th neighbours and of random pairs: how the space is shaped."""
    rng = np.random.default_rng(0)
    words = [vectors.words[i] for i in rng.integers(0, len(vectors), queries)]
    answers = vectors.most_similar_batch(words, k=10, index="exact")
    unit = vectors.unit_vectors
    left, right = rng.integers(0, len(vectors), (2, 5000))
    pairs = np.einsum("ij,ij->i", unit[left], unit[right])
    return {
        "top1_cosine": float(np.mean([a[0][1] for a in answers])),
        "top10_cosine": float(np.mean([a[9][1] for a in answers])),
        "random_pair_cosine": float(pairs.mean()),
        "random_pair_std": float(pairs.std()),
    }


def timed(function, *args, **kwargs) -> tuple[float, object]:
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - began, result


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def part_batched_analogies(vectors: Vectors, queries: int, repeats: int) -> dict:
    """Part 1: batched exact embedkit against gensim's most_similar loop, same answers."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(2)
    pool = min(len(vectors), 30_000)  # analogy questions use frequent words
    triples = []
    while len(triples) < queries:
        a, b, c = rng.choice(pool, 3, replace=False)
        triples.append((vectors.words[a], vectors.words[b], vectors.words[c]))
    vectors.build_index("exact")
    vectors.analogy_batch(triples[:100])  # warm-up
    by_threads = {}
    for threads in sorted({1, embedkit.get_threads()}):
        embedkit.set_threads(threads)
        times = []
        for _ in range(repeats):
            seconds, ours = timed(vectors.analogy_batch, triples, 10, index="exact")
            times.append(seconds)
        by_threads[threads] = statistics.median(times)
        log(f"part 1: embedkit batched, {threads} threads: {by_threads[threads]:.2f} s")
    embedkit.set_threads(1)
    mul_queries = triples[: min(2000, queries)]
    mul_seconds, _ = timed(vectors.analogy_batch, mul_queries, 10, method="mul", index="exact")
    embedkit.set_threads(None)
    best_threads = min(by_threads, key=by_threads.get)

    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words, np.asarray(vectors.vectors))
    kv.fill_norms()
    chunks = max(repeats, 5)
    size = -(-queries // chunks)
    theirs: list = []
    gensim_times = []
    for start in range(0, queries, size):
        chunk = triples[start : start + size]
        began = time.perf_counter()
        theirs.extend(kv.most_similar(positive=[b, c], negative=[a], topn=10) for a, b, c in chunk)
        gensim_times.append((time.perf_counter() - began) / len(chunk))
    same_words = sum([w for w, _ in o] == [w for w, _ in t] for o, t in zip(ours, theirs))
    differing = [
        {"query": list(q), "embedkit": o, "gensim": [(w, float(s)) for w, s in t]}
        for q, o, t in zip(triples, ours, theirs)
        if [w for w, _ in o] != [w for w, _ in t]
    ]
    # a difference is a tie when both lists hold the same cosines (to float32 rounding) in the same order
    ties = sum(
        np.allclose([s for _, s in d["embedkit"]], [s for _, s in d["gensim"]], atol=1e-6) for d in differing
    )
    max_diff = max(abs(so - st) for o, t in zip(ours, theirs) for (_, so), (_, st) in zip(o, t))
    ours_qps = queries / by_threads[best_threads]
    gensim_qps = 1 / statistics.median(gensim_times)
    return {
        "words": len(vectors),
        "queries": queries,
        "embedkit_batched_seconds_by_threads": by_threads,
        "embedkit_threads": best_threads,
        "embedkit_queries_per_s": ours_qps,
        "embedkit_3cosmul_batched_queries_per_s": len(mul_queries) / mul_seconds,
        "gensim_loop_seconds": sum(gensim_times) * size,
        "gensim_queries_per_s": gensim_qps,
        "speedup": ours_qps / gensim_qps,
        "identical_top10_words": same_words,
        "differing_by_near_ties": int(ties),
        "differing": differing[:20],
        "max_cosine_difference": max_diff,
    }


def single_query_seconds(vectors: Vectors, words: list[str], index: str, repeats: int) -> float:
    """Median seconds per single ``most_similar`` call (median over ``repeats`` chunks of ``words``)."""
    size = max(1, len(words) // repeats)
    per_query = []
    for start in range(0, size * repeats, size):
        chunk = words[start : start + size]
        began = time.perf_counter()
        for word in chunk:
            vectors.most_similar(word, k=10, index=index)
        per_query.append((time.perf_counter() - began) / len(chunk))
    return statistics.median(per_query)


def recall_at_10(vectors: Vectors, words: list[str], exact: list) -> float:
    approx = vectors.most_similar_batch(words, k=10, index="hnsw")
    return float(np.mean([len({w for w, _ in e} & {w for w, _ in a}) / 10 for e, a in zip(exact, approx)]))


def part_hnsw(vectors: Vectors, repeats: int, ef_values: list[int], queries: int) -> dict:
    """Part 2: HNSW build, size, recall@10 and single-query throughput against exact search."""
    import faiss

    vectors.use_index("hnsw")
    params = embedkit.vectors.index.build_params("hnsw", vectors.index_config, len(vectors))
    prefix = embedkit.vectors.index.model_folder_prefix(params)
    saved = bool(vectors.source and list(Path(vectors.source).glob(f"{prefix}*.faiss")))
    build_seconds, _ = timed(vectors.build_index, "hnsw")
    log(f"HNSW over {len(vectors):,} words {'loaded' if saved else 'built'} in {build_seconds:.0f} s")
    hnsw = next(iter(vectors._approx.values())).index
    index_bytes = int(faiss.serialize_index(hnsw).nbytes)
    rng = np.random.default_rng(3)
    words = [vectors.words[i] for i in rng.integers(0, len(vectors), queries)]
    vectors.build_index("exact")
    exact = vectors.most_similar_batch(words, k=10, index="exact")
    exact_words = words[: max(repeats * 20, 60)]
    exact_seconds = single_query_seconds(vectors, exact_words, "exact", repeats)
    sweep = []
    for ef in ef_values:
        vectors.use_index("hnsw", ef_search=ef)
        recall = recall_at_10(vectors, words, exact)
        seconds = single_query_seconds(vectors, words, "hnsw", repeats)
        sweep.append({"ef_search": ef, "recall_at_10": recall, "queries_per_s": 1 / seconds,
                      "vs_exact": exact_seconds / seconds})  # fmt: skip
        log(f"ef_search {ef}: recall {recall:.3f}, {1 / seconds:,.0f} q/s, {exact_seconds / seconds:.0f}x")
    default_ef = embedkit.vectors.index.IndexConfig().ef_search
    vectors.use_index("hnsw", ef_search=default_ef)
    return {
        "words": len(vectors),
        "M": vectors.index_config.M,
        "ef_construction": vectors.index_config.ef_construction,
        "build_seconds": None if saved else build_seconds,
        "load_seconds": build_seconds if saved else None,
        "index_bytes": index_bytes,
        "vectors_bytes": int(vectors.vectors.nbytes),
        "exact_queries_per_s": 1 / exact_seconds,
        "default_ef_search": default_ef,
        "sweep": sweep,
    }


def part_growth(full: np.ndarray, sizes: list[int], repeats: int, hnsw_1m: Vectors | None) -> list[dict]:
    """Part 3: median single-query time for exact and HNSW at each vocabulary size."""
    rows = []
    for size in sizes:
        if hnsw_1m is not None and size == len(hnsw_1m):
            vectors = hnsw_1m
        else:
            vectors = Vectors([f"w{i}" for i in range(size)], full[:size]).use_index("hnsw", cache=False)
        build_seconds, _ = timed(vectors.build_index, "hnsw")
        vectors.build_index("exact")
        rng = np.random.default_rng(4)
        words = [vectors.words[i] for i in rng.integers(0, size, 1000)]
        exact = vectors.most_similar_batch(words, k=10, index="exact")
        exact_words = words[: max(repeats * 20, 60)] if size > 200_000 else words
        row = {
            "words": size,
            "exact_ms": 1000 * single_query_seconds(vectors, exact_words, "exact", repeats),
            "hnsw_ms": 1000 * single_query_seconds(vectors, words, "hnsw", repeats),
            "hnsw_recall_at_10": recall_at_10(vectors, words, exact),
            "hnsw_build_seconds": build_seconds if vectors is not hnsw_1m else None,
        }
        log(f"growth {size:,}: exact {row['exact_ms']:.2f} ms, hnsw {row['hnsw_ms']:.3f} ms")
        rows.append(row)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["words"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(sizes, [r["exact_ms"] for r in rows], "o-", label="exact (IndexFlatIP)")
    config = embedkit.vectors.index.IndexConfig()
    label = f"HNSW (M {config.M}, efConstruction {config.ef_construction}, efSearch {config.ef_search})"
    ax.plot(sizes, [r["hnsw_ms"] for r in rows], "s-", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("vocabulary size (words)")
    ax.set_ylabel("time per single query (ms, median)")
    ax.set_title("most_similar, k = 10, 100 dims, 2 cores")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown(result: dict) -> str:
    lines = [f"Query speed, {result['date']}, embedkit {embedkit.__version__}, load {result['load']}."]
    stats = result.get("space")
    if stats:
        lines.append(
            f"\nSpace (synthetic, clustered; 100k words): 1st neighbour cosine {stats['top1_cosine']:.2f}, "
            f"10th {stats['top10_cosine']:.2f}, random pairs {stats['random_pair_cosine']:.2f} "
            f"± {stats['random_pair_std']:.2f}."
        )
    one = result.get("batched_analogies")
    if one:
        lines += [
            f"\n### 1. {one['queries']:,} analogies over {one['words']:,} words (3CosAdd, k = 10, exact)\n",
            "| method | queries/s | vs gensim |",
            "|---|---|---|",
            f"| gensim `most_similar`, one query at a time | {one['gensim_queries_per_s']:,.0f} | 1.0x |",
            *(
                f"| embedkit `analogy_batch` (one FAISS search), {t} thread{'s' * (int(t) > 1)} "
                f"| {one['queries'] / sec:,.0f} "
                f"| **{one['queries'] / sec / one['gensim_queries_per_s']:.1f}x** |"
                for t, sec in one["embedkit_batched_seconds_by_threads"].items()
            ),
            f'| embedkit `analogy_batch(method="mul")` (3CosMul, 1 thread) | '
            f"{one['embedkit_3cosmul_batched_queries_per_s']:,.0f} | - |",
            f"\nIdentical top-10 words: {one['identical_top10_words']:,} of {one['queries']:,} "
            f"(the others: {one.get('differing_by_near_ties', '?')} swap words whose cosines are equal "
            f"to 1e-6); largest cosine difference {one['max_cosine_difference']:.1e}.",
        ]
    two = result.get("hnsw")
    if two:
        lines += [
            f"\n### 2. HNSW over {two['words']:,} words "
            f"(M {two['M']}, efConstruction {two['ef_construction']})\n",
            (
                f"Build {two['build_seconds']:.0f} s"
                if two["build_seconds"] is not None
                else f"Saved index loaded in {two['load_seconds']:.1f} s (content hash included)"
            )
            + f"; index {two['index_bytes'] / 2**20:,.0f} MiB "
            f"(the vectors alone: {two['vectors_bytes'] / 2**20:,.0f} MiB). "
            f"Exact single query: {two['exact_queries_per_s']:,.1f} queries/s.\n",
            "| efSearch | recall@10 | single queries/s | vs exact |",
            "|---|---|---|---|",
        ]
        for row in two["sweep"]:
            mark = " (default)" if row["ef_search"] == two["default_ef_search"] else ""
            lines.append(
                f"| {row['ef_search']}{mark} | {row['recall_at_10']:.3f} | {row['queries_per_s']:,.0f} "
                f"| {row['vs_exact']:.0f}x |"
            )
    three = result.get("growth")
    if three:
        lines += [
            "\n### 3. Single-query time against vocabulary size (median ms per `most_similar`)\n",
            "| words | exact ms | HNSW ms | HNSW recall@10 | HNSW build s |",
            "|---|---|---|---|---|",
        ]
        for row in three:
            seconds = row["hnsw_build_seconds"]
            build = f"{seconds:.0f}" if seconds is not None else "(part 2)"
            lines.append(
                f"| {row['words']:,} | {row['exact_ms']:.2f} | {row['hnsw_ms']:.3f} "
                f"| {row['hnsw_recall_at_10']:.3f} | {build} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--queries", type=int, default=10_000, help="analogy queries in part 1")
    parser.add_argument("--large", type=int, default=1_000_000, help="words in the large space")
    parser.add_argument("--ef", type=int, nargs="+", default=[64, 96, 128, 192, 256])
    parser.add_argument(
        "--workdir", default="/tmp/embedkit-query-speed", help="where the 1M model and its index are kept"
    )
    args = parser.parse_args(argv)

    date = datetime.date.today().isoformat()
    result: dict = {"date": date, "threads": embedkit.get_threads(), "args": vars(args)}
    result["load"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    log(f"generating {args.large:,} x {DIM} space")
    full = embedding_like_space(args.large)
    middle = min(100_000, args.large)
    mid = Vectors([f"w{i}" for i in range(middle)], full[:middle])
    result["space"] = space_statistics(mid)
    log(f"space: {result['space']}")
    if 1 in args.parts:
        result["batched_analogies"] = part_batched_analogies(mid, args.queries, args.repeats)
        log(f"part 1: {result['batched_analogies']}")
    large = None
    if 2 in args.parts:
        folder = Path(args.workdir) / f"space-{args.large}"
        if not (folder / "meta.json").is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            Vectors([f"w{i}" for i in range(args.large)], full).save(folder)
        large = embedkit.load(folder)  # a native model folder: its HNSW index is saved in it
        result["hnsw"] = part_hnsw(large, args.repeats, args.ef, 1000)
    if 3 in args.parts:
        sizes = [s for s in (10_000, 100_000, 1_000_000) if s <= args.large]
        result["growth"] = part_growth(full, sizes, args.repeats, large)
        RESULTS.mkdir(exist_ok=True)
        plot(result["growth"], RESULTS / f"query_speed-{date}.png")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"query_speed-{date}.json").write_text(json.dumps(result, indent=2))
    text = markdown(result)
    (RESULTS / f"query_speed-{date}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
