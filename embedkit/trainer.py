"""Skip-gram negative-sampling trainer: the Python side around :mod:`embedkit.kernels`.

``train`` builds the vocabulary, encodes the corpus into a memory-mapped int32 file, cuts
it into chunks of about ``CHUNK_TOKENS`` tokens and lets ``workers`` threads run the
compiled kernel on the chunks, all updating the same weights. The learning rate falls
linearly with the position of a chunk in the whole run, not with the order in which
threads happen to finish, so a one-worker run with a fixed seed is bit-for-bit repeatable.
With more workers the updates race (as in word2vec and gensim) and runs differ slightly.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import kernels
from .corpus import EncodedCorpus, ReadStats, Vocabulary, build_vocabulary, encode_corpus
from .errors import UsageError
from .vectors import Vectors

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

CHUNK_TOKENS = 20_000


def default_workers() -> int:
    """Number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class TrainingSettings:
    """Hyper-parameters of one training run (validated on creation)."""

    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    min_count: int = 5
    alpha: float = 0.025
    min_alpha: float = 0.0001
    epochs: int = 5
    workers: int = field(default_factory=default_workers)
    seed: int = 1
    cbow: bool = False
    phrases: int = 0

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.dim <= 10_000, f"dim must be between 1 and 10000, got {self.dim}"),
            (1 <= self.window <= 1_000, f"window must be between 1 and 1000, got {self.window}"),
            (1 <= self.negative <= 1_000, f"negative must be between 1 and 1000, got {self.negative}"),
            (0.0 <= self.sample < 1.0, f"sample must be in [0, 1), got {self.sample}"),
            (self.min_count >= 1, f"min_count must be at least 1, got {self.min_count}"),
            (0.0 < self.alpha <= 1.0, f"alpha must be in (0, 1], got {self.alpha}"),
            (
                0.0 <= self.min_alpha <= self.alpha,
                f"min_alpha must be in [0, alpha], got {self.min_alpha}",
            ),
            (1 <= self.epochs <= 10_000, f"epochs must be between 1 and 10000, got {self.epochs}"),
            (1 <= self.workers <= 256, f"workers must be between 1 and 256, got {self.workers}"),
            (0 <= self.seed < 2**32, f"seed must be in [0, 2**32), got {self.seed}"),
            (0 <= self.phrases <= 10, f"phrases must be between 0 and 10 passes, got {self.phrases}"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)


@dataclass
class TrainingReport:
    """What a run measured: per-epoch mean loss, counts and timings."""

    epoch_loss: list[float]
    pairs: int
    raw_tokens: int
    kept_tokens: int
    vocab_seconds: float
    train_seconds: float

    @property
    def words_per_second(self) -> float:
        """Raw corpus tokens × epochs per second of training (vocabulary excluded)."""
        epochs = len(self.epoch_loss)
        return self.raw_tokens * epochs / max(self.train_seconds, 1e-9)


def make_chunks(line_starts: np.ndarray, chunk_tokens: int = CHUNK_TOKENS) -> list[np.ndarray]:
    """Group lines into chunks of about ``chunk_tokens`` tokens.

    A line longer than ``chunk_tokens`` is cut into pieces (the window does not cross a
    cut), so every token of every line is trained however long the line is.
    """
    total = int(line_starts[-1])
    block = 1 << 20  # lengths in blocks: no temporary as large as line_starts
    pieces = (line_starts[i : i + block + 1] for i in range(0, len(line_starts), block))
    longest = max((int(np.diff(piece).max(initial=0)) for piece in pieces), default=0)
    if longest > chunk_tokens:
        cuts = [
            np.arange(start + chunk_tokens, stop, chunk_tokens)
            for start, stop in itertools.pairwise(line_starts)
            if stop - start > chunk_tokens
        ]
        line_starts = np.union1d(line_starts, np.concatenate(cuts))
    marks = np.arange(chunk_tokens, total, chunk_tokens)
    bounds = np.unique(np.concatenate(([0], np.searchsorted(line_starts, marks), [len(line_starts) - 1])))
    return [line_starts[a : b + 1] for a, b in itertools.pairwise(bounds) if b > a]  # views, no copies


