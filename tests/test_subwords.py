"""Character n-grams and their buckets (fastText's hashing), and vectors built from them."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes
from hypothesis import given
from hypothesis import strategies as st

from embedkit.errors import UsageError
from embedkit.text.subwords import fasttext_hash, ngram_ids, ngrams, vocabulary_ngrams
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
