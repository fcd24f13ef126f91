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

import dataclasses
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import UsageError
from ..text.encoded import EncodedCorpus
from ..text.vocabulary import Vocabulary
from ..vectors.store import Vectors
from ..vectors.subwords import SubwordVectors
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
    noise_thresholds: np.ndarray
    noise_aliases: np.ndarray
    """The same distribution as an alias table, which the kernels draw noise words from."""
    sigmoid: np.ndarray
    log_sigmoid: np.ndarray

    @classmethod
    def build(cls, counts: np.ndarray, sample: float) -> Tables:
        """The tables of a vocabulary with ``counts`` and a subsampling threshold ``sample``."""
        sigmoid, log_sigmoid = kernels.make_sigmoid_tables()
        thresholds, aliases = kernels.make_noise_alias(counts)
        return cls(kernels.make_keep_thresholds(counts, sample), kernels.make_noise_table(counts),
                   thresholds, aliases, sigmoid, log_sigmoid)  # fmt: skip

    def arrays(self) -> list[np.ndarray]:
        """The tables as plain arrays, in field order (to ship to workers; :meth:`from_arrays` inverts)."""
        return [getattr(self, f.name) for f in dataclasses.fields(self)]

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

    vectors_key: str
    """Which of the weights are the word vectors (the others are the state a full model keeps)."""

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


class StopTraining(Exception):
    """Raise in an epoch callback to end training after that epoch; the vectors trained so far
    are returned (as when the callback returns a true value)."""


EpochCallback = Callable[[int, float, Vectors], object]
"""Called after each epoch with the epoch number (from 1), its mean loss and the current
vectors (a read-only view of the weights being trained, no copy). A true return value, or
:class:`StopTraining`, stops training after this epoch; any other exception aborts it."""


@dataclass(frozen=True)
class Position:
    """Where a run stands: the next chunk of the chunk plan to train in ``epoch`` (both from 0)."""

    epoch: int = 0
    chunk: int = 0


@dataclass(frozen=True)
class CheckpointPolicy:
    """Write a full model to ``path`` every ``epochs`` epochs, or every ``minutes`` minutes
    (at the first point between chunks after that long)."""

    path: Path
    epochs: int | None = None
    minutes: float | None = None

    @classmethod
    def parse(cls, every: int | str, path: str | os.PathLike[str]) -> CheckpointPolicy:
        """``2`` (or ``"2"``): every 2 epochs; ``"10m"`` (or ``"10min"``): every 10 minutes."""
        text = str(every).strip().lower()
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|min|minutes?)?", text)
        if isinstance(every, bool) or match is None:
            raise UsageError(
                f"checkpoint_every must be a number of epochs (2) or minutes (10m), got {every!r}"
            )
        value = float(match.group(1))
        if match.group(2):
            if not 0 < value <= 100_000:
                raise UsageError(f"checkpoint minutes must be in (0, 100000], got {value:g}")
            return cls(Path(path), minutes=value)
        if value != int(value) or not 1 <= value <= 10_000:
            raise UsageError(f"checkpoint epochs must be a whole number from 1 to 10000, got {text}")
        return cls(Path(path), epochs=int(value))


