"""``train()``: corpus → (phrases) → vocabulary → encoded ids → a backend trains a model → Vectors.

The one entry point of training. It validates every option against its declaration
(:mod:`embedkit.training.settings`, and the backend's own), picks the model
(:class:`~embedkit.training.word2vec.Word2Vec`) and the backend (threads, or a Dask
cluster), prepares the corpus in a scratch folder, lets the backend train the
:class:`~embedkit.training.core.TrainingRun`, and returns the vectors with what the run
measured in ``vectors.meta["training"]``.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..text.encoded import encode_corpus
from ..text.phrases import detect_phrases
from ..text.reader import ReadStats
from ..text.vocabulary import build_vocabulary
from ..util import spool_stdin
from ..vectors.store import Vectors
from .cluster import ClusterSettings, DaskBackend
from .core import Backend, Model, TrainingRun
from .settings import TrainingSettings, specs, split_options
from .threads import ThreadsBackend
from .word2vec import Word2Vec

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client


def make_model(settings: TrainingSettings) -> Model:
    """The model the settings ask for."""
    return Word2Vec(window=settings.window, negative=settings.negative, cbow=settings.cbow)


def make_backend(
    settings: TrainingSettings, cluster: str | Client | None, cluster_settings: ClusterSettings
) -> Backend:
    """Threads of this process, or the Dask cluster ``cluster``."""
    if cluster is None:
        given = cluster_settings.given()
        if given:
            raise UsageError(
                f"cluster settings ({', '.join(given)}) need a cluster (train(cluster=...), --cluster)"
            )
        return ThreadsBackend(settings.workers)
    return DaskBackend(cluster, cluster_settings)


def train(
    corpus: str | os.PathLike[str],
    *,
    progress: bool = True,
    cluster: str | Client | None = None,
    **options: Any,
) -> Vectors:
    """Train word vectors with negative sampling (skip-gram, or CBOW with ``cbow=True``).

    ``corpus`` holds one sentence or document per line, tokens separated by whitespace
    (``.gz``, ``.bz2`` and ``.xz`` are decompressed on the fly); a folder stands for all its
    files in sorted order, ``"-"`` for standard input. ``phrases=N`` first joins frequent
    collocations (``new_york``) in N passes of :func:`embedkit.detect_phrases` (its default
    settings), into a temporary file that is then trained. Returns the input vectors with
    the vocabulary, most frequent word first; ``vectors.meta["training"]`` holds the
    settings, the mean loss of each epoch and the timings.

    ``cluster`` trains data-parallel on Dask (``pip install 'embedkit[dask]'``): a scheduler
    address (``"tcp://host:8786"``), ``"local:N"`` (a local cluster of N worker processes)
    or a ``dask.distributed.Client``. The vocabulary is built here; each worker trains its
    shard of the encoded corpus, and the workers' changes are merged ``sync_rounds`` times
    per epoch (default 4), by adding them up (``combine="sum"``, default) or by Spark
    MLlib's count-weighted averaging (``"average"``); ``workers`` is then unused. See
    :mod:`embedkit.training.cluster`.

    Every other keyword is a setting (listed below with its default), validated before the
    corpus is opened (:class:`~embedkit.UsageError` names a bad one).

    >>> vectors = train("corpus.txt", dim=50, epochs=3, progress=False)  # doctest: +SKIP
    >>> vectors.most_similar("king", k=3)  # doctest: +SKIP
    """
    training_options, cluster_options = split_options(options, TrainingSettings, ClusterSettings)
    settings = TrainingSettings(**training_options)
    cluster_settings = ClusterSettings(**cluster_options)
    backend = make_backend(settings, cluster, cluster_settings)
    with backend, tempfile.TemporaryDirectory(prefix="embedkit-") as scratch:
        began = time.perf_counter()
        source = spool_stdin(corpus, scratch)
        corpus = source
        phrases_found = 0
        if settings.phrases:
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
        run = TrainingRun.start(settings, vocab, encoded, make_model(settings), progress)
        try:
            backend_info = backend.train(run)
        finally:
            run.bar.close()
        train_seconds = time.perf_counter() - run.started
    losses = run.losses.means()
    words_per_second = vocab.total_tokens * settings.epochs / max(train_seconds, 1e-9)
    training: dict[str, Any] = {
        "corpus": os.fspath(source),
        "algorithm": settings.algorithm,
        **settings.as_dict(),
        "epoch_loss": losses,
        "pairs": int(run.losses.examples.sum()),
        "raw_tokens": vocab.total_tokens,
        "kept_tokens": encoded.n_tokens,
        "phrases_found": phrases_found,
        "invalid_utf8_chars": stats.replaced_chars,
        "vocab_seconds": round(vocab_seconds, 3),
        "train_seconds": round(train_seconds, 3),
        "words_per_second": round(words_per_second, 1),
    }
    if backend_info:
        training["cluster"] = backend_info
    return Vectors(vocab.words, run.vectors, counts=vocab.counts, meta={"training": training})


def _signature() -> inspect.Signature:
    """``train``'s signature with every declared setting as a keyword parameter (for ``help()``)."""
    params = [p for p in inspect.signature(train).parameters.values() if p.kind is not p.VAR_KEYWORD]
    for settings_class in (TrainingSettings, ClusterSettings):
        for name, (spec, default) in specs(settings_class).items():
            annotation = spec.kind if not spec.none_means else f"{spec.kind.__name__} | None"
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=annotation))  # fmt: skip
    return inspect.Signature(params, return_annotation=Vectors)


def _settings_doc() -> str:
    lines = ["", "Settings:", ""]
    for settings_class in (TrainingSettings, ClusterSettings):
        for name, (spec, default) in specs(settings_class).items():
            shown = spec.none_means if default is None else repr(default)
            lines.append(f"    ``{name}`` ({shown}): {spec.help}")
    return "\n".join(lines) + "\n"


train.__signature__ = _signature()  # type: ignore[attr-defined]
train.__doc__ = (train.__doc__ or "") + _settings_doc()
