"""File formats: native, word2vec text and binary, both ways with gensim, and bad files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit import FormatError, Vectors
from embedkit.formats import sniff_format


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
    mapped = embedkit.formats.load_native(tmp_path / "model", mmap=True)
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
        (b"2 2\na 1 2\na 3 4\n", "duplicate"),
        (b"1 2\na nan 2\n", "NaN"),
        (b"1 3\n\xff\xfe " + np.ones(3, "<f4").tobytes(), "UTF-8"),
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
    first = embedkit.formats.load_word2vec_binary(tmp_path / "v.bin", limit=2)
    assert first.words == small.words[:2]
    np.testing.assert_array_equal(first.vectors, small.vectors[:2])