@dataclass
class TrainingRun:
    """One run: everything a backend needs to train the model's weights on the corpus.

    A backend trains chunks through :meth:`train_chunk` and, whenever no chunk is in flight
    at the end of an epoch, calls :meth:`epoch_end` (callbacks, checkpoints, early stop);
    between chunks it may call :meth:`save_checkpoint` when :meth:`checkpoint_due` says so.
    """

    settings: TrainingSettings
    vocab: Vocabulary
    corpus: EncodedCorpus
    model: Model
    weights: Weights
    tables: Tables
    schedule: Schedule
    losses: EpochLosses
    bar: ProgressBar
    start_at: Position = field(default_factory=Position)
    """Where training starts (later than the beginning when a checkpoint is resumed)."""
    callbacks: list[EpochCallback] = field(default_factory=list)
    checkpoint: CheckpointPolicy | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    """What the pipeline measured before training (corpus, timings), for the model's metadata."""
    previous_seconds: float = 0.0
    """Training time spent before a resumed run started."""
    epoch_offset: int = 0
    """Epochs the weights were trained before this run (a continued model's): seeds go on from there."""
    epochs_trained: int | None = None
    """Epochs completed when a callback stopped training early (``None``: not stopped)."""
    start_tokens: int = 0
    """Tokens of the whole run trained before this process started (set by the backend)."""
    started: float = field(default_factory=time.perf_counter)
    last_checkpoint: float = field(default_factory=time.perf_counter)

    @classmethod
    def start(
        cls,
        settings: TrainingSettings,
        vocab: Vocabulary,
        corpus: EncodedCorpus,
        model: Model,
        progress: bool,
        weights: Weights | None = None,
    ) -> TrainingRun:
        """Initialise the tables of a run (and its weights, unless given) and show its progress bar."""
        total_work = corpus.n_tokens * settings.epochs
        return cls(
            settings=settings,
            vocab=vocab,
            corpus=corpus,
            model=model,
            weights=model.init_weights(len(vocab), settings.dim, settings.seed)
            if weights is None
            else weights,
            tables=Tables.build(vocab.counts, settings.sample),
            schedule=Schedule(settings.alpha, settings.min_alpha, total_work),
            losses=EpochLosses.zeros(settings.epochs),
            bar=ProgressBar(progress, total_work),
        )

    # --- the plan -------------------------------------------------------------------
    def chunks(self, chunk_tokens: int = CHUNK_TOKENS) -> list[np.ndarray]:
        """The chunk plan: line bounds of chunks of about ``chunk_tokens`` tokens, in corpus order."""
        return self.corpus.chunks(chunk_tokens)

    def first_task(self, n_chunks: int) -> int:
        """Index of the first task (``epoch * n_chunks + chunk``) to train, for a plan of ``n_chunks``."""
        start = self.start_at
        planned = self.facts.get("resume_chunks")
        if start.chunk and planned != n_chunks:
            raise UsageError(
                f"this checkpoint was written {start.chunk} chunks into an epoch of a {planned}-chunk plan; "
                f"this backend plans {n_chunks} chunks: resume it with the backend that wrote it"
            )
        return start.epoch * n_chunks + start.chunk

    def tokens_before(self, epoch: int, bounds: np.ndarray | None) -> int:
        """Tokens of the whole run trained before a chunk starts (``None``: the end of ``epoch``)."""
        within = self.corpus.n_tokens if bounds is None else int(bounds[0])
        return epoch * self.corpus.n_tokens + within

    def seed(self, epoch: int, chunk: int) -> int:
        """The seed of chunk ``chunk`` of ``epoch`` (see :func:`chunk_seed`); a continued run numbers
        its epochs on from the model's, so it never repeats the random draws that trained it."""
        return chunk_seed(self.settings.seed, self.epoch_offset + epoch, chunk)

    def alphas(self, epoch: int, bounds: np.ndarray) -> tuple[float, float]:
        """Learning rates at the start and end of a chunk, from its place in the run."""
        end = epoch * self.corpus.n_tokens + int(bounds[-1])
        return self.schedule.alpha_at(self.tokens_before(epoch, bounds)), self.schedule.alpha_at(end)

    # --- training ---------------------------------------------------------------------
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
        fresh = done - self.start_tokens  # trained by this process (a resumed run started later)
        speed = fresh * self.corpus.raw_tokens / n_tokens / elapsed  # raw corpus words per second
        label = f"{epoch + 1}/{self.settings.epochs}"
        self.bar.update(done, label, speed, self.schedule.alpha_at(done), self.losses.mean(epoch))

    # --- between chunks: callbacks, checkpoints -----------------------------------------
    def epoch_end(self, epoch: int) -> bool:
        """After ``epoch`` (from 0), with no chunk in flight: callbacks, then a checkpoint if one
        is due. Returns whether training stops here (a callback asked, or it was the last epoch)."""
        stop = False
        if self.callbacks:
            view = self.view()
            loss = self.losses.mean(epoch)
            for callback in self.callbacks:
                try:
                    stop = bool(callback(epoch + 1, loss, view)) or stop
                except StopTraining:
                    stop = True
        last = epoch + 1 >= self.settings.epochs
        if stop and not last:
            self.epochs_trained = epoch + 1
        policy = self.checkpoint
        if policy is not None and not last and not stop:
            by_epochs = policy.epochs is not None and (epoch + 1) % policy.epochs == 0
            if by_epochs or self.checkpoint_due():
                self.save_checkpoint(Position(epoch + 1, 0))
        return stop or last

    def checkpoint_due(self) -> bool:
        """Whether a time-based checkpoint is due."""
        policy = self.checkpoint
        minutes = None if policy is None else policy.minutes
        return minutes is not None and time.perf_counter() - self.last_checkpoint >= 60 * minutes

    def save_checkpoint(self, position: Position, n_chunks: int | None = None) -> None:
        """Write the full model as it stands (no chunk in flight) to the checkpoint path, atomically."""
        assert self.checkpoint is not None
        self.to_vectors(keep_state=True, position=position, resume_chunks=n_chunks).save(self.checkpoint.path)
        self.last_checkpoint = time.perf_counter()

    # --- results ------------------------------------------------------------------------
    def view(self) -> Vectors:
        """The current vectors as a read-only view of the weights (no copy; a subword model's
        full vectors are computed from its rows)."""
        matrix = self.vectors.view()
        matrix.flags.writeable = False
        return Vectors(self.vocab.words, matrix, counts=self.vocab.counts, subwords=self.subwords)

    @property
    def vectors(self) -> np.ndarray:
        """The trained word vectors (a model with a ``vectors(weights)`` method computes them)."""
        compute = getattr(self.model, "vectors", None)
        if callable(compute):
            return compute(self.weights)
        return self.weights[self.model.vectors_key]

    @property
    def subwords(self) -> SubwordVectors | None:
        """The n-gram half of a subword model's weights (views, no copies); ``None`` for other models."""
        compute = getattr(self.model, "subwords", None)
        return compute(self.weights) if callable(compute) else None

    def to_vectors(
        self, keep_state: bool, position: Position | None = None, resume_chunks: int | None = None
    ) -> Vectors:
        """The vectors with what the run measured in ``meta["training"]``; with ``keep_state`` a
        full model (output weights and the run's position) that can be trained further."""
        epochs = self.settings.epochs if self.epochs_trained is None else self.epochs_trained
        position = position or Position(epochs, 0)
        seconds = self.previous_seconds + time.perf_counter() - self.started
        raw = self.vocab.total_tokens
        words_per_second = (
            raw * (epochs - self.start_at.epoch) / max(time.perf_counter() - self.started, 1e-9)
        )
        training: dict[str, Any] = {
            "corpus": self.facts.get("corpus"),
            "algorithm": self.settings.algorithm,
            **self.settings.as_dict(),
            "epoch_loss": self.losses.means()[:epochs],
            "pairs": int(self.losses.examples.sum()),
            "raw_tokens": raw,
            "kept_tokens": self.corpus.n_tokens,
            "phrases_found": self.facts.get("phrases_found", 0),
            "invalid_utf8_chars": self.facts.get("invalid_utf8_chars", 0),
            "vocab_seconds": round(self.facts.get("vocab_seconds", 0.0), 3),
            "train_seconds": round(seconds, 3),
            "words_per_second": round(words_per_second, 1),
        }
        if self.epochs_trained is not None:
            training["epochs_trained"] = self.epochs_trained
        for key in ("continued_from", "cluster"):
            if key in self.facts:
                training[key] = self.facts[key]
        state: Weights = {}
        if keep_state:
            state = {name: array for name, array in self.weights.items() if name != self.model.vectors_key}
            training["resume"] = {
                "epoch": position.epoch,
                "chunk": position.chunk,
                "chunks": resume_chunks,
                "epoch_offset": self.epoch_offset,
                "loss": self.losses.loss.tolist(),
                "examples": self.losses.examples.tolist(),
                "train_seconds": round(seconds, 3),
            }
        meta = {"training": training}
        return Vectors(
            self.vocab.words, self.vectors, counts=self.vocab.counts, meta=meta, state=state,
            subwords=self.subwords,
        )  # fmt: skip


class Backend(Protocol):
    """Where a run's chunks are trained. Used as a context manager around the whole run
    (a cluster connects on entry and disconnects on exit), then :meth:`train` once."""

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def train(self, run: TrainingRun) -> dict[str, Any]:
        """Train every epoch of ``run`` into ``run.weights``; return facts to record (may be empty)."""
        ...
