"""Vectors: the query API, checked against gensim on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

import embedkit
from embedkit import UnknownWordError, Vectors


@pytest.fixture(scope="module")
def gensim_kv(lee_model: Vectors) -> KeyedVectors:
    kv = KeyedVectors(vector_size=lee_model.dim)
    kv.add_vectors(lee_model.words, lee_model.vectors)
    return kv


@pytest.mark.parametrize("word", ["government", "said", "fire", "Australia", "police"])
def test_most_similar_equals_gensim(lee_model: Vectors, gensim_kv: KeyedVectors, word: str) -> None:
    ours = lee_model.most_similar(word, k=10)
    theirs = gensim_kv.most_similar(word, topn=10)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


@pytest.mark.parametrize(("a", "b", "c"), [("man", "men", "child"), ("Australia", "Sydney", "Afghanistan")])
def test_analogy_equals_gensim(lee_model: Vectors, gensim_kv: KeyedVectors, a: str, b: str, c: str) -> None:
    ours = lee_model.analogy(a, b, c, k=10)
    theirs = gensim_kv.most_similar(positive=[b, c], negative=[a], topn=10)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert not {a, b, c} & {w for w, _ in ours}


def test_similarity_and_container_protocol(lee_model: Vectors, gensim_kv: KeyedVectors) -> None:
    assert abs(lee_model.similarity("fire", "police") - gensim_kv.similarity("fire", "police")) < 1e-5
    assert len(lee_model) == len(lee_model.words) == lee_model.vectors.shape[0]
    assert "fire" in lee_model and "no-such-word" not in lee_model
    np.testing.assert_array_equal(lee_model["fire"], lee_model.vectors[lee_model.words.index("fire")])


def test_unknown_word_is_a_keyerror_naming_the_word(lee_model: Vectors) -> None:
    with pytest.raises(KeyError, match="zzyzx"):
        lee_model["zzyzx"]
    with pytest.raises(UnknownWordError, match="qwerty"):
        lee_model.analogy("fire", "qwerty", "police")
    with pytest.raises(UnknownWordError, match="nope"):
        lee_model.most_similar("nope")


def test_small_vocabularies_and_k_larger_than_vocab() -> None:
    v = Vectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
    assert [w for w, _ in v.most_similar("a", k=10)] == ["b", "c"]
    assert v.analogy("a", "b", "c", k=5) == []
    with pytest.raises(embedkit.UsageError):
        v.most_similar("a", k=0)


def test_constructor_rejects_inconsistent_input() -> None:
    with pytest.raises(embedkit.FormatError, match="duplicate"):
        Vectors(["a", "a"], np.zeros((2, 3)))
    with pytest.raises(embedkit.FormatError, match="2 words but 3"):
        Vectors(["a", "b"], np.zeros((3, 3)))


def test_gensim_round_trip(lee_model: Vectors) -> None:
    kv = lee_model.to_gensim()
    assert kv.index_to_key == lee_model.words
    np.testing.assert_array_equal(kv.vectors, lee_model.vectors)
    assert kv.get_vecattr("the", "count") == int(lee_model.counts[0])
    back = Vectors.from_gensim(kv)
    assert back.words == lee_model.words and back.counts.tolist() == lee_model.counts.tolist()
    np.testing.assert_array_equal(back.vectors, lee_model.vectors)


def test_queries_from_eight_threads_match_serial_answers(lee_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = embedkit.train(lee_path, epochs=3, workers=2, progress=False)  # fresh: index built lazily
    words = model.words[:200]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda w: model.most_similar(w, k=5), words))
    serial = [model.most_similar(w, k=5) for w in words]
    assert parallel == serial
