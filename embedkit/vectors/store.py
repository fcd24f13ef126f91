"""The word-vector store: words, their vectors, and the queries they answer.

:class:`Vectors` is deliberately slim (like gensim's ``KeyedVectors``): it holds no
trainer state, only the vocabulary (most frequent word first), a float32 matrix with one
row per word, optional corpus counts and JSON-serialisable metadata. Similarity queries
run on a FAISS index over the unit-normalised rows (exact, HNSW or IVF, see
:mod:`embedkit.vectors.index`), built on first use; batched queries answer thousands of
questions with one FAISS search. :func:`load` reads any format :mod:`embedkit.io` knows.

A subword (fastText-style) model also holds a :class:`~embedkit.vectors.subwords.SubwordVectors`:
its matrix still holds the full vectors of the vocabulary (what queries search over), and
a word outside the vocabulary gets the mean of its character n-gram rows, so ``v[word]``
and every query accept it (``word in v`` still means *in the vocabulary*; see
:meth:`Vectors.is_known` and :meth:`Vectors.has_vector`).

>>> import numpy as np
>>> v = Vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
>>> len(v), "b" in v, v["c"].tolist()
(3, True, [0.0, 0.0, 1.0])
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, UnknownWordError, UsageError
from ..io import read_vectors, save_native, save_word2vec, write_vectors
from ..plot import plot_words
from ..text.subwords import ngram_ids, vocabulary_ngrams
from .cosmul import cosmul_search
from .index import (
    EXACT_MAX,
    ApproximateIndex,
    ExactIndex,
    IndexConfig,
    build_params,
    load_or_build,
    normalize_rows,
)
from .subwords import SubwordVectors


class Vectors:
    """Word vectors with cosine queries (``most_similar``, ``analogy``, ``doesnt_match``, batches).

    ``index`` picks the search index (``auto``, ``exact``, ``hnsw``, ``ivf`` or an
    :class:`~embedkit.vectors.index.IndexConfig`); see :meth:`use_index`. ``word_rows``
    is the ``word -> row`` dict when the caller has built it already (a file reader does,
    checking for duplicates), so it is not built twice. ``state`` holds what further
    training needs beyond the vectors (the output weights of a *full* model: see
    :attr:`trainable`); it is saved with :meth:`save` and never used by queries.
    ``subwords`` makes a subword model: ``vectors`` are then the full vectors of the
    vocabulary words and unknown words are answered from their character n-grams.
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        *,
        counts: np.ndarray | None = None,
        meta: dict[str, Any] | None = None,
        index: str | IndexConfig = "auto",
        word_rows: dict[str, int] | None = None,
        state: dict[str, np.ndarray] | None = None,
        subwords: SubwordVectors | None = None,
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
        self.state: dict[str, np.ndarray] = dict(state or {})
        self._index_of = (
            word_rows if word_rows is not None else {word: i for i, word in enumerate(self.words)}
        )
        if len(self._index_of) != len(self.words):
            seen: set[str] = set()
            duplicate = next(w for w in self.words if w in seen or seen.add(w))
            raise FormatError(f"duplicate word {duplicate!r} in the vocabulary")
        if subwords is not None:
            _check_subwords(subwords, len(self.words), matrix.shape[1])
        #: The n-gram half of a subword model (``None`` for plain word vectors).
        self.subwords: SubwordVectors | None = subwords
        self._config = index if isinstance(index, IndexConfig) else IndexConfig(kind=index)
        #: Where the vectors were loaded from (set by :func:`embedkit.load`); approximate
        #: indexes of a native model folder are saved in it.
        self.source: Path | None = None
        self._cache_index = True
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._unit: np.ndarray | None = None
        self._exact: ExactIndex | None = None
        self._prefixes: dict[int, ExactIndex] = {}
        self._approx: dict[tuple[str, str], ApproximateIndex] = {}

    # --- container protocol -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index_of

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of ``word``: its row, or (subword models) the mean of its n-gram rows."""
        row = self._index_of.get(word) if isinstance(word, str) else None
        if row is not None:
            return self.vectors[row]
        return self._ngram_vector(word)

    def __repr__(self) -> str:
        kind = "" if self.subwords is None else f", n-grams {self.subwords.minn}-{self.subwords.maxn}"
        return f"Vectors({len(self)} words, dim {self.dim}{kind})"

    def is_known(self, word: str) -> bool:
        """Whether ``word`` is in the vocabulary (the same as ``word in v``)."""
        return word in self._index_of

    def has_vector(self, word: str) -> bool:
        """Whether ``v[word]`` has an answer: the word is known, or (subword models) has an n-gram."""
        if word in self._index_of:
            return True
        sub = self.subwords
        return (
            sub is not None
            and isinstance(word, str)
            and ngram_ids(word, sub.minn, sub.maxn, sub.buckets).size > 0
        )

    def _ngram_vector(self, word: object) -> np.ndarray:
        """An unknown word's vector from its n-grams, or :class:`UnknownWordError`."""
        if self.subwords is None or not isinstance(word, str):
            raise UnknownWordError(str(word))
        vector = self.subwords.oov_vector(word)
        if vector is None:
            raise UnknownWordError(word, "and it has no character n-gram in this model")
        return vector

    def _term(self, word: object) -> int | np.ndarray:
        """A query word: its row if known, else (subword models) its unit n-gram vector."""
        row = self._index_of.get(word) if isinstance(word, str) else None
        if row is not None:
            return row
        vector = self._ngram_vector(word)
        norm = float(np.linalg.norm(vector))
        return vector / np.float32(norm) if norm > 0 else vector

    def _term_unit(self, term: int | np.ndarray) -> np.ndarray:
        return self.unit_vectors[term] if isinstance(term, int) else term

    @property
    def trainable(self) -> bool:
        """Whether these vectors can be trained further (a full model: ``train(..., init=v)``)."""
        return bool(self.state) and self.counts is not None

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

    # --- index choice -------------------------------------------------------------
    @property
    def index_config(self) -> IndexConfig:
        """The index queries use unless told otherwise, and its parameters."""
        return self._config

    def use_index(
        self,
        kind: str = "auto",
        *,
        M: int | None = None,
        ef_construction: int | None = None,
        ef_search: int | None = None,
        nlist: int | None = None,
        nprobe: int | None = None,
        cache: bool | None = None,
    ) -> Vectors:
        """Choose the index queries use: ``auto``, ``exact``, ``hnsw`` or ``ivf``, and its parameters.

        Unset parameters keep their current value. ``cache=False`` never reads or writes a
        saved approximate index. Returns ``self``, so ``load(p).use_index("hnsw")`` chains.
        """
        given = {"M": M, "ef_construction": ef_construction, "ef_search": ef_search}
        given.update(nlist=nlist, nprobe=nprobe)
        changes = {name: value for name, value in given.items() if value is not None}
        self._config = replace(self._config, kind=kind, **changes)
        if cache is not None:
            self._cache_index = bool(cache)
        return self

    def index_kind(self, index: str | None = None) -> str:
        """The concrete index (exact, hnsw or ivf) a query with ``index=`` would search."""
        return self._config.with_kind(index).resolve(len(self))

    def build_index(self, index: str | None = None) -> None:
        """Build (or load the saved) index now instead of on the first query."""
        self._searcher(index, None)

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

    def _prefix_index(self, limit: int) -> ExactIndex:
        """An exact index over the ``limit`` most frequent words (the last two are kept)."""
        found = self._prefixes.get(limit)
        if found is None:
            unit = self.unit_vectors
            with self._lock:
                found = self._prefixes.get(limit)
                if found is None:
                    found = ExactIndex(unit[:limit])
                    if len(self._prefixes) >= 2:
                        self._prefixes.pop(next(iter(self._prefixes)))
                    self._prefixes[limit] = found
        return found

    def _approximate_index(self, kind: str, config: IndexConfig) -> ApproximateIndex:
        key = (kind, build_params(kind, config, len(self)))
        found = self._approx.get(key)
        if found is None:
            unit = self.unit_vectors
            with self._build_lock:
                found = self._approx.get(key)
                if found is None:
                    found = load_or_build(
                        unit, kind, config, words=self.words, vectors=self.vectors,
                        source=self.source, cache=self._cache_index,
                    )  # fmt: skip
                    self._approx[key] = found
        return found

    def _searcher(
        self, index: str | None, restrict_vocab: int | None
    ) -> tuple[ExactIndex, int | None, IndexConfig]:
        """The index to search, the row limit to pass it, and the search parameters."""
        config = self._config.with_kind(index)
        size = len(self)
        limit = None
        if restrict_vocab is not None:
            if not isinstance(restrict_vocab, int) or isinstance(restrict_vocab, bool) or restrict_vocab < 1:
                raise UsageError(f"restrict_vocab must be a whole number >= 1, got {restrict_vocab!r}")
            if restrict_vocab < size:
                limit = restrict_vocab
        kind = config.resolve(size)
        if limit is not None and (kind == "exact" or limit <= EXACT_MAX):
            return self._prefix_index(limit), None, replace(config, kind="exact")
        if kind == "exact":
            return self._index(), None, config
        return self._approximate_index(kind, config), limit, config

    def _rows_or_none(
        self, words: Sequence[str], on_unknown: str, extra: list[np.ndarray]
    ) -> list[int] | None:
        """Rows of ``words``; an unknown word answered from n-grams gets the id
        ``len(self) + j`` of its unit vector ``extra[j]`` (appended here)."""
        rows = []
        for word in words:
            row = self._index_of.get(word) if isinstance(word, str) else None
            if row is None:
                try:
                    term = self._term(word)
                except UnknownWordError:
                    if on_unknown == "raise":
                        raise
                    return None
                row = len(self) + len(extra)
                extra.append(term)  # type: ignore[arg-type]
            rows.append(row)
        return rows

    @staticmethod
    def _stacked(extra: list[np.ndarray], dim: int) -> np.ndarray:
        return np.array(extra, dtype=np.float32).reshape(len(extra), dim)

    @staticmethod
    def _padded(lists: Sequence[Sequence[int]]) -> np.ndarray:
        width = max((len(x) for x in lists), default=0)
        out = np.full((len(lists), width), -1, dtype=np.int64)
        for row, ids in enumerate(lists):
            out[row, : len(ids)] = ids
        return out

    def _sum_rows(self, ids: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """Sum of the unit vectors of each row's ids (-1 entries are padding; ids from
        ``len(self)`` on are rows of ``extra``, the n-gram vectors of unknown words)."""
        unit = self.unit_vectors
        size = len(self)
        total = np.zeros((ids.shape[0], self.dim), dtype=np.float32)
        for col in range(ids.shape[1]):
            column = ids[:, col]
            present = column >= 0
            if extra is not None and extra.shape[0]:
                built = column >= size
                present &= ~built
                if built.any():
                    total[built] += extra[column[built] - size]
            if present.all():
                total += unit[column]
            elif present.any():
                total[present] += unit[column[present]]
        return total

    def _directions(
        self, pos: np.ndarray, neg: np.ndarray, extra: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unit directions Σpositive − Σnegative and their norms before scaling."""
        query = self._sum_rows(pos, extra) - self._sum_rows(neg, extra)
        norms = np.sqrt(np.einsum("ij,ij->i", query, query))
        scale = np.where(norms > 0, norms, 1.0).astype(np.float32)
        return np.ascontiguousarray(query / scale[:, None], dtype=np.float32), norms

    def _search_excluding(
        self, queries: np.ndarray, exclude: np.ndarray, k: int, index: str | None, restrict: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One FAISS search for all queries; each row's ``exclude`` ids are dropped (-1: padding)."""
        searcher, limit, config = self._searcher(index, restrict)
        rows = limit if limit is not None else searcher.size
        want = min(k + exclude.shape[1], rows)
        if want <= 0 or queries.shape[0] == 0:
            empty = np.zeros((queries.shape[0], 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        scores, ids = searcher.search_arrays(queries, want, config, limit)
        bad = ids < 0
        if exclude.shape[1]:
            bad |= (ids[:, :, None] == exclude[:, None, :]).any(axis=2)
        order = np.argsort(bad, axis=1, kind="stable")[:, :k]
        ids = np.take_along_axis(ids, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        ids[np.take_along_axis(bad, order, axis=1)] = -1
        return scores, ids

    def _search_one(
        self,
        pos: list[int | np.ndarray],
        neg: list[int | np.ndarray],
        k: int,
        index: str | None,
        restrict: int | None,
    ) -> list[tuple[str, float]]:
        """One query without the batch machinery (same direction and exclusions, less overhead).

        A term is a row, or the unit vector of an unknown word (which excludes no row)."""
        total = np.zeros((1, self.dim), dtype=np.float32)
        for term in pos:
            total[0] += self._term_unit(term)
        negative = np.zeros((1, self.dim), dtype=np.float32)
        for term in neg:
            negative[0] += self._term_unit(term)
        query = total - negative
        norm = np.sqrt(np.einsum("ij,ij->i", query, query))
        query = np.ascontiguousarray(query / np.where(norm > 0, norm, 1.0).astype(np.float32)[:, None])
        searcher, limit, config = self._searcher(index, restrict)
        skip = {t for t in [*pos, *neg] if isinstance(t, int)}
        want = min(k + len(skip), limit if limit is not None else searcher.size)
        if want <= 0:
            return []
        scores, ids = searcher.search_arrays(query, want, config, limit)
        words = self.words
        found = zip(ids[0].tolist(), scores[0].tolist())
        return [(words[i], s) for i, s in found if i >= 0 and i not in skip][:k]

    def _answers(self, scores: np.ndarray, ids: np.ndarray) -> list[list[tuple[str, float]]]:
        words = self.words
        return [
            [(words[i], s) for i, s in zip(row_ids, row_scores) if i >= 0]
            for row_ids, row_scores in zip(ids.tolist(), scores.tolist())
        ]

    @staticmethod
    def _check_k(k: int) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise UsageError(f"k must be at least 1, got {k!r}")

    @staticmethod
    def _check_on_unknown(on_unknown: str) -> None:
        if on_unknown not in ("raise", "none"):
            raise UsageError(f"on_unknown must be 'raise' or 'none', got {on_unknown!r}")

    # --- queries ------------------------------------------------------------------
    def most_similar(
        self,
        positive: str | Sequence[str],
        negative: Sequence[str] = (),
        k: int = 10,
        *,
        restrict_vocab: int | None = None,
        index: str | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` words closest in cosine to the mean of ``positive`` minus ``negative``.

        Query words are excluded. ``v.most_similar("paris", k=3)`` gives the three nearest
        words of *paris* with their cosines, as gensim's ``most_similar`` does.
        ``restrict_vocab=N`` searches only the N most frequent words; ``index`` overrides
        the index chosen with :meth:`use_index` for this query.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        self._check_k(k)
        pos = [self._term(w) for w in positive]
        neg = [self._term(w) for w in negative]
        if not pos and not neg:
            raise UsageError("a query needs at least one word")
        return self._search_one(pos, neg, k, index, restrict_vocab)

    def most_similar_batch(
        self,
        queries: Sequence[str | Sequence[str]],
        k: int = 10,
        *,
        restrict_vocab: int | None = None,
        index: str | None = None,
        on_unknown: str = "raise",
    ) -> list[list[tuple[str, float]] | None]:
        """``most_similar`` for many queries (each a word or a list of positive words) in one search.

        Answers equal those of single ``most_similar`` calls. ``on_unknown="none"`` answers
        ``None`` for a query with an unknown word instead of raising :class:`UnknownWordError`.
        """
        self._check_k(k)
        self._check_on_unknown(on_unknown)
        rows: list[list[int] | None] = []
        extra: list[np.ndarray] = []
        for number, query in enumerate(queries, start=1):
            words = [query] if isinstance(query, str) else list(query)
            if not words:
                raise UsageError(f"query {number} of the batch has no word")
            rows.append(self._rows_or_none(words, on_unknown, extra))
        valid = [r for r in rows if r is not None]
        pos = self._padded(valid)
        query, _ = self._directions(pos, self._padded([[] for _ in valid]), self._stacked(extra, self.dim))
        scores, ids = self._search_excluding(query, pos, k, index, restrict_vocab)
        return self._scatter(rows, self._answers(scores, ids))

    @staticmethod
    def _scatter(rows: list[Any], answers: list[Any]) -> list[Any]:
        """Answers back in query order, ``None`` where a query had an unknown word."""
        found = iter(answers)
        return [None if r is None else next(found) for r in rows]

    def analogy(
        self,
        a: str,
        b: str,
        c: str,
        k: int = 10,
        method: str = "add",
        *,
        restrict_vocab: int | None = None,
        index: str | None = None,
    ) -> list[tuple[str, float]]:
        """Words ``x`` with ``x`` to ``c`` as ``b`` is to ``a``, best first.

        ``method="add"`` (3CosAdd: cosine with b − a + c, as gensim's ``most_similar``);
        ``method="mul"`` (3CosMul of Levy and Goldberg 2014, as gensim's
        ``most_similar_cosmul``, whose scores are returned). ``v.analogy("spain", "madrid",
        "france")`` asks for France's *madrid*; the three query words are never answered.
        """
        if method == "add":
            self._check_k(k)
            terms = [self._term(w) for w in (a, b, c)]
            return self._search_one(terms[1:], terms[:1], k, index, restrict_vocab)
        answers = self.analogy_batch(
            [(a, b, c)], k, method=method, restrict_vocab=restrict_vocab, index=index
        )
        return answers[0]  # type: ignore[return-value]

    def analogy_batch(
        self,
        triples: Sequence[Sequence[str]],
        k: int = 10,
        *,
        method: str = "add",
        restrict_vocab: int | None = None,
        index: str | None = None,
        on_unknown: str = "raise",
    ) -> list[list[tuple[str, float]] | None]:
        """``analogy`` for many ``(a, b, c)`` triples at once, vectorised, equal to single calls.

        ``on_unknown="none"`` answers ``None`` for a triple with an unknown word instead of
        raising :class:`UnknownWordError`.
        """
        self._check_k(k)
        self._check_on_unknown(on_unknown)
        if method not in ("add", "mul"):
            raise UsageError(f"unknown analogy method {method!r}: choose 'add' (3CosAdd) or 'mul' (3CosMul)")
        rows: list[list[int] | None] = []
        extra: list[np.ndarray] = []
        for number, triple in enumerate(triples, start=1):
            if isinstance(triple, str) or len(triple) != 3:
                raise UsageError(f"query {number} of the batch is not an (a, b, c) triple: {triple!r}")
            rows.append(self._rows_or_none(triple, on_unknown, extra))
        ids = np.array([r for r in rows if r is not None], dtype=np.int64).reshape(-1, 3)
        pos, neg = ids[:, [1, 2]], ids[:, [0]]
        built = self._stacked(extra, self.dim)
        if method == "add":
            query, _ = self._directions(pos, neg, built)
            scores, found = self._search_excluding(query, ids, k, index, restrict_vocab)
        else:
            scores, found = self._cosmul(pos, neg, k, index, restrict_vocab, built)
        return self._scatter(rows, self._answers(scores, found))

    def most_similar_cosmul(
        self,
        positive: str | Sequence[str],
        negative: Sequence[str] = (),
        k: int = 10,
        *,
        restrict_vocab: int | None = None,
        index: str | None = None,
    ) -> list[tuple[str, float]]:
        """Multiplicative combination (3CosMul): words maximising Π(1+cos(x,p))/2 / (Π(1+cos(x,n))/2 + 1e-6).

        As gensim's ``most_similar_cosmul`` (its scores, query words excluded), but the
        candidates come from the index and are re-ranked exactly.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        self._check_k(k)
        if not positive:
            raise UsageError("most_similar_cosmul needs at least one positive word")
        extra: list[np.ndarray] = []
        pos_rows = self._rows_or_none(positive, "raise", extra)
        neg_rows = self._rows_or_none(negative, "raise", extra)
        pos = np.array([pos_rows], dtype=np.int64)
        neg = np.array([neg_rows], dtype=np.int64).reshape(1, -1)
        scores, ids = self._cosmul(pos, neg, k, index, restrict_vocab, self._stacked(extra, self.dim))
        return self._answers(scores, ids)[0]

    def _cosmul(
        self,
        pos: np.ndarray,
        neg: np.ndarray,
        k: int,
        index: str | None,
        restrict: int | None,
        extra: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """3CosMul, re-ranked exactly over candidates from the index (see :mod:`embedkit.vectors.cosmul`).

        Unknown words' n-gram vectors (``extra``, ids from ``len(self)``) are appended to a
        copy of the unit matrix: only the index's rows are ever answered."""
        searcher, limit, config = self._searcher(index, restrict)
        unit = self.unit_vectors
        if extra is not None and extra.shape[0]:
            unit = np.concatenate([unit, extra])
        return cosmul_search(unit, searcher, limit, config, pos, neg, k)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of all the words (as gensim's ``doesnt_match``).

        Unlike gensim, an unknown word raises :class:`UnknownWordError` instead of being ignored.
        """
        if isinstance(words, str):
            raise UsageError("doesnt_match takes a list of words, not one string")
        words = list(words)
        if not words:
            raise UsageError("doesnt_match needs at least one word")
        unit = np.array([self._term_unit(self._term(w)) for w in words], dtype=np.float32)
        mean = unit.mean(axis=0)
        norm = np.linalg.norm(mean)
        if norm > 0:
            mean = mean / norm
        dists = (unit @ mean.astype(np.float32)).tolist()
        return min(zip(dists, words))[1]

    def similarity(self, word1: str, word2: str) -> float:
        """Cosine similarity of two words."""
        first, second = (self._term_unit(self._term(w)) for w in (word1, word2))
        return float(np.dot(first, second))

    # --- pictures ------------------------------------------------------------------
    def plot(
        self,
        words: Sequence[str] = (),
        *,
        pairs: str | Sequence[tuple[str, str]] = (),
        neighbours: int = 0,
        method: str = "pca",
        out: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> Any:
        """Picture of ``words`` projected to 2-D, with arrows for ``pairs``; returns the matplotlib figure.

        ``v.plot(pairs="spain:madrid,france:paris", out="capitals.png")`` draws the arrow
        from each country to its capital. ``method`` is ``"pca"`` or ``"tsne"``;
        ``neighbours=N`` adds each word's N nearest neighbours. Needs matplotlib
        (``pip install 'embedkit[plot]'``); other options in :func:`embedkit.plot.plot_words`.
        """
        return plot_words(self, words, pairs=pairs, neighbours=neighbours, method=method, out=out, **options)

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
        """Vectors from a gensim ``KeyedVectors`` (or a model with a ``.wv``); a gensim
        ``FastTextKeyedVectors`` with n-grams gives a subword model."""
        kv = getattr(kv, "wv", kv)
        counts = None
        if "count" in getattr(kv, "expandos", {}):
            counts = np.asarray(kv.expandos["count"], dtype=np.int64)
        words = list(kv.index_to_key)
        subwords = None
        if getattr(kv, "bucket", 0) and getattr(kv, "vectors_ngrams", None) is not None:
            minn, maxn, buckets = int(kv.min_n), int(kv.max_n), int(kv.bucket)
            subwords = SubwordVectors(
                minn, maxn, buckets,
                np.asarray(kv.vectors_vocab, dtype=np.float32),
                np.asarray(kv.vectors_ngrams, dtype=np.float32),
                *vocabulary_ngrams(words, minn, maxn, buckets),
            )  # fmt: skip
        return cls(words, np.asarray(kv.vectors, dtype=np.float32), counts=counts, subwords=subwords)

    # --- persistence -------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save in embedkit's safe native format (a folder of .npy arrays and JSON)."""
        save_native(self, path)

    def save_word2vec(self, path: str | os.PathLike[str], binary: bool = True) -> None:
        """Save in word2vec's binary (default) or text format, as gensim writes them."""
        save_word2vec(self, path, binary=binary)

    def save_as(self, path: str | os.PathLike[str], format: str | None = None) -> str:
        """Save in the format the name asks for (``.bin``: fastText ``.bin`` for a subword model,
        else word2vec binary; ``.txt``/``.vec`` word2vec text; anything else a native folder),
        or the one ``format`` names (``native``, ``word2vec``, ``word2vec-text``, ``fasttext``);
        return that format's name."""
        return write_vectors(self, path, format)

    def save_fasttext(self, path: str | os.PathLike[str]) -> None:
        """Save as a fastText ``.bin`` model (``fasttext`` and gensim's ``load_facebook_model``
        read it; plain vectors become a model without n-grams)."""
        write_vectors(self, path, "fasttext")


def load(
    path: str | os.PathLike[str],
    mmap: bool = False,
    limit: int | None = None,
    unicode_errors: str = "strict",
) -> Vectors:
    """Load vectors from a native model folder, word2vec binary/text, fastText ``.vec`` or
    ``.bin`` (a subword model: unknown words get vectors from their n-grams), or GloVe text file.

    The format is told from the content, not the file name. ``mmap=True`` maps a native
    model's matrix read-only instead of reading it; ``limit`` keeps only the first words.
    A word2vec/GloVe word that is not UTF-8 is an error unless ``unicode_errors`` is
    ``"replace"`` (bad bytes become U+FFFD) or ``"ignore"`` (dropped), as in gensim. A word
    listed twice keeps its first vector, with a warning (as gensim does).
    """
    data = read_vectors(path, mmap=mmap, limit=limit, unicode_errors=unicode_errors)
    vectors = Vectors(
        data.words, data.vectors, counts=data.counts, meta=data.meta, word_rows=data.index, state=data.state,
        subwords=data.subwords,
    )  # fmt: skip
    vectors.source = Path(path)  # where a saved approximate index may be kept (see embedkit.vectors.index)
    return vectors


def _check_subwords(sub: SubwordVectors, n_words: int, dim: int) -> None:
    """The n-gram half must fit the vocabulary: its shapes are checked once, here."""
    if not isinstance(sub, SubwordVectors):
        raise UsageError(f"subwords must be a SubwordVectors, got {type(sub).__name__}")
    if sub.word_input.shape != (n_words, dim) or sub.ngrams.shape != (sub.buckets, dim):
        raise FormatError(
            f"subword matrices {sub.word_input.shape} and {sub.ngrams.shape} do not fit "
            f"{n_words} words of dim {dim} with {sub.buckets} buckets"
        )
    if sub.offsets.shape != (n_words + 1,) or sub.offsets[-1] != sub.ids.shape[0]:
        raise FormatError("the n-gram ids of the vocabulary do not fit its words")
