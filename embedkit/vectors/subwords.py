"""The n-gram half of a subword (fastText-style) model: vectors for any word.

fastText's input matrix has one row per vocabulary word and one per hash bucket; a word's
vector is the mean of its own row and the rows of its n-gram buckets, and a word outside
the vocabulary gets the mean of its n-gram rows alone. :class:`SubwordVectors` holds those
matrices (the bucket rows may be a read-only memory map: they are read only when an
unknown word is asked) and the vocabulary's n-gram ids; :meth:`SubwordVectors.word_vectors`
computes the full vectors of the vocabulary with a numba kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..text.subwords import ngram_ids


@njit(cache=True, nogil=True)
def _word_vectors(
    word_input: np.ndarray, ngrams: np.ndarray, offsets: np.ndarray, ids: np.ndarray, out: np.ndarray
) -> None:
    """``out[i]`` = mean of ``word_input[i]`` and the bucket rows ``ngrams[ids[offsets[i]:offsets[i+1]]]``."""
    dim = word_input.shape[1]
    acc = np.empty(dim, dtype=np.float32)
    for w in range(word_input.shape[0]):
        for d in range(dim):
            acc[d] = word_input[w, d]
        for k in range(offsets[w], offsets[w + 1]):
            row = ids[k]
            for d in range(dim):
                acc[d] += ngrams[row, d]
        scale = np.float32(1.0 / (1 + offsets[w + 1] - offsets[w]))
        for d in range(dim):
            out[w, d] = acc[d] * scale


@dataclass(frozen=True)
class SubwordVectors:
    """The n-gram half of a subword model (fastText's input matrix = word rows + bucket rows).

    ``word_input`` (n_words × dim) are the vocabulary words' own rows, ``ngrams``
    (buckets × dim) the bucket rows, ``offsets``/``ids`` the CSR of the vocabulary's
    n-gram ids from :func:`embedkit.text.subwords.vocabulary_ngrams`.
    """

    minn: int
    maxn: int
    buckets: int
    word_input: np.ndarray
    ngrams: np.ndarray
    offsets: np.ndarray
    ids: np.ndarray

    @property
    def dim(self) -> int:
        """Number of dimensions of each row."""
        return int(self.ngrams.shape[1])

    def oov_vector(self, word: str) -> np.ndarray | None:
        """Mean of the rows of ``word``'s n-grams (fastText's vector of an unknown word); ``None``
        when the word has no n-gram in this model."""
        ids = ngram_ids(word, self.minn, self.maxn, self.buckets)
        if ids.size == 0:
            return None
        total = np.zeros(self.dim, dtype=np.float32)
        for row in ids.tolist():
            total += self.ngrams[row]
        return total * np.float32(1.0 / ids.size)

    def word_vectors(self) -> np.ndarray:
        """(n_words, dim) float32: each vocabulary word's mean of its own row and its n-gram rows
        (fastText's ``getWordVector``), computed by a numba kernel."""
        out = np.empty(self.word_input.shape, dtype=np.float32)
        if out.size:
            _word_vectors(
                np.asarray(self.word_input, dtype=np.float32),
                np.asarray(self.ngrams, dtype=np.float32),
                np.asarray(self.offsets, dtype=np.int64),
                np.asarray(self.ids, dtype=np.int32),
                out,
            )
        return out
