"""Corpus reading, vocabulary and encoding."""

from __future__ import annotations

import bz2
import gzip
import itertools
import lzma
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedkit.errors import CorpusError
from embedkit.text import reader as corpus_mod
from embedkit.text.encoded import encode_corpus, make_chunks
from embedkit.text.reader import ReadStats, iter_token_pieces
from embedkit.text.vocabulary import build_vocabulary


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_vocabulary_sorted_by_count_ties_by_first_appearance(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt", b"b a c a\nc b d a\n")
    vocab = build_vocabulary(path, min_count=2)
    assert vocab.words == ["a", "b", "c"]
    assert vocab.counts.tolist() == [3, 2, 2]
    assert vocab.total_tokens == 8


@pytest.mark.parametrize(
    ("suffix", "compress"), [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)]
)
def test_compressed_corpora_read_like_plain(tmp_path: Path, suffix: str, compress) -> None:
    text = b"the cat sat\non the mat\n" * 50
    plain = build_vocabulary(write(tmp_path, "c.txt", text), min_count=1)
    packed = build_vocabulary(write(tmp_path, "c.txt" + suffix, compress(text)), min_count=1)
    assert plain.words == packed.words and plain.counts.tolist() == packed.counts.tolist()


def test_long_line_without_newline_is_streamed_in_pieces(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(corpus_mod, "MAX_PIECE_CHARS", 1000)
    monkeypatch.setattr(corpus_mod, "READ_BLOCK_BYTES", 512)
    words = [f"w{i % 97}" for i in range(20_000)]
    path = write(tmp_path, "long.txt", " ".join(words).encode())
    pieces = list(iter_token_pieces(path))
    assert len(pieces) > 10
    assert [t for piece, _ in pieces for t in piece] == words
    assert [ends for _, ends in pieces].count(True) == 1 and pieces[-1][1]


def test_encoding_keeps_every_token_of_a_long_line(tmp_path: Path) -> None:
    words = [f"w{i % 50}" for i in range(30_000)]
    path = write(tmp_path, "long.txt", (" ".join(words) + "\nw1 w2\n").encode())
    vocab = build_vocabulary(path, min_count=1)
    encoded = encode_corpus(path, vocab, tmp_path / "enc.int32")
    assert encoded.n_tokens == 30_002
    assert encoded.line_starts.tolist() == [0, 30_000, 30_002]
    assert [vocab.words[i] for i in encoded.tokens[:5]] == words[:5]


def test_out_of_vocabulary_words_dropped_and_empty_lines_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt", b"a a rare\n\nonly\na b b\n")
    vocab = build_vocabulary(path, min_count=2)
    encoded = encode_corpus(path, vocab, tmp_path / "enc.int32")
    assert [vocab.words[i] for i in encoded.tokens] == ["a", "a", "a", "b", "b"]
    assert encoded.line_starts.tolist() == [0, 2, 5]


def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt", b"caf\xe9 ok\nok\n")
    stats = ReadStats()
    vocab = build_vocabulary(path, min_count=1, stats=stats)
    assert stats.replaced_chars == 1
    assert "caf\ufffd" in vocab.words


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n \t\n", "is empty"),
        (b"\x00\x01\x02\x03binary\x00" * 100, "binary"),
        (b"one two three\n", "lower --min-count"),
    ],
)
def test_bad_corpora_raise_clear_errors(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        build_vocabulary(write(tmp_path, "c.txt", data), min_count=2)


def test_missing_corpus_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        build_vocabulary(tmp_path / "nope.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no files"):
        build_vocabulary(tmp_path / "empty")


def test_folder_corpus_reads_every_file_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("beta beta\ngamma")  # no final newline: the line still ends
    (folder / "a.txt").write_text("alpha\n")
    (folder / "sub" / "c.txt.gz").write_bytes(gzip.compress(b"delta\n"))
    (folder / ".hidden").write_text("secret\n")
    pieces = list(iter_token_pieces(folder))
    assert pieces == [(["alpha"], True), (["beta", "beta"], True), (["gamma"], True), (["delta"], True)]


def test_corrupt_compressed_corpus(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt.gz", gzip.compress(b"hello world\n" * 100)[:30])
    with pytest.raises(CorpusError, match="cannot read corpus"):
        build_vocabulary(path, min_count=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_reader_never_crashes_on_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "fuzz.txt", data)
    try:
        tokens = [t for piece, _ in iter_token_pieces(path) for t in piece]
    except CorpusError:
        return
    assert tokens == data.decode("utf-8", errors="replace").split()


def test_chunks_cover_every_token_once() -> None:
    starts = np.array([0, 5, 70_000, 70_010, 120_000], dtype=np.int64)
    chunks = make_chunks(starts, chunk_tokens=20_000)
    assert chunks[0][0] == 0 and chunks[-1][-1] == 120_000
    for before, after in itertools.pairwise(chunks):
        assert before[-1] == after[0]
    longest_piece = max(int(np.diff(c).max()) for c in chunks)
    assert longest_piece <= 20_000
