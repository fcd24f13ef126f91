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
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
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
from .continuation import (
    check_same_corpus,
    checkpoint_vocabulary,
    checkpoint_weights,
    epochs_trained,
    merge_vocabulary,
    restore_position,
    source_settings,
    trainable_source,
)
from .core import Backend, CheckpointPolicy, EpochCallback, Model, TrainingRun
from .settings import TrainingSettings, specs, split_options
from .subword import Subword
from .threads import ThreadsBackend
from .word2vec import Word2Vec

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client


SUBWORD_SETTINGS = ("minn", "maxn", "buckets")
"""Settings that only a subword model (``subwords=True``) reads."""


def check_subword_options(given: dict[str, Any], settings: TrainingSettings, **refused: bool) -> None:
    """One-line errors for subword settings (other than their defaults) without ``subwords``,
    and for what a subword run cannot do yet (the ``refused`` features asked for)."""
    defaults = specs(TrainingSettings)
    stray = [name for name in SUBWORD_SETTINGS if name in given and given[name] != defaults[name][1]]
    if stray and not settings.subwords:
        raise UsageError(f"{', '.join(stray)} only apply to subword models: add subwords=True (--subwords)")
    if settings.subwords:
        asked = [name for name, on in refused.items() if on]
        if asked:
            raise UsageError(f"subword models do not support {', '.join(asked)} yet")


def make_model(settings: TrainingSettings, words: Sequence[str] = ()) -> Model:
    """The model the settings ask for (a subword model needs the vocabulary's ``words``)."""
    if settings.subwords:
        return Subword.for_words(
            words, window=settings.window, negative=settings.negative, minn=settings.minn,
            maxn=settings.maxn, buckets=settings.buckets, cbow=settings.cbow,
            share_negatives=settings.share_negatives,
        )  # fmt: skip
    return Word2Vec(
        window=settings.window, negative=settings.negative, cbow=settings.cbow,
        share_negatives=settings.share_negatives,
    )  # fmt: skip


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
    init: str | os.PathLike[str] | Vectors | None = None,
    resume: str | os.PathLike[str] | None = None,
    keep_training_state: bool = False,
    checkpoint_every: int | str | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    callbacks: Sequence[EpochCallback] = (),
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

    Further training (:mod:`embedkit.training.continuation`): ``keep_training_state=True``
    returns a *full* model (its output weights and the run's position kept, saved by
    ``vectors.save``); ``init`` (a full model, or its folder) continues training it on
    ``corpus``, new words included; ``checkpoint_every`` (epochs, ``2``, or minutes,
    ``"10m"``) writes a full model to ``checkpoint_path`` while training, and ``resume``
    (such a checkpoint) carries its run on, on the same corpus. ``callbacks`` are called
    after each epoch (see :data:`~embedkit.training.core.EpochCallback`); a callback that
    returns a true value or raises :class:`~embedkit.training.core.StopTraining` stops
    training there.

    Every other keyword is a setting (listed below with its default), validated before the
    corpus is opened (:class:`~embedkit.UsageError` names a bad one).

    >>> vectors = train("corpus.txt", dim=50, epochs=3, progress=False)  # doctest: +SKIP
    >>> vectors.most_similar("king", k=3)  # doctest: +SKIP
    """
    if init is not None and resume is not None:
        raise UsageError("give init (continue a model on new text) or resume (a checkpoint), not both")
    callbacks = list(callbacks)
    if not all(callable(c) for c in callbacks):
        raise UsageError("callbacks must be callables taking (epoch, loss, vectors)")
    training_options, cluster_options = split_options(options, TrainingSettings, ClusterSettings)
    given = dict(training_options)  # as the caller gave them (a source model's settings join below)
    source = None
    if init is not None or resume is not None:
        source = trainable_source(
            init if init is not None else resume, "init" if init is not None else "resume"
        )
        training_options = source_settings(source, training_options, resuming=resume is not None)
    settings = TrainingSettings(**training_options)
    cluster_settings = ClusterSettings(**cluster_options)
    checkpoint_path = checkpoint_path if checkpoint_path is not None else resume
    if checkpoint_every is not None and checkpoint_path is None:
        raise UsageError("checkpoint_every needs a checkpoint_path to write to")
    policy = None if checkpoint_every is None else CheckpointPolicy.parse(checkpoint_every, checkpoint_path)
    check_subword_options(
        given, settings, **{"a cluster": cluster is not None, "init (--from)": init is not None,
        "resume": resume is not None, "keep_training_state (--full)": keep_training_state,
        "checkpoints": checkpoint_every is not None},
    )  # fmt: skip
    backend = make_backend(settings, cluster, cluster_settings)
    model = make_model(settings)
    with backend, tempfile.TemporaryDirectory(prefix="embedkit-") as scratch:
        began = time.perf_counter()
        named = spool_stdin(corpus, scratch)
        corpus = named
        phrases_found = 0
        if settings.phrases:
            joined = Path(scratch) / "phrases.txt"
            phrases_found = len(detect_phrases(corpus, passes=settings.phrases, out=joined))
            corpus = joined
        stats = ReadStats()
        weights = None
        if resume is not None:
            assert source is not None
            vocab = checkpoint_vocabulary(source)
            weights = checkpoint_weights(source, model)
        else:
            known = {} if source is None else dict.fromkeys(source.words)
            vocab = build_vocabulary(corpus, min_count=settings.min_count, stats=stats, known=known)
            if source is not None:
                vocab, weights = merge_vocabulary(source, vocab, model, settings)
        if settings.subwords:
            model = make_model(settings, vocab.words)
        encoded = encode_corpus(  # the vocabulary pass counted the text; a resumed run counts it here
            corpus, vocab, Path(scratch) / "corpus.int32", stats=stats if resume is not None else ReadStats()
        )
        if resume is not None:
            assert source is not None
            check_same_corpus(source, encoded.raw_tokens, encoded)
        if stats.replaced_chars:
            warnings.warn(
                f"{stats.replaced_chars:,} invalid UTF-8 sequences in the corpus were replaced by U+FFFD",
                stacklevel=2,
            )
        run = TrainingRun.start(settings, vocab, encoded, model, progress, weights=weights)
        run.callbacks, run.checkpoint = callbacks, policy
        run.facts.update(
            corpus=os.fspath(named),
            phrases_found=phrases_found,
            invalid_utf8_chars=stats.replaced_chars,
            vocab_seconds=time.perf_counter() - began,
        )
        if init is not None:
            assert source is not None
            run.epoch_offset = epochs_trained(source)
            run.facts["continued_from"] = os.fspath(init) if not isinstance(init, Vectors) else "vectors"
        if resume is not None:
            assert source is not None
            restore_position(run, source)
        try:
            backend_info = backend.train(run)
        finally:
            run.bar.close()
        if backend_info:
            run.facts["cluster"] = backend_info
        vectors = run.to_vectors(keep_state=keep_training_state)
    if policy is not None and policy.path.is_dir() and resume is None:
        shutil.rmtree(policy.path, ignore_errors=True)  # the run finished: its checkpoint is spent
    return vectors


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
