"""Every bad input a user can give, and the one-line message it must get.

Each row: the command line (``{tmp}`` is a scratch folder holding the files made by
``bad_files``, ``{model}`` a small trained model, ``{lee}`` a real corpus), the exit
code (1 bad data, 2 bad usage) and a fragment of the message. Add a row for each new case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_cli


@pytest.fixture(scope="module")
def model(lee_path: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "lee.bin"
    result = run_cli("train", lee_path, "-o", out, "--epochs", "1", "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def bad_files(tmp: Path) -> None:
    """The broken inputs the table refers to."""
    (tmp / "empty.txt").write_bytes(b"")
    (tmp / "blank.txt").write_text("  \n\n\t\n")
    (tmp / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (tmp / "rare.txt").write_text("every word here is unique\n")
    (tmp / "garbage.bin").write_text("this is not\na model\n")
    (tmp / "truncated.bin").write_bytes(b"3 4\nab " + b"\x00" * 16 + b"cd " + b"\x00" * 5)
    (tmp / "liar.bin").write_bytes(b"1000000000000 300\nab " + b"\x00" * 1200)
    (tmp / "badrow.txt").write_text("2 3\na 1 2 3\nb 1 2\n")
    (tmp / "nan.txt").write_text("1 2\na nan 2\n")
    (tmp / "dup.txt").write_text("2 2\na 1 2\na 3 4\n")
    vector = b"\x00\x00\x80?" * 3  # 1.0 three times
    (tmp / "latin1.bin").write_bytes(b"2 3\nok " + vector + "café".encode("latin-1") + b" " + vector)
    (tmp / "nan.bin").write_bytes(b"1 3\nab " + b"\x00\x00\xc0\x7f" * 3)
    (tmp / "longer.txt").write_text("1 2\na 1 2\nb 3 4\n")
    (tmp / "liar.txt").write_text("1000000000000 2\na 1 2\n")
    (tmp / "wrongdim.bin").write_bytes(b"2 4\na " + vector + b"b " + vector)
    (tmp / "corrupt.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp / "emptydir").mkdir()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["similar", "zzyzx", "--model", "{model}"], 1, "'zzyzx' is not in the vocabulary"),
        (["analogy", "fire", "qwerty", "police", "--model", "{model}"], 1, "'qwerty'"),
        (["similar", "fire", "--model", "{tmp}/absent.bin"], 1, "does not exist"),
        (["similar", "fire", "--model", "{tmp}/garbage.bin"], 1, "not a word-vector file"),
        (["train", "{tmp}/absent.txt", "-o", "{tmp}/o.bin"], 1, "does not exist"),
        (["train", "{tmp}/empty.txt", "-o", "{tmp}/o.bin"], 1, "empty"),
        (["train", "{tmp}/binary.txt", "-o", "{tmp}/o.bin"], 1, "binary"),
        (["train", "{tmp}/rare.txt", "-o", "{tmp}/o.bin"], 1, "lower --min-count"),
        (["train", "{lee}", "-o", "{tmp}/no/such/dir/o.bin"], 1, "does not exist"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--dim", "0"], 2, "--dim"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--window", "-3"], 2, "--window"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--sample", "2"], 2, "--sample"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--epochs", "many"], 2, "--epochs"),
        (["train", "{lee}"], 2, "--out"),
        (["analogy", "a", "b"], 2, "Missing argument"),
        (["similar", "fire", "-k", "0", "--model", "{model}"], 2, "-k"),
        (["frobnicate"], 2, "No such command"),
        (["train", "{tmp}/blank.txt", "-o", "{tmp}/o.bin"], 1, "empty"),
        (["train", "{tmp}/corrupt.txt.gz", "-o", "{tmp}/o.bin"], 1, "cannot read corpus"),
        (["train", "{tmp}/emptydir", "-o", "{tmp}/o.bin"], 1, "holds no files"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--negative", "0"], 2, "--negative"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--min-count", "0"], 2, "--min-count"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--alpha", "0"], 2, "--alpha"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--min-alpha", "0.5"], 2, "min_alpha"),
        (["train", "{lee}", "-o", "{tmp}/o.bin", "--workers", "0"], 2, "--workers"),
        (["similar", "fire", "--model", "{tmp}/truncated.bin"], 1, "truncated"),
        (["similar", "fire", "--model", "{tmp}/liar.bin"], 1, "too small"),
        (["similar", "fire", "--model", "{tmp}/badrow.txt"], 1, "expected a word and 3 values"),
        (["similar", "fire", "--model", "{tmp}/nan.txt"], 1, "NaN"),
        (["info", "{tmp}/latin1.bin"], 1, "word in row 2 is not valid UTF-8"),
        (["convert", "{tmp}/nan.bin", "{tmp}/o.bin"], 1, "vector of 'ab' (row 1) holds NaN"),
        (["info", "{tmp}/longer.txt"], 1, "more rows than the 1 its header announces"),
        (["info", "{tmp}/liar.txt"], 1, "too small"),
        (["info", "{tmp}/wrongdim.bin"], 1, "too small to hold them"),
        (["similar", "fire", "--model", "{tmp}/emptydir"], 1, "not an embedkit model"),
        (["info", "{tmp}/garbage.bin"], 1, "not a word-vector file"),
        (["convert", "{tmp}/absent.bin", "{tmp}/o.bin"], 1, "does not exist"),
        (["evaluate", "{model}", "--analogies", "{tmp}/absent.txt"], 1, "cannot read"),
        (["similar", "fire", "--model", "{model}", "--index", "annoy"], 2, "unknown index 'annoy'"),
        (["analogy", "a", "b", "c", "--index", "lsh"], 2, "unknown index 'lsh'"),
        (["similar", "fire", "--model", "{model}", "--ef-search", "0"], 2, "--ef-search"),
        (["similar", "fire", "--model", "{model}", "--hnsw-m", "1"], 2, "--hnsw-m"),
        (["similar", "fire", "--model", "{model}", "--nprobe", "-1"], 2, "--nprobe"),
        (["similar", "fire", "--model", "{model}", "--restrict", "0"], 2, "--restrict"),
        (["analogy", "a", "b", "c", "--method", "div"], 2, "unknown --method 'div'"),
        (["analogy", "a", "b", "c", "--batch", "{tmp}/blank.txt"], 2, "not both"),
        (["analogy", "--batch", "{tmp}/absent.txt", "--model", "{model}"], 1, "does not exist"),
    ],
)
def test_bad_input_one_line_no_traceback(
    args, code, message, tmp_path: Path, model: Path, lee_path: Path
) -> None:
    bad_files(tmp_path)
    args = [a.format(tmp=tmp_path, model=model, lee=lee_path) for a in args]
    result = run_cli(*args)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0], lines[0]
    assert not (tmp_path / "o.bin").exists()


def test_debug_flag_shows_the_traceback(model: Path) -> None:
    result = run_cli("--debug", "similar", "zzyzx", "--model", model)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "UnknownWordError" in result.stderr


def test_duplicate_words_keep_the_first_with_a_one_line_warning(tmp_path: Path) -> None:
    """Published files (GloVe 840B, some fastText .vec) list a few words twice: like gensim,
    embedkit keeps the first vector and says so."""
    bad_files(tmp_path)
    result = run_cli("convert", tmp_path / "dup.txt", tmp_path / "o.txt")
    assert result.returncode == 0, result.stderr
    name = repr(str(tmp_path / "dup.txt"))
    assert result.stderr.strip().splitlines() == [
        f"warning: {name}: 1 duplicate word(s), e.g. 'a'; kept the first vector of each"
    ]
    assert (tmp_path / "o.txt").read_text() == "1 2\na 1.0 2.0\n"
