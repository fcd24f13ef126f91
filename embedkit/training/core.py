"""The training core: what every model and every backend of a run share.

A :class:`TrainingRun` holds one run's state: the settings, the vocabulary, the encoded
corpus, the model and its weights (named numpy arrays), the tables the kernels read
(subsampling thresholds, noise distribution, sigmoid), the learning-rate schedule, the
per-chunk seeds, the chunk plan, the per-epoch losses and the progress bar. A *backend*
decides only where chunks are trained: :mod:`embedkit.training.threads` on this
process's threads, :mod:`embedkit.training.cluster` on Dask workers. Both call the model
through the same seam, :meth:`Model.train_chunk`, with the seed and learning rates the
core gives each chunk, so a new model or a new backend is a new file.

The learning rate falls linearly with the position of a chunk in the whole run, not with
the order in which chunks happen to finish, and chunk ``i`` of epoch ``e`` is trained with
a seed made from ``(seed, e, i)``: a one-worker run with a fixed seed is bit-for-bit
repeatable. With more workers the updates race (as in word2vec and gensim).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..text.encoded import EncodedCorpus
from ..text.vocabulary import Vocabulary
from . import kernels
from .progress import ProgressBar
from .settings import TrainingSettings

CHUNK_TOKENS = 20_000
"""Tokens per chunk: the unit of work a kernel call trains with one seed."""

Weights = dict[str, np.ndarray]
"""A model's weight matrices by name (``syn0``, ``syn1neg``, ...)."""


@dataclass(frozen=True)
class Tables:
    """Read-only tables the kernels look up: subsampling, noise words, sigmoid and its log."""

    keep: np.ndarray
    """Per word, the probability (scaled to 2**32) of keeping one of its tokens."""
    noise: np.ndarray
    """Cumulative unigram^0.75 distribution (gensim's ``cum_table``)."""
    sigmoid: np.ndarray
    log_sigmoid: np.ndarray

    @classmethod
    def build(cls, counts: np.ndarray, sample: float) -> Tables:
        """The tables of a vocabulary with ``counts`` and a subsampling threshold ``sample``."""
        sigmoid, log_sigmoid = kernels.make_sigmoid_tables()
        return cls(kernels.make_keep_thresholds(counts, sample), kernels.make_noise_table(counts), sigmoid,
                   log_sigmoid)  # fmt: skip

    def arrays(self) -> list[np.ndarray]:
        """The tables as plain arrays, in field order (to ship to workers; :meth:`from_arrays` inverts)."""
        return [self.keep, self.noise, self.sigmoid, self.log_sigmoid]

    @classmethod
    def from_arrays(cls, arrays: list[np.ndarray]) -> Tables:
        """Tables from :meth:`arrays`."""
        return cls(*arrays)

    def noise_probabilities(self) -> np.ndarray:
        """Probability of each word being drawn as a noise word."""
        return np.diff(self.noise, prepend=0) / float(self.noise[-1])


class Model(Protocol):
    """What the core needs of a model (see :class:`embedkit.training.word2vec.Word2Vec`)."""

    def init_weights(self, n_words: int, dim: int, seed: int) -> Weights:
        """Fresh weights for ``n_words`` words of ``dim`` dimensions."""
        ...

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
        """Train one chunk in place; return (summed loss, examples, tokens read)."""
        ...

    def vectors(self, weights: Weights) -> np.ndarray:
        """The word vectors the run produces."""
        ...

    def row_weights(self, occurrences: np.ndarray, tables: Tables) -> dict[str, np.ndarray]:
        """Expected updates per row of each weight matrix, given word ``occurrences`` read."""
        ...


@dataclass(frozen=True)
class Schedule:
    """Linear learning-rate decay from ``alpha`` to ``min_alpha`` over ``total_work`` tokens."""

    alpha: float
    min_alpha: float
    total_work: int

    def alpha_at(self, done: float) -> float:
        """The learning rate once ``done`` tokens of the whole run (all epochs) are trained."""
        return self.alpha - (self.alpha - self.min_alpha) * (done / self.total_work)


