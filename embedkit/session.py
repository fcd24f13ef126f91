"""The query session: one model loaded once, and the questions any front end asks of it.

The command line uses it, and an HTTP service can use it unchanged: it loads a model (or
the embedded default), picks the search index, resolves the words a person typed (the
word itself, else its lower-case form), answers single and batched neighbour and analogy
queries, and reads and writes the batch line protocol (``A B C`` in, ``query<TAB>word
score<TAB>...`` out, one line each). With a subword model a word outside the vocabulary
(in any case) is answered from its character n-grams; :meth:`QuerySession.from_ngrams`
says which query words were, so a front end can tell the user.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .default import load_default
from .errors import UnknownWordError, UsageError
from .plot import check_known, fit_pca
from .vectors.index import IndexConfig
from .vectors.store import Vectors, load

ANALOGY_METHODS = ("add", "mul")
"""3CosAdd (cosine with b - a + c) and 3CosMul (Levy and Goldberg 2014)."""
BATCH_CHUNK = 8192
"""Batch queries answered by one vectorised search."""


def check_index(kind: str) -> None:
    """Reject an unknown index name before any model is loaded (:class:`UsageError`)."""
    IndexConfig(kind=kind)


def check_method(method: str) -> None:
    """Reject an unknown analogy method (:class:`UsageError`)."""
    if method not in ANALOGY_METHODS:
        raise UsageError(f"unknown --method {method!r}: choose add (3CosAdd) or mul (3CosMul)")


@dataclass
class BatchSummary:
    """What a batch run answered: queries, and those with unknown words or malformed."""

    queries: int = 0
    unknown: int = 0
    malformed: int = 0

    def __str__(self) -> str:
        failed = self.unknown + self.malformed
        text = f"answered {self.queries - failed:,} of {self.queries:,} queries"
        if failed:
            text += f" ({self.unknown:,} with unknown words, {self.malformed:,} malformed)"
        return text


@dataclass
class Projection:
    """Words placed on a plane (:meth:`QuerySession.project`): their ``(x, y)`` points, in the
    same order, and the share of the variance the two axes keep."""

    words: list[str]
    points: list[tuple[float, float]]
    variance_kept: float


class QuerySession:
    """A loaded model answering queries; words are resolved as a person means them."""

    def __init__(self, vectors: Vectors, name: str = "the model") -> None:
        self.vectors = vectors
        self.name = name

    @classmethod
    def open(
        cls,
        model: str | os.PathLike[str] | None = None,
        *,
        progress: bool = False,
        index: str = "auto",
        mmap: bool = False,
        **index_options: int | None,
    ) -> QuerySession:
        """Load ``model`` (any format :func:`embedkit.load` reads) or, for ``None``, the default
        model, with the search ``index`` and its options (``M``, ``ef_construction``,
        ``ef_search``, ``nlist``, ``nprobe``; ``None`` keeps a default). ``mmap=True`` maps a
        native model folder's matrix read-only, so processes serving it share one copy."""
        check_index(index)
        if model is None:
            vectors, name = load_default(progress=progress, mmap=mmap), "the default model"
        else:
            vectors, name = load(model, mmap=mmap), Path(model).name
        vectors.use_index(index, **index_options)
        return cls(vectors, name)

    # --- words ----------------------------------------------------------------------
    def lookup(self, word: str) -> str:
        """The word as the model has it: itself, or its lower-case form; unknown words unchanged."""
        vectors = self.vectors
        return word if word in vectors or word.lower() not in vectors else word.lower()

    def resolve(self, word: str) -> str:
        """:meth:`lookup`, raising :class:`UnknownWordError` for a word the model lacks in any case
        (and, in a subword model, cannot build from n-grams)."""
        found = self.lookup(word)
        if found not in self.vectors and not self.vectors.has_vector(found):
            if self.vectors.subwords is not None:
                raise UnknownWordError(word, "and it has no character n-gram in this model")
            raise UnknownWordError(word)
        return found

    def from_ngrams(self, words: Iterable[str]) -> list[str]:
        """The query words outside the vocabulary (in any case) that the model answers from
        their character n-grams (a subword model); each once, in order."""
        if self.vectors.subwords is None:
            return []
        found = dict.fromkeys(w for w in words if self.lookup(w) not in self.vectors)
        return [w for w in found if self.vectors.has_vector(w)]

    # --- single queries -------------------------------------------------------------
    def similar(
        self,
        positive: str | Sequence[str],
        negative: Sequence[str] = (),
        k: int = 10,
        restrict: int | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest words by cosine to the positive words minus the negative ones."""
        positive = [positive] if isinstance(positive, str) else list(positive)
        return self.vectors.most_similar(
            [self.resolve(w) for w in positive],
            [self.resolve(w) for w in negative],
            k=k,
            restrict_vocab=restrict,
        )

    def analogy(
        self, a: str, b: str, c: str, k: int = 10, method: str = "add", restrict: int | None = None
    ) -> list[tuple[str, float]]:
        """Words that are to ``c`` as ``b`` is to ``a`` (b - a + c), best first."""
        check_method(method)
        words = [self.resolve(w) for w in (a, b, c)]
        return self.vectors.analogy(*words, k=k, method=method, restrict_vocab=restrict)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of the others."""
        return self.vectors.doesnt_match([self.resolve(w) for w in words])

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of two words."""
        return self.vectors.similarity(self.resolve(first), self.resolve(second))

    def vector(self, word: str) -> np.ndarray:
        """A word's vector (read-only view of the model's row)."""
        row = self.vectors[self.resolve(word)]
        row = row.view()
        row.flags.writeable = False
        return row

    def info(self) -> dict[str, Any]:
        """Size, dimension, index and training settings of the model (and its n-grams, if any)."""
        vectors = self.vectors
        sub = vectors.subwords
        return {
            "name": self.name,
            "words": len(vectors),
            "dim": vectors.dim,
            "index": vectors.index_kind(),
            "training": vectors.meta.get("training", {}),
            **(
                {}
                if sub is None
                else {"subwords": {"minn": sub.minn, "maxn": sub.maxn, "buckets": sub.buckets}}
            ),
        }

    def project(self, words: Sequence[str]) -> Projection:
        """``words`` placed on a plane: PCA of their unit vectors fitted on these words, as
        ``embedkit plot`` projects them (:func:`embedkit.plot.fit_pca`). Unknown words raise
        one :class:`UnknownWordsError` naming them all."""
        found = list(dict.fromkeys(self.lookup(w) for w in words))
        if not found:
            raise UsageError("nothing to project: give at least one word")
        check_known(self.vectors, found)
        points = self.vectors.unit_vectors[[self.vectors.index_of(w) for w in found]]
        mean, axes, kept = fit_pca(points)
        xy = (np.asarray(points, dtype=np.float64) - mean) @ axes.T
        return Projection(found, [(float(x), float(y)) for x, y in xy], kept)

    # --- batches ----------------------------------------------------------------------
    def analogy_batch(
        self, triples: Sequence[Sequence[str]], k: int = 10, method: str = "add", restrict: int | None = None
    ) -> list[list[tuple[str, float]] | None]:
        """Many analogies in one search; ``None`` for a triple with a word the model lacks."""
        check_method(method)
        resolved = [[self.lookup(w) for w in triple] for triple in triples]
        return self.vectors.analogy_batch(
            resolved, k, method=method, restrict_vocab=restrict, on_unknown="none"
        )

    def similar_batch(
        self, queries: Sequence[str | Sequence[str]], k: int = 10, restrict: int | None = None
    ) -> list[list[tuple[str, float]] | None]:
        """Many neighbour queries in one search; ``None`` for a query with a word the model lacks."""
        resolved = [[self.lookup(w) for w in ([q] if isinstance(q, str) else q)] for q in queries]
        return self.vectors.most_similar_batch(resolved, k, restrict_vocab=restrict, on_unknown="none")

    def unknown_word(self, words: Sequence[str]) -> str | None:
        """The first of ``words`` the model lacks (in any case, and without n-grams), or ``None``."""
        return next((w for w in words if not self.vectors.has_vector(self.lookup(w))), None)

    def answer_lines(
        self,
        lines: Iterable[str],
        k: int = 10,
        method: str = "add",
        restrict: int | None = None,
        summary: BatchSummary | None = None,
    ) -> Iterator[str]:
        """Answer batch lines: one output line per query ``A B C`` (a fourth word is ignored).

        Blank lines and lines starting with ``#`` or ``:`` are skipped. An answer line is
        the query, a tab, then ``word score`` answers separated by tabs, or ``error: ...``
        for that query alone. Queries are answered :data:`BATCH_CHUNK` at a time by one
        search; ``summary`` (if given) counts what was answered.
        """
        check_method(method)
        summary = summary if summary is not None else BatchSummary()
        pending: list[tuple[str, list[str] | None]] = []
        for line in lines:
            parts = line.split()
            if not parts or parts[0].startswith(("#", ":")):
                continue
            summary.queries += 1
            if len(parts) not in (3, 4):
                summary.malformed += 1
                pending.append((" ".join(parts), None))
            else:
                pending.append((" ".join(parts[:3]), parts[:3]))
            if len(pending) >= BATCH_CHUNK:
                yield from self._answer_pending(pending, k, method, restrict, summary)
                pending = []
        if pending:
            yield from self._answer_pending(pending, k, method, restrict, summary)

    def _answer_pending(
        self,
        pending: list[tuple[str, list[str] | None]],
        k: int,
        method: str,
        restrict: int | None,
        summary: BatchSummary,
    ) -> Iterator[str]:
        answers = iter(self.analogy_batch([w for _, w in pending if w is not None], k, method, restrict))
        for query, words in pending:
            if words is None:
                yield f"{query}\terror: expected 3 words (A B C), got {len(query.split())}"
                continue
            answer = next(answers)
            if answer is None:
                summary.unknown += 1
                yield f"{query}\terror: {UnknownWordError(self.unknown_word(words) or words[0])}"
            else:
                yield "\t".join([query, *(f"{w} {s:.4f}" for w, s in answer)])
