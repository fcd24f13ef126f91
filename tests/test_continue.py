"""Further training: full models, continuing on new text, checkpoints and resuming, callbacks."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit.errors import EmbedkitError, FormatError, UsageError
from embedkit.training.core import StopTraining

from .conftest import run_cli


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def full_model(lee_path: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full") / "lee-full"
    result = run_cli("train", lee_path, "-o", out, "--full", "--epochs", "3", "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def test_a_full_model_keeps_output_weights_and_still_answers_queries(full_model: Path, tmp_path) -> None:
    meta = json.loads((full_model / "meta.json").read_text())
    assert meta["format_version"] == 2 and meta["state"] == ["syn1neg"]
    vectors = embedkit.load(full_model)
    assert vectors.trainable and vectors.state["syn1neg"].shape == vectors.vectors.shape
    assert not vectors.state["syn1neg"].flags.writeable  # mapped, not read, for queries
    assert np.abs(np.asarray(vectors.state["syn1neg"])).sum() > 0
    assert len(vectors.most_similar("government", k=5)) == 5
    info = run_cli("info", full_model)
    assert info.returncode == 0 and "can be trained further" in info.stdout
    plain = embedkit.load(full_model, limit=100)  # a cut model cannot be trained further
    assert not plain.trainable
    plain.save(tmp_path / "plain")
    assert json.loads((tmp_path / "plain" / "meta.json").read_text())["format_version"] == 1
    assert "can be trained further" not in run_cli("info", tmp_path / "plain").stdout


def test_continuing_adds_new_words_adds_counts_and_leaves_the_source_alone(
    full_model: Path, tmp_path: Path
) -> None:
    before = folder_digest(full_model)
    source = embedkit.load(full_model)
    new = tmp_path / "new.txt"
    lines = ["zorblat quux said the government"] * 30 + ["the rareword police"] * 2
    new.write_text("\n".join(lines) + "\n")
    out = tmp_path / "continued"
    result = run_cli("train", new, "--from", full_model, "-o", out, "--epochs", "2", "--workers", "1", "-q")
    assert result.returncode == 0, result.stderr
    grown = embedkit.load(out)
    assert folder_digest(full_model) == before  # the source model is never modified
    assert "zorblat" in grown and "quux" in grown and "rareword" not in grown  # min_count 5
    assert len(grown) == len(source) + 2
    counts = dict(zip(grown.words, grown.counts.tolist()))
    old = dict(zip(source.words, source.counts.tolist()))
    assert counts["government"] == old["government"] + 30
    assert counts["police"] == old["police"] + 2  # counted though rarer than min_count here
    assert counts["zorblat"] == 30
    assert list(grown.counts) == sorted(grown.counts, reverse=True)  # most frequent first
    # a word absent from the new text is never a context or centre word: its vector is kept
    absent = next(w for w in source.words[50:] if w not in {"zorblat", "quux", "said", "the", "government"})
    np.testing.assert_array_equal(grown[absent], source[absent])
    assert not np.array_equal(grown["government"], source["government"])
    assert grown.meta["training"]["continued_from"] == str(full_model)
    assert grown.meta["training"]["window"] == source.meta["training"]["window"]  # the model's settings


def test_callbacks_once_per_epoch_with_the_epoch_loss_and_a_read_only_view(lee_path: Path) -> None:
    seen = []

    def record(epoch: int, loss: float, vectors: embedkit.Vectors) -> None:
        assert not vectors.vectors.flags.writeable
        seen.append((epoch, loss, vectors.vectors.copy(), len(vectors)))

    vectors = embedkit.train(lee_path, epochs=3, workers=1, seed=2, progress=False, callbacks=[record])
    assert [epoch for epoch, *_ in seen] == [1, 2, 3]
    assert [loss for _, loss, *_ in seen] == vectors.meta["training"]["epoch_loss"]
    np.testing.assert_array_equal(seen[-1][2], vectors.vectors)  # the view was of the live weights
    assert not np.array_equal(seen[0][2], seen[1][2])


@pytest.mark.parametrize("how", ["return", "raise"])
def test_a_callback_stops_training_early(lee_path: Path, how: str) -> None:
    def stop_after_two(epoch: int, loss: float, vectors: embedkit.Vectors) -> bool:
        if epoch == 2 and how == "raise":
            raise StopTraining
        return epoch == 2

    vectors = embedkit.train(
        lee_path, epochs=6, workers=1, seed=2, progress=False, callbacks=[stop_after_two]
    )
    info = vectors.meta["training"]
    assert info["epochs_trained"] == 2 and len(info["epoch_loss"]) == 2
    two = embedkit.train(lee_path, epochs=6, workers=1, seed=2, progress=False, callbacks=[lambda *a: None])
    assert info["epoch_loss"] == two.meta["training"]["epoch_loss"][:2]


def test_an_interrupted_run_resumes_bit_for_bit(lee_path: Path, tmp_path: Path) -> None:
    """Kill a one-worker run (SIGKILL) after it wrote checkpoints, resume it, compare with a whole run."""
    corpus = tmp_path / "lee4.txt"
    corpus.write_text(lee_path.read_text() * 4)
    out, checkpoint = tmp_path / "model", tmp_path / "model.checkpoint"
    settings = ["--epochs", "12", "--workers", "1", "--seed", "4"]
    cmd = [sys.executable, "-m", "embedkit", "train", str(corpus), "-o", str(out), *settings, "-q",
           "--checkpoint-every", "0.004m"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    began = time.monotonic()
    while not (checkpoint / "meta.json").exists() and time.monotonic() - began < 120:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (checkpoint / "meta.json").exists() and not out.exists()
    stopped = json.loads((checkpoint / "meta.json").read_text())["meta"]["training"]["resume"]
    assert stopped["epoch"] < 12
    result = run_cli("train", corpus, "-o", out, "--resume", checkpoint, "--workers", "1", "-q")
    assert result.returncode == 0, result.stderr
    resumed = embedkit.load(out)
    whole = embedkit.train(corpus, epochs=12, workers=1, seed=4, progress=False)
    np.testing.assert_array_equal(resumed.vectors, whole.vectors)
    assert resumed.meta["training"]["epoch_loss"] == whole.meta["training"]["epoch_loss"]


def test_epoch_checkpoints_resume_in_python_too(lee_path: Path, tmp_path: Path) -> None:
    class Crash(Exception):
        pass

    def crash(epoch: int, loss: float, vectors: embedkit.Vectors) -> None:
        if epoch == 3:
            raise Crash

    path = tmp_path / "ckpt"
    with pytest.raises(Crash):
        embedkit.train(lee_path, epochs=5, workers=1, seed=9, progress=False, callbacks=[crash],
                       checkpoint_every=2, checkpoint_path=path)  # fmt: skip
    assert embedkit.load(path).meta["training"]["resume"]["epoch"] == 2
    resumed = embedkit.train(lee_path, resume=path, progress=False, workers=1)
    whole = embedkit.train(lee_path, epochs=5, workers=1, seed=9, progress=False)
    np.testing.assert_array_equal(resumed.vectors, whole.vectors)
    finished = embedkit.train(lee_path, epochs=2, workers=1, progress=False, checkpoint_every=1,
                              checkpoint_path=tmp_path / "spent")  # fmt: skip
    assert finished.meta["training"]["epochs"] == 2 and not (tmp_path / "spent").exists()


def test_eval_every_epoch_prints_a_line_per_epoch(lee_path: Path, tmp_path: Path) -> None:
    result = run_cli("train", lee_path, "-o", tmp_path / "m", "--epochs", "2", "--eval-every-epoch", "-q")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and "analogies" in lines[0] and "WS353" in lines[1]


def test_bad_sources_fail_before_training_and_change_nothing(
    full_model: Path, lee_path: Path, tmp_path: Path
) -> None:
    before = folder_digest(full_model)
    vectors_only = tmp_path / "v.bin"
    embedkit.load(full_model).save_word2vec(vectors_only)
    damaged = tmp_path / "damaged"
    embedkit.load(full_model).save(damaged)
    state = damaged / "state-syn1neg.npy"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    newer = tmp_path / "newer"
    embedkit.load(full_model).save(newer)
    meta = json.loads((newer / "meta.json").read_text())
    meta["format_version"] = 99
    (newer / "meta.json").write_text(json.dumps(meta))
    cases = [
        (["--from", vectors_only], 2, "holds vectors only"),
        (["--from", full_model, "--dim", "50"], 2, "dim 50 differs from the model's 100"),
        (["--from", damaged], 1, "shorter than its"),
        (["--from", newer], 1, "format version 99"),
        (["--resume", full_model], 2, "finished its run"),
        (["--from", full_model, "--resume", full_model], 2, "not both"),
        (["--from", full_model, "--checkpoint-every", "soon"], 2, "checkpoint_every"),
        (["--full", "-o", str(tmp_path / "x.bin")], 2, "native model folder"),
    ]
    for extra, code, message in cases:
        out = [] if "-o" in extra else ["-o", tmp_path / "out"]
        result = run_cli("train", lee_path, *out, *extra, "-q")
        assert result.returncode == code, (extra, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (extra, lines)
        assert not (tmp_path / "out").exists()
    same = run_cli("train", lee_path, "-o", full_model, "--from", full_model, "-q")
    assert same.returncode == 2 and "not over it" in same.stderr
    assert folder_digest(full_model) == before


def test_resuming_on_another_corpus_or_with_other_settings_is_refused(
    checkpoint: Path, lee_path: Path, tmp_path: Path
) -> None:
    path = checkpoint
    other = tmp_path / "other.txt"
    other.write_text("\n".join(lee_path.read_text().splitlines()[:150]) + "\n")
    with pytest.raises(embedkit.CorpusError, match="not the one the checkpoint was trained on"):
        embedkit.train(other, resume=path, progress=False)
    with pytest.raises(UsageError, match="cannot change window"):
        embedkit.train(lee_path, resume=path, window=9, progress=False)
    with pytest.raises(UsageError, match="holds vectors only"):
        embedkit.train(lee_path, init=embedkit.Vectors(["a"], np.ones((1, 2), np.float32)), progress=False)
    with pytest.raises(FormatError, match="does not exist"):
        embedkit.train(lee_path, init=tmp_path / "absent", progress=False)


@pytest.fixture(scope="module")
def checkpoint(lee_path: Path, tmp_path_factory) -> Path:
    """A checkpoint of a 3-epoch run stopped after epoch 1."""
    path = tmp_path_factory.mktemp("ckpt") / "ckpt"

    def crash(epoch: int, loss: float, vectors: embedkit.Vectors) -> None:
        if epoch == 2:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        embedkit.train(lee_path, epochs=3, workers=1, progress=False, checkpoint_every=1,
                       checkpoint_path=path, callbacks=[crash])  # fmt: skip
    assert (path / "state-syn1neg.npy").exists()
    return path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    part=st.sampled_from(["meta.json", "vectors.npy", "state-syn1neg.npy"]),
    cut=st.integers(0, 600),
    junk=st.binary(max_size=200),
)
def test_damaged_checkpoints_are_refused_with_a_clear_error(
    checkpoint: Path, lee_path: Path, tmp_path: Path, part: str, cut: int, junk: bytes
) -> None:
    damaged = tmp_path / "damaged"
    shutil.rmtree(damaged, ignore_errors=True)
    shutil.copytree(checkpoint, damaged)
    target = damaged / part
    data = target.read_bytes()
    target.write_bytes(data[: len(data) - cut] + junk if cut or junk else data[:-1])
    before = folder_digest(damaged)
    try:
        resumed = embedkit.train(lee_path, resume=damaged, workers=1, progress=False)
    except EmbedkitError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:  # the damage left a readable checkpoint (junk after a complete file): it resumes
        assert np.isfinite(resumed.vectors).all()
    assert folder_digest(damaged) == before  # a checkpoint is read, never written, on resuming
