"""The word-vector store: words, their vectors, and the queries they answer.

:class:`Vectors` is deliberately slim (like gensim's ``KeyedVectors``): it holds no
trainer state, only the vocabulary (most frequent word first), a float32 matrix with one
row per word, optional corpus counts and JSON-serialisable metadata. Similarity queries
run on a FAISS index over the unit-normalised rows, built on first use.

>>> import numpy as np
>>> v = Vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
>>> len(v), "b" in v, v["c"].tolist()
(3, True, [0.0, 0.0, 1.0])
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .errors import FormatError, UnknownWordError, UsageError
from .index import ExactIndex, normalize_rows


class Vectors:
    """Word vectors with exact cosine queries (``most_similar``, ``analogy``, ``similarity``)."""

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        *,
        counts: np.ndarray | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        matrix = np.asanyarray(vectors)
        if matrix.ndim != 2:
            raise FormatError(f"vectors must be a 2-D matrix, got shape {matrix.shape}")
        if matrix.shape[0] != len(words):
            raise FormatError(f"{len(words)} words but {matrix.shape[0]} vector rows")
        if matrix.dtype != np.float32:
            matrix = matrix.astype(np.float32)
        self.words: list[str] = list(words)
        self.vectors: np.ndarray = matrix
        self.counts: np.ndarray | None = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.meta: dict[str, Any] = dict(meta or {})
        self._index_of = {word: i for i, word in enumerate(self.words)}
        if len(self._index_of) != len(self.words):
            seen: set[str] = set()
            duplicate = next(w for w in self.words if w in seen or seen.add(w))
            raise FormatError(f"duplicate word {duplicate!r} in the vocabulary")
        self._lock = threading.Lock()
        self._unit: np.ndarray | None = None
        self._exact: ExactIndex | None = None

    # --- container protocol -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index_of

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.index_of(word)]

    def __repr__(self) -> str:
        return f"Vectors({len(self)} words, dim {self.dim})"

    @property
    def dim(self) -> int:
        """Number of dimensions of each vector."""
        return int(self.vectors.shape[1])

    def index_of(self, word: str) -> int:
        """Row of ``word``; raises :class:`UnknownWordError` (a ``KeyError``) if absent."""
        try:
            return self._index_of[word]
        except (KeyError, TypeError):
            raise UnknownWordError(str(word)) from None

    # --- query machinery ----------------------------------------------------------
    @property
    def unit_vectors(self) -> np.ndarray:
        """The rows scaled to unit length (computed once)."""
        if self._unit is None:
            with self._lock:
                if self._unit is None:
                    self._unit = normalize_rows(self.vectors)
        return self._unit

    def _index(self) -> ExactIndex:
        if self._exact is None:
            unit = self.unit_vectors
            with self._lock:
                if self._exact is None:
                    self._exact = ExactIndex(unit)
        return self._exact

    def _direction(self, positive: Sequence[str], negative: Sequence[str]) -> tuple[np.ndarray, set[int]]:
        """Unit mean of the positive minus negative unit vectors (gensim's convention)."""
        rows = [self.index_of(w) for w in positive]
        neg_rows = [self.index_of(w) for w in negative]
        if not rows and not neg_rows:
            raise UsageError("a query needs at least one word")
        unit = self.unit_vectors
        query = unit[rows].sum(axis=0) - unit[neg_rows].sum(axis=0)
        norm = np.linalg.norm(query)
        if norm > 0:
            query = query / norm
        return query.astype(np.float32), set(rows) | set(neg_rows)

    def most_similar(
        self, positive: str | Sequence[str], negative: Sequence[str] = (), k: int = 10
    ) -> list[tuple[str, float]]:
        """The ``k`` words closest in cosine to the mean of ``positive`` minus ``negative``.

        Query words are excluded. ``v.most_similar("paris", k=3)`` gives the three nearest
        words of *paris* with their cosines, as gensim's ``most_similar`` does.
        """
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        if k < 1:
            raise UsageError(f"k must be at least 1, got {k}")
        query, exclude = self._direction(list(positive), list(negative))
        hits = self._index().search(query, k, [exclude])[0]
        return [(self.words[i], score) for i, score in hits]

    def analogy(self, a: str, b: str, c: str, k: int = 10) -> list[tuple[str, float]]:
        """Words ``x`` with ``x`` to ``c`` as ``b`` is to ``a`` (3CosAdd: b − a + c).

        ``v.analogy("spain", "madrid", "france")`` asks for France's *madrid*; the three
        query words are never answered.
        """
        return self.most_similar([b, c], [a], k=k)

    def similarity(self, word1: str, word2: str) -> float:
        """Cosine similarity of two words."""
        unit = self.unit_vectors
        return float(np.dot(unit[self.index_of(word1)], unit[self.index_of(word2)]))

    # --- interoperability ----------------------------------------------------------
    def to_gensim(self) -> Any:
        """A gensim ``KeyedVectors`` with the same words, vectors and counts (needs gensim)."""
        try:
            from gensim.models import KeyedVectors
        except ImportError as exc:  # pragma: no cover - gensim is in the test extra
            raise UsageError("to_gensim() needs gensim: pip install gensim") from exc
        kv = KeyedVectors(vector_size=self.dim)
        kv.add_vectors(self.words, np.asarray(self.vectors))
        if self.counts is not None:
            for word, count in zip(self.words, self.counts.tolist()):
                kv.set_vecattr(word, "count", count)
        return kv

    @classmethod
    def from_gensim(cls, kv: Any) -> Vectors:
        """Vectors from a gensim ``KeyedVectors`` (or a model with a ``.wv``)."""
        kv = getattr(kv, "wv", kv)
        counts = None
        if "count" in getattr(kv, "expandos", {}):
            counts = np.asarray(kv.expandos["count"], dtype=np.int64)
        return cls(list(kv.index_to_key), np.asarray(kv.vectors, dtype=np.float32), counts=counts)

    # --- persistence -------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save in embedkit's safe native format (a folder of .npy arrays and JSON)."""
        from .formats import save_native

        save_native(self, path)

    def save_word2vec(self, path: str | os.PathLike[str], binary: bool = True) -> None:
        """Save in word2vec's binary (default) or text format, as gensim writes them."""
        from .formats import save_word2vec

        save_word2vec(self, path, binary=binary)
