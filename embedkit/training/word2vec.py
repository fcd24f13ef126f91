"""The word2vec model: skip-gram or CBOW with negative sampling, as a model of the training core.

A model says what weights it trains, how one chunk of the corpus updates them (its
kernel, :mod:`embedkit.training.kernels`) and which matrix is the word vectors; the core
and the backends (threads, Dask) do the rest. A new model (subword vectors, say) is a new
file with the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .core import Tables, Weights


@dataclass(frozen=True)
class Word2Vec:
    """Skip-gram (or CBOW with ``cbow=True``) with ``negative`` noise words and a ``window``.

    Weights: ``syn0`` (input vectors: the word vectors) and ``syn1neg`` (output vectors),
    one row per vocabulary word. A small frozen record of plain values, so it travels to
    cluster workers as cheaply as the settings it holds.
    """

    window: int
    negative: int
    cbow: bool = False
    share_negatives: int = 0
    """Skip-gram: contexts that share one draw of noise words (0: every context of the window)."""
    vectors_key: str = "syn0"
    """The word vectors are the input matrix."""

    def init_weights(self, n_words: int, dim: int, seed: int) -> Weights:
        """word2vec's start: input rows uniform in [-0.5/dim, 0.5/dim), output rows zero."""
        rng = np.random.default_rng(seed)
        syn0 = rng.random((n_words, dim), dtype=np.float32)  # in place: no temporary matrices
        syn0 -= np.float32(0.5)
        syn0 /= np.float32(dim)
        return {"syn0": syn0, "syn1neg": np.zeros((n_words, dim), dtype=np.float32)}

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
        """Train the lines ``bounds`` (corpus offsets; ``tokens`` holds just their ids) in place.

        Returns (summed loss, examples trained, tokens read)."""
        return kernels.train_chunk(
            weights["syn0"], weights["syn1neg"], tokens, bounds, tables.keep,
            tables.noise_thresholds, tables.noise_aliases,
            tables.sigmoid, tables.log_sigmoid, self.window, self.negative,
            alpha_start, alpha_end, seed, self.cbow, self.share_negatives,
        )  # fmt: skip

    def row_weights(self, occurrences: np.ndarray, tables: Tables) -> dict[str, np.ndarray]:
        """Expected updates of each row given the words read (for count-weighted merging).

        An input row is updated once per kept occurrence of its word (under subsampling);
        an output row for its word's occurrences plus its expected draws as a noise word."""
        kept = occurrences * (tables.keep.astype(np.float64) / 2.0**32)
        return {"syn0": kept, "syn1neg": kept + self.negative * kept.sum() * tables.noise_probabilities()}
