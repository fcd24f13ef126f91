"""The subword (fastText-style) model: skip-gram or CBOW over words and their character n-grams.

Each word's input vector is the mean of its own row and the rows of its character n-gram
buckets (Bojanowski et al. 2017, fastText's model); the buckets are fastText's (FNV-1a of
the n-grams of ``<word>``, :mod:`embedkit.text.subwords`), so the trained model answers
unknown words the way fastText does. The vocabulary's n-gram ids are computed once when
the model is made, not per occurrence. Weights: ``syn0`` (the words' own input rows),
``ngrams`` (one row per bucket) and ``syn1neg`` (output rows). The kernels are in
:mod:`embedkit.training.subword_kernels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..text.subwords import vocabulary_ngrams
from ..vectors.subwords import SubwordVectors
from . import subword_kernels
from .core import Tables, Weights


def _uniform(rows: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """fastText's start of the input matrix: uniform in [-1/dim, 1/dim), built in place."""
    matrix = rng.random((rows, dim), dtype=np.float32)
    matrix *= np.float32(2.0 / dim)
    matrix -= np.float32(1.0 / dim)
    return matrix


@dataclass(frozen=True, eq=False)
class Subword:
    """Skip-gram (or CBOW with ``cbow=True``) over words and their n-grams, ``negative`` noise words.

    ``offsets``/``ids`` are the vocabulary's n-gram bucket ids (CSR, see
    :func:`embedkit.text.subwords.vocabulary_ngrams`); make one with :meth:`for_words`."""

    window: int
    negative: int
    minn: int
    maxn: int
    buckets: int
    offsets: np.ndarray
    ids: np.ndarray
    cbow: bool = False
    share_negatives: int = 0
    """Skip-gram: contexts that share one draw of noise words (0: every context of the window)."""
    vectors_key: str = "syn0"
    """The words' own input rows (their full vectors are :meth:`vectors`)."""

    @classmethod
    def for_words(
        cls, words: Sequence[str], *, window: int, negative: int, minn: int, maxn: int, buckets: int,
        cbow: bool = False, share_negatives: int = 0,
    ) -> Subword:  # fmt: skip
        """The model of a vocabulary ``words`` (its n-gram ids computed here, once)."""
        offsets, ids = vocabulary_ngrams(words, minn, maxn, buckets)
        return cls(window, negative, minn, maxn, buckets, offsets, ids, cbow, share_negatives)

    def init_weights(self, n_words: int, dim: int, seed: int) -> Weights:
        """fastText's start: input rows (words and buckets) uniform in [-1/dim, 1/dim), output rows zero.

        The bucket rows come from a random stream of their own, so that with one seed they
        start the same whatever the size of the vocabulary (models of two corpora stay comparable)."""
        return {
            "syn0": _uniform(n_words, dim, np.random.default_rng(seed)),
            "ngrams": _uniform(self.buckets, dim, np.random.default_rng([seed, 1])),
            "syn1neg": np.zeros((n_words, dim), dtype=np.float32),
        }

    def train_chunk(
        self,
        weights: Weights,
        tables: Tables,
        tokens: np.ndarray,
        bounds: np.ndarray,
        alpha_start: float,
        alpha_end: float,
        seed: np.uint64,
    ) -> tuple[float, int, int]:
        """Train the lines ``bounds`` in place; return (summed loss, examples trained, tokens read)."""
        return subword_kernels.train_subword_chunk(
            weights["syn0"], weights["ngrams"], weights["syn1neg"], self.offsets, self.ids,
            tokens, bounds, tables.keep, tables.noise_thresholds, tables.noise_aliases,
            tables.sigmoid, tables.log_sigmoid, self.window, self.negative,
            alpha_start, alpha_end, seed, self.cbow, self.share_negatives,
        )  # fmt: skip

    def subwords(self, weights: Weights) -> SubwordVectors:
        """The n-gram half of the trained model: views of the weights, no copies."""
        return SubwordVectors(
            self.minn, self.maxn, self.buckets, weights["syn0"], weights["ngrams"], self.offsets, self.ids
        )

    def vectors(self, weights: Weights) -> np.ndarray:
        """The vocabulary's full vectors: each word's mean of its own and its n-gram rows."""
        return self.subwords(weights).word_vectors()

    def row_weights(self, occurrences: np.ndarray, tables: Tables) -> dict[str, np.ndarray]:
        """Expected updates of each row given the words read (for count-weighted merging)."""
        kept = occurrences * (tables.keep.astype(np.float64) / 2.0**32)
        per_bucket = np.bincount(
            self.ids, weights=np.repeat(kept, np.diff(self.offsets)), minlength=self.buckets
        )
        return {
            "syn0": kept,
            "ngrams": per_bucket,
            "syn1neg": kept + self.negative * kept.sum() * tables.noise_probabilities(),
        }
