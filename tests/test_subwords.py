"""Character n-grams and their buckets (fastText's hashing), and vectors built from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes
from hypothesis import given
from hypothesis import strategies as st

from embedkit.errors import UnknownWordError, UsageError
from embedkit.session import QuerySession
from embedkit.text.subwords import fasttext_hash, ngram_ids, ngrams, vocabulary_ngrams
from embedkit.vectors.store import Vectors, load
from embedkit.vectors.subwords import SubwordVectors

# Words whose UTF-8 bytes are >= 0x80, where fastText's int8 sign extension changes the hash.
NON_ASCII = ["café", "straße", "日本語", "🙂ok", "naïve", "Ελλάδα", "a"]


def test_hash_of_known_strings() -> None:
    # FNV-1a values: 2166136261 for no byte; 'a' is ASCII, so plain FNV-1a; 'é' (0xC3 0xA9)
    # is hashed as the sign-extended bytes 0xFFFFFFC3, 0xFFFFFFA9 (differs from plain FNV-1a)
    assert fasttext_hash(b"") == 2166136261
    assert fasttext_hash(b"a") == 0xE40C292C
    assert fasttext_hash("é".encode()) == 1023043777
    plain = 2166136261
    for byte in "é".encode():
        plain = ((plain ^ byte) * 16777619) & 0xFFFFFFFF
    assert plain != fasttext_hash("é".encode())


def test_ngrams_in_fasttext_order() -> None:
    assert ngrams("où", 2, 3) == ["<o", "<où", "où", "où>", "ù>"]
    assert ngrams("ab", 1, 2) == ["<a", "a", "ab", "b", "b>"]  # the 1-grams '<' and '>' are left out
    assert ngrams("word", 3, 0) == [] and ngrams("word", 4, 3) == []
    assert ngram_ids("word", 3, 6, 0).size == 0
    # fastText's end-of-line token has no n-grams, in the vocabulary or out of it
    assert ngrams("</s>", 3, 6) == [] and ngram_ids("</s>", 1, 6, 100).size == 0
    offsets, _ = vocabulary_ngrams(["ab", "</s>", "cd"], 3, 6, 100)
    assert np.diff(offsets).tolist() == [len(ngrams("ab", 3, 6)), 0, len(ngrams("cd", 3, 6))]


@pytest.mark.parametrize("word", NON_ASCII)
def test_ngrams_and_ids_agree_with_gensim(word: str) -> None:
    grams = compute_ngrams_bytes(word, 3, 6)
    assert ngrams(word, 3, 6) == [g.decode("utf-8") for g in grams]
    assert ngram_ids(word, 3, 6, 2_000_000).tolist() == [ft_hash_bytes(g) % 2_000_000 for g in grams]


def test_bad_lengths_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="minn"):
        ngrams("word", -1, 3)
    with pytest.raises(UsageError, match="buckets"):
        vocabulary_ngrams(["word"], 3, 6, -5)


@given(
    words=st.lists(st.text(min_size=0, max_size=12), max_size=8),
    minn=st.integers(0, 4),
    maxn=st.integers(0, 7),
    buckets=st.integers(1, 5000),
)
def test_numba_vocabulary_ngrams_equal_pure_python(
    words: list[str], minn: int, maxn: int, buckets: int
) -> None:
    offsets, ids = vocabulary_ngrams(words, minn, maxn, buckets)
    assert offsets.dtype == np.int64 and ids.dtype == np.int32 and len(offsets) == len(words) + 1
    for i, word in enumerate(words):
        assert ids[offsets[i] : offsets[i + 1]].tolist() == ngram_ids(word, minn, maxn, buckets).tolist()
    assert ids.size == 0 or 0 <= ids.min() <= ids.max() < buckets


def test_word_vectors_are_means_of_own_row_and_ngram_rows() -> None:
    rng = np.random.default_rng(3)
    words = ["café", "dog", "日本"]
    sub = SubwordVectors(
        3, 5, 97,
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal((97, 4)).astype(np.float32),
        *vocabulary_ngrams(words, 3, 5, 97),
    )  # fmt: skip
    full = sub.word_vectors()
    for i, word in enumerate(words):
        rows = np.vstack([sub.word_input[i], sub.ngrams[ngram_ids(word, 3, 5, 97)]])
        np.testing.assert_allclose(full[i], rows.mean(axis=0), rtol=1e-6, atol=1e-6)
    unseen = sub.oov_vector("cafés")
    np.testing.assert_allclose(unseen, sub.ngrams[ngram_ids("cafés", 3, 5, 97)].mean(axis=0), atol=1e-6)
    no_ngrams = SubwordVectors(3, 0, 0, sub.word_input, sub.ngrams[:0], np.zeros(4, np.int64), sub.ids[:0])
    assert no_ngrams.oov_vector("dog") is None


def subword_model(minn: int = 3, maxn: int = 5, buckets: int = 97) -> Vectors:
    """A hand-made subword model of six words (dim 8), rows random but fixed."""
    rng = np.random.default_rng(11)
    words = ["paris", "france", "madrid", "spain", "berlin", "germany"]
    sub = SubwordVectors(
        minn, maxn, buckets,
        rng.standard_normal((len(words), 8)).astype(np.float32),
        rng.standard_normal((buckets, 8)).astype(np.float32),
        *vocabulary_ngrams(words, minn, maxn, buckets),
    )  # fmt: skip
    return Vectors(words, sub.word_vectors(), counts=np.arange(6, 0, -1), subwords=sub)


def test_unknown_words_answered_from_ngrams() -> None:
    v = subword_model()
    assert "parisian" not in v and not v.is_known("parisian") and v.has_vector("parisian")
    np.testing.assert_array_equal(v["parisian"], v.subwords.oov_vector("parisian"))
    np.testing.assert_array_equal(v["paris"], v.vectors[0])
    unit = v["parisian"] / np.linalg.norm(v["parisian"])
    found = v.most_similar("parisian", k=6)
    assert len(found) == 6  # nothing excluded: the unknown word is no row
    np.testing.assert_allclose([s for _, s in found], np.sort(v.unit_vectors @ unit)[::-1], atol=1e-5)
    batch = v.most_similar_batch(["parisian"], k=6)[0]
    assert [w for w, _ in batch] == [w for w, _ in found]
    np.testing.assert_allclose([s for _, s in batch], [s for _, s in found], atol=1e-5)
    answer = v.analogy("spain", "madrid", "frances", k=2)
    assert {"spain", "madrid"}.isdisjoint(dict(answer))
    batch = v.analogy_batch([("spain", "madrid", "frances")], k=2)[0]
    assert [w for w, _ in batch] == [w for w, _ in answer]
    np.testing.assert_allclose([s for _, s in batch], [s for _, s in answer], atol=1e-5)
    mul = v.analogy("spain", "madrid", "frances", k=2, method="mul")
    cosmul = v.most_similar_cosmul(["madrid", "frances"], ["spain"], k=2)
    assert [w for w, _ in cosmul] == [w for w, _ in mul]
    np.testing.assert_allclose([s for _, s in cosmul], [s for _, s in mul], atol=1e-6)


def test_words_without_ngrams_are_unknown() -> None:
    v = subword_model(minn=5, maxn=6)
    assert not v.has_vector("x")  # '<x>' is shorter than any n-gram
    with pytest.raises(UnknownWordError, match="no character n-gram"):
        v["x"]
    with pytest.raises(UnknownWordError, match="'x'"):
        v.most_similar("x")
    assert v.most_similar_batch(["x", "parisian"], k=2, on_unknown="none")[0] is None
    plain = Vectors(v.words, v.vectors)
    assert not plain.has_vector("parisian")
    with pytest.raises(UnknownWordError):
        plain["parisian"]


def test_session_names_words_built_from_ngrams() -> None:
    session = QuerySession(subword_model())
    assert session.resolve("Paris") == "paris" and session.resolve("Parisian") == "Parisian"
    assert session.from_ngrams(["Paris", "Parisian", "spainish", "Parisian"]) == ["Parisian", "spainish"]
    assert session.info()["subwords"] == {"minn": 3, "maxn": 5, "buckets": 97}
    lines = list(session.answer_lines(["spain madrid frances"], k=1))
    assert lines[0].startswith("spain madrid frances\t") and "error" not in lines[0]


def test_trainable_subword_model_saves_its_state_once(tmp_path: Path) -> None:
    v = subword_model()
    sub = v.subwords
    output = np.full(v.vectors.shape, 0.5, dtype=np.float32)
    full = Vectors(
        v.words, v.vectors, counts=v.counts, subwords=sub,
        state={"syn0": sub.word_input, "ngrams": sub.ngrams, "syn1neg": output},
    )  # fmt: skip
    full.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "meta.json", "state-syn1neg.npy", "subword-input.npy", "subword-ngrams.npy", "vectors.npy",
    ]  # fmt: skip
    again = load(tmp_path / "m")
    assert again.trainable and set(again.state) == {"syn0", "ngrams", "syn1neg"}
    np.testing.assert_array_equal(again.state["ngrams"], sub.ngrams)
    np.testing.assert_array_equal(again.state["syn0"], sub.word_input)
    np.testing.assert_array_equal(again["parisian"], v["parisian"])
