"""The command line, end to end, as a user runs it (``python -m embedkit``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from typer.testing import CliRunner

import embedkit
from embedkit.cli import app

from .conftest import run_cli


@pytest.fixture(scope="module")
def lee_bin(lee_path: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "lee.bin"
    result = run_cli("train", lee_path, "-o", out, "--epochs", "10", "--workers", "1", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "trained" in result.stdout and "words/s" in result.stdout
    return out


def test_train_writes_word2vec_binary_that_gensim_reads(lee_bin: Path) -> None:
    ours = embedkit.load(lee_bin)
    kv = KeyedVectors.load_word2vec_format(str(lee_bin), binary=True)
    assert kv.index_to_key == ours.words
    np.testing.assert_array_equal(kv.vectors, ours.vectors)
    assert ours.dim == 100 and len(ours) > 1000


@pytest.mark.parametrize(
    ("name", "kind"), [("v.txt", "word2vec text"), ("v.vec", "word2vec text"), ("model", "embedkit native")]
)
def test_output_format_follows_the_name(lee_path: Path, tmp_path: Path, name: str, kind: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["train", str(lee_path), "-o", str(tmp_path / name), "--epochs", "1", "--dim", "20", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert kind in result.output
    assert embedkit.load(tmp_path / name).dim == 20


def test_progress_bar_is_drawn(lee_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["train", str(lee_path), "-o", str(tmp_path / "m"), "--epochs", "2"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output


def test_similar_and_analogy_print_ranked_answers(lee_bin: Path) -> None:
    result = run_cli("similar", "government", "--model", lee_bin, "-k", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[0] == "1"
    scores = [float(line.split()[-1]) for line in lines]
    assert scores == sorted(scores, reverse=True)
    result = run_cli("analogy", "man", "men", "child", "--model", lee_bin, "-k", "5")
    assert result.returncode == 0, result.stderr
    words = [line.split()[1] for line in result.stdout.splitlines()]
    assert len(words) == 5 and not {"man", "men", "child"} & set(words)


def test_query_words_are_matched_case_insensitively_when_needed(lee_bin: Path) -> None:
    result = run_cli("similar", "GOVERNMENT", "--model", lee_bin, "-k", "1")
    assert result.returncode == 0, result.stderr


def test_ctrl_c_stops_training_quickly_and_writes_nothing(lee_path: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "never.bin"
    cmd = [sys.executable, "-m", "embedkit", "train", str(lee_path), "-o", str(out), "--epochs", "5000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 2.0
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_convert_between_formats_and_info(lee_bin: Path, tmp_path: Path) -> None:
    original = embedkit.load(lee_bin)
    for name in ("v.txt", "model", "back.bin"):
        source = lee_bin if name == "v.txt" else tmp_path / ("v.txt" if name == "model" else "model")
        result = run_cli("convert", source, tmp_path / name)
        assert result.returncode == 0, result.stderr
    back = embedkit.load(tmp_path / "back.bin")
    assert back.words == original.words
    np.testing.assert_array_equal(back.vectors, original.vectors)
    result = run_cli("convert", lee_bin, tmp_path / "top.vec", "--limit", "50")
    assert result.returncode == 0 and len(embedkit.load(tmp_path / "top.vec")) == 50
    result = run_cli("info", tmp_path / "v.txt")
    assert result.returncode == 0, result.stderr
    assert "word2vec text" in result.stdout and f"words: {len(original):,}" in result.stdout


def test_info_shows_training_settings(lee_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["train", str(lee_path), "-o", str(tmp_path / "m"), "--epochs", "1", "--quiet"])
    result = run_cli("info", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    assert (
        "embedkit native" in result.stdout and "window: 5" in result.stdout and "epoch_loss" in result.stdout
    )


def test_train_reads_stdin_and_warns_once_about_invalid_utf8(lee_path: Path, tmp_path: Path) -> None:
    text = "caf\udce9 ok ok\n".encode("utf-8", "surrogateescape") + lee_path.read_bytes()
    import subprocess
    import sys

    out = tmp_path / "stdin.bin"
    cmd = [sys.executable, "-m", "embedkit", "train", "-", "-o", str(out), "--epochs", "1", "--quiet"]
    result = subprocess.run(cmd, input=text, capture_output=True)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.decode().splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "invalid UTF-8" in warnings[0]
    assert len(embedkit.load(out)) > 1000


def test_train_on_a_folder(lee_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    lines = lee_path.read_text().splitlines(keepends=True)
    (folder / "a.txt").write_text("".join(lines[:150]))
    (folder / "b.txt").write_text("".join(lines[150:]))
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(folder), "-o", str(tmp_path / "m"), "--epochs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert embedkit.load(tmp_path / "m").meta["training"]["raw_tokens"] == len(lee_path.read_text().split())