def chunk_seed(seed: int, epoch: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` (its index in corpus order) in epoch ``epoch``."""
    return (seed << 32) ^ (epoch << 24) ^ chunk


@dataclass
class EpochLosses:
    """Loss and examples summed per epoch, added to from any thread."""

    loss: np.ndarray
    examples: np.ndarray
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def zeros(cls, epochs: int) -> EpochLosses:
        return cls(np.zeros(epochs, dtype=np.float64), np.zeros(epochs, dtype=np.int64))

    def add(self, epoch: int, loss: float, examples: int) -> None:
        with self.lock:
            self.loss[epoch] += loss
            self.examples[epoch] += examples

    def mean(self, epoch: int) -> float:
        """Mean loss per example of ``epoch`` so far."""
        return float(self.loss[epoch] / max(self.examples[epoch], 1))

    def means(self) -> list[float]:
        """Mean loss per example of every epoch."""
        return (self.loss / np.maximum(self.examples, 1)).tolist()


@dataclass
class TrainingRun:
    """One run: everything a backend needs to train the model's weights on the corpus."""

    settings: TrainingSettings
    vocab: Vocabulary
    corpus: EncodedCorpus
    model: Model
    weights: Weights
    tables: Tables
    schedule: Schedule
    losses: EpochLosses
    bar: ProgressBar
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def start(
        cls,
        settings: TrainingSettings,
        vocab: Vocabulary,
        corpus: EncodedCorpus,
        model: Model,
        progress: bool,
    ) -> TrainingRun:
        """Initialise the weights and tables of a run and show its progress bar (if ``progress``)."""
        total_work = corpus.n_tokens * settings.epochs
        return cls(
            settings=settings,
            vocab=vocab,
            corpus=corpus,
            model=model,
            weights=model.init_weights(len(vocab), settings.dim, settings.seed),
            tables=Tables.build(vocab.counts, settings.sample),
            schedule=Schedule(settings.alpha, settings.min_alpha, total_work),
            losses=EpochLosses.zeros(settings.epochs),
            bar=ProgressBar(progress, total_work),
        )

    def chunks(self, chunk_tokens: int = CHUNK_TOKENS) -> list[np.ndarray]:
        """The chunk plan: line bounds of chunks of about ``chunk_tokens`` tokens, in corpus order."""
        return self.corpus.chunks(chunk_tokens)

    def seed(self, epoch: int, chunk: int) -> int:
        """The seed of chunk ``chunk`` of ``epoch`` (see :func:`chunk_seed`)."""
        return chunk_seed(self.settings.seed, epoch, chunk)

    def alphas(self, epoch: int, bounds: np.ndarray) -> tuple[float, float]:
        """Learning rates at the start and end of a chunk, from its place in the run."""
        offset = epoch * self.corpus.n_tokens
        return self.schedule.alpha_at(offset + int(bounds[0])), self.schedule.alpha_at(
            offset + int(bounds[-1])
        )

    def train_chunk(self, epoch: int, chunk: int, bounds: np.ndarray) -> int:
        """Train chunk ``chunk`` (line ``bounds``) of ``epoch`` on the shared weights; return tokens read."""
        tokens = np.asarray(self.corpus.read(int(bounds[0]), int(bounds[-1])))
        loss, examples, words = self.model.train_chunk(
            self.weights, self.tables, tokens, bounds, *self.alphas(epoch, bounds),
            np.uint64(self.seed(epoch, chunk)),
        )  # fmt: skip
        del tokens  # unmap the chunk
        self.losses.add(epoch, loss, examples)
        return words

    def show_progress(self, done: int) -> None:
        """Update the bar once ``done`` tokens of the whole run are trained."""
        n_tokens = max(self.corpus.n_tokens, 1)
        epoch = min(done // n_tokens, self.settings.epochs - 1)
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        speed = done * self.corpus.raw_tokens / n_tokens / elapsed  # raw corpus words per second
        label = f"{epoch + 1}/{self.settings.epochs}"
        self.bar.update(done, label, speed, self.schedule.alpha_at(done), self.losses.mean(epoch))

    @property
    def vectors(self) -> np.ndarray:
        """The trained word vectors."""
        return self.model.vectors(self.weights)


class Backend(Protocol):
    """Where a run's chunks are trained. Used as a context manager around the whole run
    (a cluster connects on entry and disconnects on exit), then :meth:`train` once."""

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def train(self, run: TrainingRun) -> dict[str, Any]:
        """Train every epoch of ``run`` into ``run.weights``; return facts to record (may be empty)."""
        ...
