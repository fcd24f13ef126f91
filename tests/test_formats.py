"""File formats: native, word2vec text and binary, both ways with gensim, and bad files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit import FormatError, Vectors
from embedkit.io.word2vec import sniff_format

ONES3 = np.ones(3, "<f4").tobytes()


@pytest.fixture
def small() -> Vectors:
    rng = np.random.default_rng(3)
    words = ["the", "paris", "café", "naïve", "x"]
    return Vectors(words, rng.standard_normal((5, 7)).astype(np.float32), counts=np.array([9, 5, 3, 2, 1]))


def test_native_roundtrip_keeps_everything(small: Vectors, tmp_path: Path) -> None:
    small.meta["training"] = {"dim": 7}
    small.save(tmp_path / "model")
    loaded = embedkit.load(tmp_path / "model")
    assert loaded.words == small.words
    np.testing.assert_array_equal(loaded.vectors, small.vectors)
    assert loaded.counts.tolist() == [9, 5, 3, 2, 1]
    assert loaded.meta["training"] == {"dim": 7}
    mapped = embedkit.io.native.load_native(tmp_path / "model", mmap=True)
    assert isinstance(mapped.vectors, np.memmap)
    np.testing.assert_array_equal(mapped.vectors, small.vectors)


def test_native_save_replaces_an_existing_model(small: Vectors, tmp_path: Path) -> None:
    small.save(tmp_path / "model")
    other = Vectors(["a"], np.ones((1, 2), dtype=np.float32))
    other.save(tmp_path / "model")
    assert embedkit.load(tmp_path / "model").words == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporaries left


@pytest.mark.parametrize("binary", [True, False])
def test_word2vec_files_we_write_load_in_gensim(small: Vectors, tmp_path: Path, binary: bool) -> None:
    path = tmp_path / ("v.bin" if binary else "v.txt")
    small.save_word2vec(path, binary=binary)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == small.words
    np.testing.assert_array_equal(kv.vectors, small.vectors)


@pytest.mark.parametrize("binary", [True, False])
def test_word2vec_files_gensim_writes_load_identically(small: Vectors, tmp_path: Path, binary: bool) -> None:
    kv = KeyedVectors(vector_size=small.dim)
    kv.add_vectors(small.words, small.vectors)
    theirs = tmp_path / "gensim.out"
    kv.save_word2vec_format(str(theirs), binary=binary)
    loaded = embedkit.load(theirs)  # format told from the content, not the name
    assert loaded.words == small.words
    np.testing.assert_array_equal(loaded.vectors, small.vectors)
    ours = tmp_path / "ours.out"
    small.save_word2vec(ours, binary=binary)
    assert ours.read_bytes() == theirs.read_bytes()


def test_word2vec_c_binary_with_newlines_and_glove_text(small: Vectors, tmp_path: Path) -> None:
    rows = b"".join(
        w.encode() + b" " + r.astype("<f4").tobytes() + b"\n" for w, r in zip(small.words, small.vectors)
    )
    path = tmp_path / "c.bin"
    path.write_bytes(b"5 7\n" + rows)
    assert embedkit.load(path).words == small.words
    glove = tmp_path / "glove.txt"
    glove.write_text(
        "".join(f"{w} {' '.join(str(x) for x in r)}\n" for w, r in zip(small.words, small.vectors))
    )
    assert sniff_format(glove) == "text-noheader"
    np.testing.assert_array_equal(embedkit.load(glove).vectors, small.vectors)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"2 3\nab " + np.ones(3, "<f4").tobytes(), "too small|truncated"),
        (b"1000000000000 300\nab " + np.ones(300, "<f4").tobytes(), "too small"),
        (b"1 3\nab " + np.ones(3, "<f4").tobytes() + b"cd " + np.ones(3, "<f4").tobytes(), "more data"),
        (b"2 3\na 1 2 3\nb 1 2\n", "expected a word and 3 values"),
        (b"2 3\na 1 2 3\nb 1 x 3\n", "not numbers|expected"),
        (b"3 2\na 1 2\nb 3 4\n", "truncated"),
        (b"1 2\na nan 2\n", "NaN"),
        (b"2 2\na 1 2\nb inf 2\n", "'b' \\(row 2\\) holds NaN or infinity"),
        (b"2 3\na " + np.array([1, np.nan, 3], "<f4").tobytes() + b"b " + np.ones(3, "<f4").tobytes(), "NaN"),
        (b"1 3\n\xff\xfe " + ONES3, "row 1 is not valid UTF-8.*unicode_errors='replace'"),
        (b"2 2\na 1 2\n\xe9t\xe9 3 4\n", "line 3: not valid UTF-8"),
        (b"1 2\na 1 2\nb 3 4\n", "more rows than the 1"),
        (b"2 4\na " + np.ones(3, "<f4").tobytes() + b"b " + np.ones(3, "<f4").tobytes(), "too small"),
        (b"2 2\na " + ONES3 + b"b " + ONES3, "more data|corrupted"),
        (b"1000000000000 2\na 1 2\n", "too small"),
        (b"1 1000000000000\na 1 2\n", "too small"),
        (b"3 0\na\nb\n", "dimension 0"),
        (b"2 3\na 1 2 3\nb 1 2", "expected a word and 3 values"),
        (b"hello world\nthis is not a vector file\n", "not a word-vector file"),
        (pickle.dumps({"evil": "payload"}), "not a word-vector file|header"),
    ],
)
def test_bad_vector_files_give_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message):
        embedkit.load(path)


def test_pickle_payload_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    payload = pickle.dumps(Evil())
    for name in ("model.bin", "model.txt"):
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(FormatError):
            embedkit.load(tmp_path / name)
    folder = tmp_path / "native"
    folder.mkdir()
    (folder / "meta.json").write_text(
        '{"format": "embedkit-vectors", "format_version": 1, "dim": 1, "words": ["a"]}'
    )
    np.save(folder / "vectors.npy", np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError):
        embedkit.load(folder)
    assert not marker.exists()


def test_native_files_checked(small: Vectors, tmp_path: Path) -> None:
    small.save(tmp_path / "m")
    meta = (tmp_path / "m" / "meta.json").read_text()
    (tmp_path / "m" / "meta.json").write_text(meta.replace('"format_version": 1', '"format_version": 99'))
    with pytest.raises(FormatError, match="format version 99"):
        embedkit.load(tmp_path / "m")
    small.save(tmp_path / "m")
    np.save(tmp_path / "m" / "vectors.npy", np.zeros((4, 7), dtype=np.float32))
    with pytest.raises(FormatError, match="5 words of dim 7"):
        embedkit.load(tmp_path / "m")
    (tmp_path / "m" / "meta.json").write_text("{not json")
    with pytest.raises(FormatError, match="JSON"):
        embedkit.load(tmp_path / "m")
    with pytest.raises(FormatError, match="does not exist"):
        embedkit.load(tmp_path / "absent")


def test_words_with_spaces_cannot_be_written_to_word2vec(tmp_path: Path) -> None:
    v = Vectors(["new york"], np.ones((1, 2), dtype=np.float32))
    with pytest.raises(FormatError, match="whitespace"):
        v.save_word2vec(tmp_path / "v.bin")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.builds(
            lambda h, b: h + b, st.sampled_from([b"2 3\n", b"1 1\n", b"3 2\n"]), st.binary(max_size=200)
        ),
    )
)
def test_loader_never_crashes_on_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.bin"
    path.write_bytes(data)
    try:
        vectors = embedkit.load(path)
    except FormatError:
        return
    assert np.isfinite(vectors.vectors).all() and len(vectors.words) == vectors.vectors.shape[0]


def test_limit_reads_only_the_first_words(small: Vectors, tmp_path: Path) -> None:
    small.save_word2vec(tmp_path / "v.bin")
    first = embedkit.io.word2vec.load_word2vec_binary(tmp_path / "v.bin", limit=2)
    assert first.words == small.words[:2]
    np.testing.assert_array_equal(first.vectors, small.vectors[:2])


# --- handling decided for messy files that real downloads have -------------------------
@pytest.mark.parametrize("binary", [True, False])
def test_duplicate_words_keep_the_first_vector_with_a_warning(tmp_path: Path, binary: bool) -> None:
    words, rows = ["a", "b", "a", "c", "b"], np.arange(10, dtype=np.float32).reshape(5, 2)
    path = tmp_path / "dup"
    if binary:
        path.write_bytes(b"5 2\n" + b"".join(w.encode() + b" " + r.tobytes() for w, r in zip(words, rows)))
    else:
        path.write_text("5 2\n" + "".join(f"{w} {r[0]} {r[1]}\n" for w, r in zip(words, rows)))
    with pytest.warns(UserWarning, match=r"2 duplicate word\(s\), e.g. 'a'; kept the first"):
        loaded = embedkit.load(path)
    assert loaded.words == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.vectors, rows[[0, 1, 3]])
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)  # gensim keeps the first too
    assert kv.index_to_key[:3] == loaded.words  # (and leaves empty slots after them)
    np.testing.assert_array_equal(kv.vectors[:3], loaded.vectors)
    with pytest.raises(FormatError, match="duplicate word 'a'"):
        Vectors(words, rows)  # building vectors in code: still an error


@pytest.mark.parametrize("binary", [True, False])
def test_non_utf8_words_error_or_replace_as_asked(tmp_path: Path, binary: bool) -> None:
    bad = "caf\xe9".encode("latin-1")
    path = tmp_path / "latin1"
    if binary:
        ones, zeros = np.ones(2, "<f4").tobytes(), np.zeros(2, "<f4").tobytes()
        path.write_bytes(b"2 2\nok " + ones + bad + b" " + zeros)
    else:
        path.write_bytes(b"2 2\nok 1 1\n" + bad + b" 0 0\n")
    where = "word in row 2 is" if binary else "line 3:"
    with pytest.raises(FormatError, match=f"{where} not valid UTF-8"):
        embedkit.load(path)
    assert embedkit.load(path, unicode_errors="replace").words == ["ok", "caf\ufffd"]
    assert embedkit.load(path, unicode_errors="ignore").words == ["ok", "caf"]
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, unicode_errors="replace")
    assert kv.index_to_key == ["ok", "caf\ufffd"]
    with pytest.raises(embedkit.UsageError, match="unicode_errors"):
        embedkit.load(path, unicode_errors="bogus")


def test_fasttext_vec_rows_with_trailing_space(tmp_path: Path) -> None:
    # fastText's .vec: a word2vec text header, then rows that end in a space
    rng = np.random.default_rng(5)
    words, rows = ["</s>", "the", "Straße", "日本", ","], rng.standard_normal((5, 4)).astype(np.float32)
    body = "".join(f"{w} {' '.join(f'{x:.4f}' for x in r)} \n" for w, r in zip(words, rows))
    path = tmp_path / "wiki.vec"
    path.write_text("5 4\n" + body, encoding="utf-8")
    assert sniff_format(path) == "word2vec-text"
    loaded = embedkit.load(path)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=False)
    assert loaded.words == words == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    np.testing.assert_allclose(loaded.vectors, rows, atol=1e-4)
    crlf = tmp_path / "windows.vec"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    np.testing.assert_array_equal(embedkit.load(crlf).vectors, loaded.vectors)
    assert embedkit.load(path, limit=2).words == words[:2]


# --- native format --------------------------------------------------------------------
def test_native_version_1_as_written_today_stays_readable(tmp_path: Path) -> None:
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "meta.json").write_text(
        '{"format": "embedkit-vectors", "format_version": 1, "embedkit_version": "0.1.0", "count": 2,'
        ' "dim": 3, "words": ["a", "ß"], "counts": [5, 2], "meta": {"training": {"epochs": 5}}}',
        encoding="utf-8",
    )
    np.save(folder / "vectors.npy", np.arange(6, dtype="<f4").reshape(2, 3))
    loaded = embedkit.load(folder)
    assert loaded.words == ["a", "ß"] and loaded.counts.tolist() == [5, 2]
    assert loaded.meta == {"training": {"epochs": 5}}
    np.testing.assert_array_equal(loaded.vectors, np.arange(6).reshape(2, 3))


def test_native_from_a_later_embedkit_gives_a_clear_error(small: Vectors, tmp_path: Path) -> None:
    small.save(tmp_path / "m")
    meta_path = tmp_path / "m" / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["format_version"] == embedkit.io.native.VECTORS_ONLY_VERSION == 1  # vectors only
    assert embedkit.io.native.NATIVE_VERSION == 3  # 2: full models, 3: subword models
    meta["format_version"] = 4
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="format version 4; this embedkit reads up to 3"):
        embedkit.load(tmp_path / "m")


def test_native_mmap_maps_the_matrix_read_only(small: Vectors, tmp_path: Path) -> None:
    small.save(tmp_path / "m")
    mapped = embedkit.load(tmp_path / "m", mmap=True)
    assert isinstance(mapped.vectors, np.memmap) and not mapped.vectors.flags.writeable
    with pytest.raises(ValueError):
        mapped.vectors[0, 0] = 1.0
    assert mapped.most_similar("paris", k=1)[0][0] in small.words  # queries work on the map
    limited = embedkit.load(tmp_path / "m", mmap=True, limit=2)
    assert isinstance(limited.vectors, np.memmap) and limited.words == small.words[:2]


# --- writing ----------------------------------------------------------------------------
def test_binary_written_in_many_blocks_matches_gensim(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(embedkit.io.word2vec, "_BLOCK_BYTES", 100)  # a few rows per block
    rng = np.random.default_rng(8)
    words = [f"w{i}é" if i % 7 == 0 else f"w{i}" for i in range(101)]
    matrix = np.asfortranarray(rng.standard_normal((101, 5)).astype(np.float32))  # not C-ordered
    ours = tmp_path / "ours.bin"
    Vectors(words, matrix).save_word2vec(ours)
    kv = KeyedVectors(vector_size=5)
    kv.add_vectors(words, np.ascontiguousarray(matrix))
    kv.save_word2vec_format(str(tmp_path / "gensim.bin"), binary=True)
    assert ours.read_bytes() == (tmp_path / "gensim.bin").read_bytes()
    np.testing.assert_array_equal(embedkit.load(ours).vectors, matrix)


@pytest.mark.parametrize("word", ["a\u00a0b", "tab\there", "new\nline", ""])
def test_words_word2vec_cannot_hold_are_refused(tmp_path: Path, word: str) -> None:
    v = Vectors(["ok", word], np.ones((2, 2), dtype=np.float32))
    for binary in (True, False):
        with pytest.raises(FormatError, match="cannot be stored in word2vec format"):
            v.save_word2vec(tmp_path / "v.bin", binary=binary)
    assert list(tmp_path.iterdir()) == []


_word = st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12
).filter(lambda w: not any(ch.isspace() for ch in w))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(_word, min_size=1, max_size=12, unique=True),
    dim=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    binary=st.booleans(),
)
def test_any_vectors_round_trip_and_match_gensim_bytes(
    tmp_path: Path, words: list[str], dim: int, seed: int, binary: bool
) -> None:
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-8, 8, size=(len(words), dim))
    matrix = (rng.standard_normal((len(words), dim)) * scale).astype(np.float32)
    v = Vectors(words, matrix)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    v.save_word2vec(ours, binary=binary)
    kv = KeyedVectors(vector_size=dim)
    kv.add_vectors(words, matrix)
    kv.save_word2vec_format(str(theirs), binary=binary)
    assert ours.read_bytes() == theirs.read_bytes()
    loaded = embedkit.load(ours)
    assert loaded.words == words
    np.testing.assert_array_equal(loaded.vectors, matrix)


def test_a_small_binary_file_whose_vector_bytes_read_as_text_is_still_binary(tmp_path: Path) -> None:
    """Found by hypothesis: 1.578436 as float32 is the bytes ``1\\n\\xca?``, so the file
    ``1 1\\n0 1\\n\\xca?`` has a second line that reads like a text row."""
    matrix = np.array([[1.578436]], dtype=np.float32)
    assert matrix.tobytes().startswith(b"1\n")
    for words in (["0"], ["0", "1"]):
        rows = np.repeat(matrix, len(words), axis=0)
        Vectors(words, rows).save_word2vec(tmp_path / "v.bin", binary=True)
        assert sniff_format(tmp_path / "v.bin") == "word2vec-binary"
        loaded = embedkit.load(tmp_path / "v.bin")
        assert loaded.words == words
        np.testing.assert_array_equal(loaded.vectors, rows)


def test_large_matrices_are_read_into_populated_mappings(small: Vectors, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(embedkit.io.matrix, "_POPULATE_BYTES", 0)  # as for a large model
    small.save_word2vec(tmp_path / "v.bin")
    small.save(tmp_path / "native")
    for path in (tmp_path / "v.bin", tmp_path / "native"):
        loaded = embedkit.load(path)
        assert loaded.words == small.words
        np.testing.assert_array_equal(loaded.vectors, small.vectors)
        assert loaded.vectors.flags.writeable and loaded.vectors.flags.c_contiguous
        loaded.vectors[0, 0] = 42.0  # private memory: the files do not change
    assert embedkit.load(tmp_path / "v.bin").vectors[0, 0] == small.vectors[0, 0]


def test_failed_allocation_is_reported_in_the_callers_thread(
    small: Vectors, tmp_path: Path, monkeypatch
) -> None:
    def no_memory(rows: int, dim: int) -> np.ndarray:
        raise MemoryError(f"cannot allocate {rows} x {dim}")

    monkeypatch.setattr(embedkit.io.word2vec, "fresh_matrix", no_memory)
    small.save_word2vec(tmp_path / "v.bin")
    with pytest.raises(MemoryError, match="5 x 7"):
        embedkit.load(tmp_path / "v.bin")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    part=st.sampled_from(["meta.json", "vectors.npy"]),
    cut=st.integers(0, 400),
    junk=st.binary(max_size=300),
    mmap=st.booleans(),
)
def test_native_reader_never_crashes_on_damaged_files(
    tmp_path: Path, part: str, cut: int, junk: bytes, mmap: bool
) -> None:
    """A native model whose meta.json or vectors.npy is cut and followed by arbitrary bytes
    loads (if still consistent) or fails with embedkit's own error, never another one."""
    folder = tmp_path / "model"
    if not folder.exists():
        Vectors(["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2), counts=[3, 2, 1]).save(folder)
        (tmp_path / "good").mkdir()
        for name in ("meta.json", "vectors.npy"):
            (tmp_path / "good" / name).write_bytes((folder / name).read_bytes())
    for name in ("meta.json", "vectors.npy"):
        (folder / name).write_bytes((tmp_path / "good" / name).read_bytes())
    good = (folder / part).read_bytes()
    (folder / part).write_bytes(good[:cut] + junk)
    try:
        vectors = embedkit.load(folder, mmap=mmap)
    except FormatError:
        return
    assert len(vectors.words) == vectors.vectors.shape[0]


def test_native_header_claiming_a_huge_matrix_is_refused_before_allocating(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    Vectors(["a"], np.ones((1, 2), dtype=np.float32)).save(folder)
    header = np.lib.format.header_data_from_array_1_0(np.ones((1, 2), dtype=np.float32))
    header["shape"] = (10**12, 2)
    with open(folder / "vectors.npy", "wb") as out:
        np.lib.format.write_array_header_1_0(out, header)
        out.write(np.ones(2, dtype=np.float32).tobytes())
    with pytest.raises(FormatError, match="shorter than its"):
        embedkit.load(folder)
