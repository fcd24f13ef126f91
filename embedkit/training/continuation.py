"""Runs that start from a model: continued training on new text, and resumed checkpoints.

*Continuing* (``train(corpus, init=model)``) starts a new run from a full model (one saved
with ``keep_training_state=True`` / ``--full``): words already in its vocabulary keep their
vectors and output weights, and their counts are added to those of the new text; new
words that reach ``min_count`` in the new text join with fresh vectors; rows are then
ordered by the merged counts (most frequent first, ties in the model's order), and the
noise table and subsampling thresholds come from the merged counts. Settings not given
are the model's; ``dim`` cannot change. The learning rate falls linearly from ``alpha`` to
``min_alpha`` over the new run's epochs, as in any run.

*Resuming* (``train(corpus, resume=checkpoint)``) carries on the very run a checkpoint was
written by, on the same corpus, from the chunk where it stopped, with its settings,
vocabulary, weights, losses and learning-rate schedule; with one worker the result is
bit-for-bit that of the uninterrupted run.

The source model is read, never written: its matrices are copied before training.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import CorpusError, UsageError
from ..text.encoded import EncodedCorpus
from ..text.vocabulary import Vocabulary
from ..vectors.store import Vectors, load
from .core import Model, Position, TrainingRun, Weights
from .settings import TrainingSettings, specs

RESUMABLE_SETTINGS = ("workers",)
"""Settings a resumed run may change (the others are the checkpoint's)."""


def trainable_source(source: str | os.PathLike[str] | Vectors, role: str) -> Vectors:
    """The full model to start from (a path is loaded); a one-line error if it cannot be trained further."""
    vectors = source if isinstance(source, Vectors) else load(source, mmap=True)
    name = repr(os.fspath(source)) if not isinstance(source, Vectors) else "these vectors"
    if not vectors.trainable:
        raise UsageError(
            f"{name} holds vectors only, not what further training needs (output weights, counts): "
            f"save it as a full model (train with --full, or keep_training_state=True) to use it as {role}"
        )
    if not isinstance(vectors.meta.get("training"), dict):
        raise UsageError(f"{name} has no training record to continue from")
    return vectors


def source_settings(source: Vectors, given: dict[str, Any], resuming: bool) -> dict[str, Any]:
    """The run's settings: the source model's, with the ones ``given`` (all checked)."""
    recorded = source.meta["training"]
    settings = {name: recorded[name] for name in specs(TrainingSettings) if name in recorded}
    if given.get("dim", source.dim) != source.dim:
        raise UsageError(f"dim {given['dim']} differs from the model's {source.dim}: it cannot change")
    if resuming:
        changed = sorted(n for n, v in given.items() if n not in RESUMABLE_SETTINGS and settings.get(n) != v)
        if changed:
            listed = ", ".join(f"{n}={given[n]!r} (checkpoint: {settings.get(n)!r})" for n in changed)
            raise UsageError(f"a resumed run keeps the checkpoint's settings; cannot change {listed}")
    settings.update(given)
    settings["dim"] = source.dim
    if resuming and "workers" not in given:
        settings.pop("workers", None)  # this machine's cores, unless told
    return settings


def merge_vocabulary(
    source: Vectors, new: Vocabulary, model: Model, settings: TrainingSettings
) -> tuple[Vocabulary, Weights]:
    """The merged vocabulary (counts added up, new words appended, most frequent first) and
    the weights of its rows: copies of the source's, fresh ones for the new words."""
    known = {word: i for i, word in enumerate(source.words)}
    assert source.counts is not None
    new_counts = dict(zip(new.words, new.counts.tolist()))
    added = [word for word in new.words if word not in known]
    counts = np.concatenate([
        source.counts + np.array([new_counts.get(word, 0) for word in source.words], dtype=np.int64),
        np.array([new_counts[word] for word in added], dtype=np.int64),
    ])  # fmt: skip
    order = np.argsort(-counts, kind="stable")  # ties: the model's words first, in its order
    fresh = model.init_weights(len(added), source.dim, settings.seed)
    old = source_weights(source, model, fresh)
    weights = {
        name: np.concatenate([np.asarray(old[name], dtype=np.float32), fresh[name]])[order] for name in fresh
    }
    words = source.words + added
    vocab = Vocabulary([words[i] for i in order], counts[order], total_tokens=new.total_tokens)
    return vocab, weights


def epochs_trained(source: Vectors) -> int:
    """Epochs a full model's weights have been trained (its own run's, and those it continued)."""
    resume = source.meta["training"].get("resume") or {}
    return int(resume.get("epoch_offset", 0)) + int(
        resume.get("epoch", source.meta["training"].get("epochs", 0))
    )


def checkpoint_vocabulary(checkpoint: Vectors) -> Vocabulary:
    """The vocabulary a checkpoint was trained with (the corpus is encoded with it again)."""
    recorded = checkpoint.meta["training"]
    assert checkpoint.counts is not None
    return Vocabulary(list(checkpoint.words), checkpoint.counts, total_tokens=int(recorded["raw_tokens"]))


def source_weights(source: Vectors, model: Model, needed: Weights) -> Weights:
    """The source model's weight matrices by name (its vectors and its state, as stored); a
    one-line error if it lacks one of those ``needed`` (the names the model trains)."""
    weights = {model.vectors_key: source.vectors, **source.state}
    missing = sorted(set(needed) - set(weights))
    if missing:
        raise UsageError(f"the model lacks the weights {', '.join(missing)} this training needs")
    return {name: weights[name] for name in needed}


def checkpoint_weights(checkpoint: Vectors, model: Model) -> Weights:
    """Copies of a checkpoint's weights (the checkpoint itself is never written)."""
    needed = model.init_weights(0, checkpoint.dim, 0)  # empty: only the names are used
    return {
        name: np.array(array, dtype=np.float32)
        for name, array in source_weights(checkpoint, model, needed).items()
    }


def check_same_corpus(checkpoint: Vectors, raw_tokens: int, encoded: EncodedCorpus) -> None:
    """The corpus given on resuming must be the one the checkpoint's run read."""
    recorded = checkpoint.meta["training"]
    if recorded.get("raw_tokens") != raw_tokens or recorded.get("kept_tokens") != encoded.n_tokens:
        raise CorpusError(
            f"this corpus ({raw_tokens:,} tokens, {encoded.n_tokens:,} in the vocabulary) is not the one the "
            f"checkpoint was trained on ({recorded.get('raw_tokens'):,} and {recorded.get('kept_tokens'):,})"
        )


def restore_position(run: TrainingRun, checkpoint: Vectors) -> None:
    """Put ``run`` where the checkpoint's run stopped: position, losses so far, time spent."""
    resume = checkpoint.meta["training"].get("resume")
    try:
        position = Position(int(resume["epoch"]), int(resume["chunk"]))
        loss = np.asarray(resume["loss"], dtype=np.float64)
        examples = np.asarray(resume["examples"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"the checkpoint's resume record is missing or damaged ({exc!r})") from None
    if loss.shape != run.losses.loss.shape or examples.shape != loss.shape:
        raise UsageError("the checkpoint's resume record does not match its settings (epochs)")
    if position.epoch >= run.settings.epochs:
        raise UsageError(
            "this checkpoint finished its run: continue training with init= (--from) on new text instead"
        )
    run.start_at = position
    run.losses.loss[:] = loss
    run.losses.examples[:] = examples
    run.previous_seconds = float(resume.get("train_seconds", 0.0))
    run.epoch_offset = int(resume.get("epoch_offset", 0))
    run.facts["resume_chunks"] = resume.get("chunks")