class _Progress:
    """A rich progress bar with words/s, learning rate, loss and ETA (or nothing)."""

    def __init__(self, enabled: bool, total_words: int) -> None:
        self.enabled = enabled
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("epoch {task.fields[epoch]}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[speed]} words/s  lr {task.fields[lr]}  loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("train", total=total_words, speed="-", lr="-", loss="-", epoch="-")
            self.bar.start()

    def update(self, words: float, epoch: str, speed: float, lr: float, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(
                self.task,
                completed=words,
                epoch=epoch,
                speed=f"{speed:,.0f}",
                lr=f"{lr:.5f}",
                loss=f"{loss:.4f}",
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _train_weights(
    encoded: EncodedCorpus, vocab: Vocabulary, settings: TrainingSettings, progress: bool
) -> tuple[np.ndarray, list[float], int]:
    """Run all epochs over the encoded corpus; return (input vectors, epoch losses, pairs)."""
    s = settings
    n_words = len(vocab)
    rng = np.random.default_rng(s.seed)
    syn0 = rng.random((n_words, s.dim), dtype=np.float32)  # in place: no temporary matrices
    syn0 -= np.float32(0.5)
    syn0 /= np.float32(s.dim)
    syn1neg = np.zeros((n_words, s.dim), dtype=np.float32)
    keep = kernels.make_keep_thresholds(vocab.counts, s.sample)
    cum_table = kernels.make_noise_table(vocab.counts)
    sig_table, logsig_table = kernels.make_sigmoid_tables()
    chunks = make_chunks(encoded.line_starts)
    n_tokens = encoded.n_tokens
    total_work = n_tokens * s.epochs
    tasks = [(epoch, i) for epoch in range(s.epochs) for i in range(len(chunks))]

    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []
    epoch_loss = np.zeros(s.epochs, dtype=np.float64)
    epoch_pairs = np.zeros(s.epochs, dtype=np.int64)
    state = {"next": 0, "done": 0}

    def alpha_at(done: int) -> float:
        return s.alpha - (s.alpha - s.min_alpha) * (done / total_work)

    def work() -> None:
        try:
            while not stop.is_set():
                with lock:
                    task = state["next"]
                    state["next"] += 1
                if task >= len(tasks):
                    return
                epoch, i = tasks[task]
                bounds = chunks[i]
                start = epoch * n_tokens + int(bounds[0])
                stop_at = epoch * n_tokens + int(bounds[-1])
                seed = np.uint64((s.seed << 32) ^ (epoch << 24) ^ i)
                tokens = np.asarray(encoded.read(int(bounds[0]), int(bounds[-1])))
                loss, pairs, words = kernels.train_chunk(
                    syn0,
                    syn1neg,
                    tokens,
                    bounds,
                    keep,
                    cum_table,
                    sig_table,
                    logsig_table,
                    s.window,
                    s.negative,
                    alpha_at(start),
                    alpha_at(stop_at),
                    seed,
                    s.cbow,
                )
                del tokens  # unmap the chunk
                with lock:
                    epoch_loss[epoch] += loss
                    epoch_pairs[epoch] += pairs
                    state["done"] += words
        except BaseException as exc:  # pragma: no cover - re-raised in the main thread
            errors.append(exc)
            stop.set()

    bar = _Progress(progress, total_work)
    threads = [threading.Thread(target=work, daemon=True) for _ in range(s.workers)]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        while alive := [thread for thread in threads if thread.is_alive()]:
            alive[0].join(timeout=0.1)
            with lock:
                done = state["done"]
                epoch = min(done // max(n_tokens, 1), s.epochs - 1)
                loss = epoch_loss[epoch] / max(epoch_pairs[epoch], 1)
            elapsed = time.perf_counter() - started
            raw_done = done * encoded.raw_tokens / max(n_tokens, 1)
            bar.update(done, f"{epoch + 1}/{s.epochs}", raw_done / max(elapsed, 1e-9), alpha_at(done), loss)
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    finally:
        bar.close()
    if errors:
        raise errors[0]
    losses = (epoch_loss / np.maximum(epoch_pairs, 1)).tolist()
    return syn0, losses, int(epoch_pairs.sum())


def _spool_stdin(path: Path) -> Path:
    """Copy standard input to ``path`` (the corpus is read twice), in bounded memory."""
    with open(path, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return path


def train(
    corpus: str | os.PathLike[str],
    *,
    dim: int = 100,
    window: int = 5,
    negative: int = 5,
    sample: float = 1e-3,
    min_count: int = 5,
    alpha: float = 0.025,
    min_alpha: float = 0.0001,
    epochs: int = 5,
    workers: int | None = None,
    seed: int = 1,
    cbow: bool = False,
    phrases: int = 0,
    progress: bool = True,
    cluster: str | Client | None = None,
    sync_rounds: int | None = None,
    combine: str | None = None,
) -> Vectors:
    """Train word vectors with negative sampling (skip-gram, or CBOW with ``cbow=True``).

    ``corpus`` holds one sentence or document per line, tokens separated by whitespace
    (``.gz``, ``.bz2`` and ``.xz`` are decompressed on the fly); a folder stands for all its
    files in sorted order, ``"-"`` for standard input. ``phrases=N`` first joins frequent
    collocations (``new_york``) in N passes of :func:`embedkit.phrases.detect_phrases` (its
    default settings), into a temporary file that is then trained. Returns the input vectors
    with the vocabulary, most frequent word first; ``vectors.meta["training"]`` holds the
    settings, the mean loss of each epoch and the timings.

    ``cluster`` trains data-parallel on Dask (``pip install 'embedkit[dask]'``): a scheduler
    address (``"tcp://host:8786"``), ``"local:N"`` (a local cluster of N worker processes)
    or a ``dask.distributed.Client``. The vocabulary is built here; each worker trains its
    shard of the encoded corpus, and the workers' changes are merged ``sync_rounds`` times
    per epoch (default 4), by adding them up (``combine="sum"``, default) or by Spark
    MLlib's count-weighted averaging (``"average"``); ``workers`` is then unused. See
    :mod:`embedkit.distributed`.

    >>> vectors = train("corpus.txt", dim=50, epochs=3, progress=False)  # doctest: +SKIP
    >>> vectors.most_similar("king", k=3)  # doctest: +SKIP
    """
    settings = TrainingSettings(
        dim=dim,
        window=window,
        negative=negative,
        sample=sample,
        min_count=min_count,
        alpha=alpha,
        min_alpha=min_alpha,
        epochs=epochs,
        workers=default_workers() if workers is None else workers,
        seed=seed,
        cbow=cbow,
        phrases=phrases,
    )
    if sync_rounds is not None and not 1 <= sync_rounds <= 10_000:
        raise UsageError(f"sync_rounds must be between 1 and 10000, got {sync_rounds}")
    if combine is not None and combine not in ("sum", "average"):
        raise UsageError(f"combine must be 'sum' or 'average', got {combine!r}")
    if (sync_rounds is not None or combine is not None) and cluster is None:
        raise UsageError("sync_rounds and combine need a cluster")
    phrases_found = 0
    cluster_info: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        client = None
        if cluster is not None:
            from . import distributed

            client = stack.enter_context(distributed.connect(cluster))
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="embedkit-"))
        if os.fspath(corpus) == "-":
            corpus = _spool_stdin(Path(scratch) / "stdin.txt")
        began = time.perf_counter()
        source = corpus
        if settings.phrases:
            from .phrases import detect_phrases

            joined = Path(scratch) / "phrases.txt"
            phrases_found = len(detect_phrases(corpus, passes=settings.phrases, out=joined))
            corpus = joined
        stats = ReadStats()
        vocab = build_vocabulary(corpus, min_count=settings.min_count, stats=stats)
        if stats.replaced_chars:
            warnings.warn(
                f"{stats.replaced_chars:,} invalid UTF-8 sequences in the corpus were replaced by U+FFFD",
                stacklevel=2,
            )
        encoded = encode_corpus(corpus, vocab, Path(scratch) / "corpus.int32")
        vocab_seconds = time.perf_counter() - began
        started = time.perf_counter()
        if client is None:
            syn0, losses, pairs = _train_weights(encoded, vocab, settings, progress)
        else:
            rounds = distributed.DEFAULT_SYNC_ROUNDS if sync_rounds is None else sync_rounds
            syn0, losses, pairs, cluster_info = distributed.train_on_cluster(
                client, encoded, vocab, settings, rounds, progress, combine or "sum"
            )
        train_seconds = time.perf_counter() - started
        kept_tokens = encoded.n_tokens
    report = TrainingReport(
        epoch_loss=losses,
        pairs=pairs,
        raw_tokens=vocab.total_tokens,
        kept_tokens=kept_tokens,
        vocab_seconds=vocab_seconds,
        train_seconds=train_seconds,
    )
    meta = {
        "training": {
            "corpus": os.fspath(source),
            "algorithm": f"{'CBOW' if settings.cbow else 'skip-gram'}, negative sampling",
            **settings.__dict__,
            "epoch_loss": report.epoch_loss,
            "pairs": report.pairs,
            "raw_tokens": report.raw_tokens,
            "kept_tokens": report.kept_tokens,
            "phrases_found": phrases_found,
            "invalid_utf8_chars": stats.replaced_chars,
            "vocab_seconds": round(report.vocab_seconds, 3),
            "train_seconds": round(report.train_seconds, 3),
            "words_per_second": round(report.words_per_second, 1),
        }
    }
    if cluster_info:
        meta["training"]["cluster"] = cluster_info
    return Vectors(vocab.words, syn0, counts=vocab.counts, meta=meta)
