"""What the readers hand back and the writers take: words and a float32 matrix, in plain types.

The file formats sit below :class:`~embedkit.vectors.store.Vectors` (which saves itself
through them), so they know nothing of it: a reader returns a :class:`VectorData`, a
writer takes anything shaped like :class:`VectorsLike`. Large matrices are read into
:func:`fresh_matrix`.
"""

from __future__ import annotations

import mmap as _mmap
import os
import warnings
from typing import Any, NamedTuple, Protocol

import numpy as np


class VectorData(NamedTuple):
    """The content of a vector file: words (unique), their rows, and what else the file holds."""

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None
    meta: dict[str, Any] | None = None
    index: dict[str, int] | None = None
    """``word -> row``, when the reader built it already (readers that check for duplicates do)."""
    state: dict[str, np.ndarray] | None = None
    """What further training needs beyond the vectors (a full native model's output weights)."""
    subwords: Any = None
    """The n-gram half of a subword model (a :class:`~embedkit.vectors.subwords.SubwordVectors`)."""


class VectorsLike(Protocol):
    """What a writer reads of the vectors it writes."""

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None
    meta: dict[str, Any]
    state: dict[str, np.ndarray]
    subwords: Any

    @property
    def dim(self) -> int: ...


def first_rows(words: list[str]) -> dict[str, int]:
    """``word -> row`` of its first occurrence (shorter than ``words`` if a word is listed twice)."""
    index: dict[str, int] = {}
    setdefault = index.setdefault
    for i, word in enumerate(words):
        setdefault(word, i)
    return index


def unique_rows(
    path: str | os.PathLike[str], words: list[str], matrix: np.ndarray, index: dict[str, int] | None = None
) -> VectorData:
    """The rows read, with the word index (``index``: :func:`first_rows` of ``words``, if built
    already); of a word listed twice only the first row is kept (as gensim does), with a
    warning naming it."""
    index = first_rows(words) if index is None else index
    if len(index) == len(words):
        return VectorData(words, matrix, index=index)
    keep = np.fromiter(index.values(), dtype=np.int64, count=len(index))
    dropped = len(words) - len(index)
    seen: set[str] = set()
    duplicate = next(w for w in words if w in seen or seen.add(w))
    warnings.warn(
        f"{os.fspath(path)!r}: {dropped} duplicate word(s), e.g. {duplicate!r}; "
        "kept the first vector of each",
        stacklevel=4,
    )
    return VectorData(list(index), matrix[keep])


_POPULATE_BYTES = 64 << 20


def fresh_matrix(rows: int, dim: int) -> np.ndarray:
    """A new, uninitialised C-ordered float32 matrix to read a large model into.

    numpy asks Linux for transparent huge pages for large arrays, and on virtual machines
    faulting those in can cost seconds per GB (a 1.2 GB matrix: 5 s against 1 s here), so
    on Linux a large matrix is an anonymous mapping whose pages the kernel maps in one call
    (``MAP_POPULATE``, which releases the GIL). It behaves as any writable ndarray and is
    unmapped when the array is freed. Elsewhere, and for small matrices: ``np.empty``.
    """
    nbytes = rows * dim * 4
    populate = getattr(_mmap, "MAP_POPULATE", 0)
    if nbytes < _POPULATE_BYTES or not populate:
        return np.empty((rows, dim), dtype=np.float32)
    try:
        area = _mmap.mmap(-1, nbytes, flags=_mmap.MAP_PRIVATE | _mmap.MAP_ANONYMOUS | populate)
    except (OSError, ValueError, OverflowError):
        return np.empty((rows, dim), dtype=np.float32)
    return np.frombuffer(area, dtype=np.float32).reshape(rows, dim)
