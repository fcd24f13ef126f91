"""Nearest-neighbour search over unit-normalised vectors with FAISS.

Cosine similarity of unit vectors is their inner product, so every index here is an
inner-product index over the unit rows:

- ``exact``: ``IndexFlatIP``, a brute-force scan (BLAS for batches); answers equal gensim's.
- ``hnsw``: ``IndexHNSWFlat`` (graph search; ``M`` links per node, ``ef_construction`` when
  building, ``ef_search`` when searching).
- ``ivf``: ``IndexIVFFlat`` (``nlist`` k-means cells, ``nprobe`` of them scanned per query),
  for the largest vocabularies, where an HNSW graph takes too long to build.

``auto`` picks exact below :data:`EXACT_MAX` words, HNSW below :data:`HNSW_MAX`, IVF above.
Query words are excluded by asking for a few more neighbours than needed and dropping them.

Approximate indexes take minutes to build at a million words, so they are saved: inside a
native model folder (``<model>/index-hnsw-M32-efc400-<hash>.faiss``), or, for a word2vec
or GloVe file, in the user cache folder (:func:`embedkit.util.cache_dir`, under
``indexes/``), named by a hash of the words and vectors. A saved index is reused only if
the hash of the model's content matches, so a changed model gets a new index. Files are
written under a temporary name and renamed when complete.

Threads: FAISS runs its loops (and its bundled OpenBLAS) on an OpenMP pool. embedkit gives
FAISS at most :func:`get_threads` threads (``EMBEDKIT_THREADS``, else the cores this process
may use), shared among the Python threads searching at the same moment: with 2 cores, one
batch gets 2 OpenMP threads, two concurrent batches get 1 each. Searches of fewer than
:data:`PARALLEL_MIN_QUERIES` queries run on one thread: an OpenMP team costs more than it
saves there, and on a busy machine a team whose threads cannot all run waits at every
barrier (a single query over 10k words took 24 ms on 2 threads, 0.08 ms on 1, on a shared
2-core machine). The OpenMP thread count is per calling thread in libgomp (which faiss-cpu
bundles), so it is set before every search.
The trainer's numba kernels are serial (``nogil``, no numba thread pool) and run on its own
``workers`` Python threads, so FAISS and numba never stack thread pools on the same cores
unless a program trains and queries at the same time, where ``workers`` + threads should not
exceed the cores.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..errors import UsageError
from ..util import atomic_file, cache_dir, cpu_count

log = logging.getLogger(__name__)

KINDS = ("auto", "exact", "hnsw", "ivf")
EXACT_MAX = 200_000
HNSW_MAX = 2_000_000


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Unit-length copy of each row (zero rows stay zero), float32 and C-contiguous."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


# --- threads ----------------------------------------------------------------------------
def _default_threads() -> int:
    env = os.environ.get("EMBEDKIT_THREADS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            raise UsageError(f"EMBEDKIT_THREADS must be a whole number, got {env!r}") from None
        if value < 1:
            raise UsageError(f"EMBEDKIT_THREADS must be at least 1, got {value}")
        return value
    return cpu_count()


_threads: dict[str, Any] = {"budget": None, "active": 0}
_threads_lock = threading.Lock()


def set_threads(n: int | None) -> None:
    """Cap the threads FAISS may use (``None``: back to ``EMBEDKIT_THREADS`` or all cores)."""
    if n is not None and (not isinstance(n, int) or n < 1):
        raise UsageError(f"threads must be a whole number of at least 1, got {n!r}")
    with _threads_lock:
        _threads["budget"] = n


def get_threads() -> int:
    """The number of threads FAISS may use in total."""
    budget = _threads["budget"]
    return budget if budget is not None else _default_threads()


PARALLEL_MIN_QUERIES = 64


@contextlib.contextmanager
def faiss_threads(queries: int | None = None) -> Iterator[int]:
    """Set this thread's OpenMP team size for one FAISS call: one thread for fewer than
    :data:`PARALLEL_MIN_QUERIES` queries, else this call's share of the budget."""
    budget = get_threads()
    with _threads_lock:
        _threads["active"] += 1
        share = max(1, budget // _threads["active"])
    if queries is not None and queries < PARALLEL_MIN_QUERIES:
        share = 1
    faiss.omp_set_num_threads(share)
    try:
        yield share
    finally:
        with _threads_lock:
            _threads["active"] -= 1


# --- configuration ----------------------------------------------------------------------
@dataclass(frozen=True)
class IndexConfig:
    """Which index to search and its parameters (build: ``M``, ``ef_construction``, ``nlist``;
    search: ``ef_search``, ``nprobe``)."""

    kind: str = "auto"
    M: int = 32
    ef_construction: int = 400
    ef_search: int = 96
    nlist: int | None = None
    nprobe: int = 64

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"unknown index {self.kind!r}: choose one of {', '.join(KINDS)}")
        for name, low, high in (
            ("M", 2, 256),
            ("ef_construction", 1, 100_000),
            ("ef_search", 1, 100_000),
            ("nprobe", 1, 1_000_000),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise UsageError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        if self.nlist is not None and (
            not isinstance(self.nlist, int) or isinstance(self.nlist, bool) or not 1 <= self.nlist <= 1 << 20
        ):
            raise UsageError(f"nlist must be a whole number from 1 to {1 << 20}, got {self.nlist!r}")

    def resolve(self, size: int) -> str:
        """The concrete kind (exact, hnsw or ivf) for a vocabulary of ``size`` words."""
        if self.kind != "auto":
            return self.kind
        return choose_kind(size)

    def with_kind(self, kind: str | None) -> IndexConfig:
        """This configuration with another kind (``None`` keeps it)."""
        return self if kind is None or kind == self.kind else replace(self, kind=kind)

    def nlist_for(self, size: int) -> int:
        """Number of IVF cells: ``nlist``, else about 4 √size, never more than size / 39."""
        nlist = self.nlist if self.nlist is not None else int(4 * math.sqrt(size))
        return max(1, min(nlist, size // 39 or 1))


def choose_kind(size: int) -> str:
    """The kind ``auto`` picks: exact up to EXACT_MAX words, HNSW up to HNSW_MAX, else IVF."""
    if size <= EXACT_MAX:
        return "exact"
    return "hnsw" if size <= HNSW_MAX else "ivf"


# --- indexes ------------------------------------------------------------------------------
class ExactIndex:
    """Exact inner-product search (FAISS ``IndexFlatIP``) over unit vectors."""

    kind = "exact"

    def __init__(self, unit_vectors: np.ndarray) -> None:
        unit_vectors = np.ascontiguousarray(unit_vectors, dtype=np.float32)
        self.size, self.dim = unit_vectors.shape
        self.index = faiss.IndexFlatIP(self.dim)
        self.index.add(unit_vectors)

    def search_arrays(
        self, queries: np.ndarray, k: int, config: IndexConfig | None = None, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """FAISS's ``(scores, ids)`` arrays of the top ``k`` rows (-1 ids pad short answers);
        ``limit``: only rows below it."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        params = None
        if limit is not None and limit < self.size:
            params = faiss.SearchParameters(sel=faiss.IDSelectorRange(0, limit))
        with faiss_threads(queries.shape[0]):
            return self.index.search(queries, k, params=params)


class ApproximateIndex(ExactIndex):
    """A FAISS HNSW or IVF index over unit vectors, searched with the configured parameters."""

    def __init__(self, index: Any, kind: str) -> None:
        self.index = index
        self.kind = kind
        self.size, self.dim = int(index.ntotal), int(index.d)

    def search_arrays(
        self, queries: np.ndarray, k: int, config: IndexConfig | None = None, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` with ``ef_search``/``nprobe`` from ``config``; ``limit``: only rows below it."""
        config = config or IndexConfig()
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        selector = faiss.IDSelectorRange(0, limit) if limit is not None and limit < self.size else None
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(config.ef_search, k))
        else:
            params = faiss.SearchParametersIVF(nprobe=min(config.nprobe, self.index.nlist))
        if selector is not None:
            params.sel = selector
        with faiss_threads(queries.shape[0]):
            return self.index.search(queries, k, params=params)


def build_faiss(unit: np.ndarray, kind: str, config: IndexConfig) -> Any:
    """A new FAISS HNSW or IVF inner-product index holding ``unit``'s rows."""
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    size, dim = unit.shape
    with faiss_threads():
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, config.M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = config.ef_construction
            index.add(unit)
            return index
        nlist = config.nlist_for(size)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = 1
        sample = min(size, 64 * nlist)
        rows = np.sort(np.random.default_rng(1).choice(size, sample, replace=False))
        index.train(np.ascontiguousarray(unit[rows]))
        index.add(unit)
        return index


def build_params(kind: str, config: IndexConfig, size: int) -> str:
    """The build parameters of an index as a file-name part, e.g. ``hnsw-M32-efc400``."""
    if kind == "hnsw":
        return f"hnsw-M{config.M}-efc{config.ef_construction}"
    return f"ivf-nlist{config.nlist_for(size)}"


# --- persistence ------------------------------------------------------------------------
def content_hash(words: Sequence[str], matrix: np.ndarray) -> str:
    """BLAKE2b digest of the words (in order) and the float32 vectors: the model's identity."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{len(words)} {matrix.shape[1]}\n".encode())
    digest.update("\n".join(words).encode("utf-8", "surrogatepass"))
    step = max(1, (64 << 20) // max(1, matrix.shape[1] * 4))
    for start in range(0, matrix.shape[0], step):
        block = np.ascontiguousarray(matrix[start : start + step], dtype="<f4")
        digest.update(memoryview(block).cast("B"))
    return digest.hexdigest()


def model_folder_prefix(params: str) -> str:
    """How the names of saved indexes with these build parameters begin inside a model folder."""
    return f"index-{params}-"


def cache_paths(source: Path | None, params: str, digest: str) -> list[Path]:
    """Where a saved index may live, preferred first: in the native model folder, else the user cache."""
    paths = []
    if source is not None and source.is_dir():
        paths.append(source / f"{model_folder_prefix(params)}{digest[:16]}.faiss")
    paths.append(cache_dir() / "indexes" / f"{digest}-{params}.faiss")
    return paths


def _read(path: Path, kind: str, size: int, dim: int) -> Any | None:
    """A saved index if it is whole and matches; ``None`` otherwise."""
    if not path.is_file():
        return None
    try:
        index = faiss.read_index(str(path))
    except RuntimeError:
        return None
    expected = faiss.IndexHNSWFlat if kind == "hnsw" else faiss.IndexIVFFlat
    if not isinstance(index, expected) or index.ntotal != size or index.d != dim:
        return None
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        return None
    return index


def write_atomically(index: Any, path: Path) -> None:
    """``faiss.write_index`` to a temporary file beside ``path``, renamed into place when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        faiss.write_index(index, str(tmp))


def load_or_build(
    unit: np.ndarray,
    kind: str,
    config: IndexConfig,
    *,
    words: Sequence[str] | None = None,
    vectors: np.ndarray | None = None,
    source: Path | None = None,
    cache: bool = True,
) -> ApproximateIndex:
    """An approximate index over ``unit``: the saved one if the model is unchanged, else built and saved.

    Saving happens only for a model with a ``source`` on disk and ``cache=True``; a folder
    that cannot be written falls back to the user cache, and an index that cannot be saved
    anywhere is still returned.
    """
    size, dim = unit.shape
    params = build_params(kind, config, size)
    paths: list[Path] = []
    if cache and source is not None and words is not None and vectors is not None:
        digest = content_hash(words, vectors)
        paths = cache_paths(source, params, digest)
        for path in paths:
            found = _read(path, kind, size, dim)
            if found is not None:
                return ApproximateIndex(found, kind)
    log.info(
        "building the %s index over %s words (%s); %s",
        kind.upper(),
        f"{size:,}",
        params,
        "it is saved for later runs" if paths else "it is kept in memory only",
    )
    began = time.perf_counter()
    index = build_faiss(unit, kind, config)
    log.info("built in %.1f s", time.perf_counter() - began)
    for path in paths:
        try:
            if path.parent == source:
                for stale in path.parent.glob(f"{model_folder_prefix(params)}*.faiss"):
                    if stale != path:
                        with contextlib.suppress(OSError):
                            stale.unlink()
            write_atomically(index, path)
            break
        except OSError:
            continue
    return ApproximateIndex(index, kind)
