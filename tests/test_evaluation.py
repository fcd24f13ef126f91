"""Evaluation figures equal gensim's on the same vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit.vectors.evaluation import gensim_test_file, spearman


@pytest.fixture(scope="module")
def kv(lee_model: embedkit.Vectors) -> KeyedVectors:
    kv = KeyedVectors(vector_size=lee_model.dim)
    kv.add_vectors(lee_model.words, lee_model.vectors)
    return kv


def test_analogies_equal_gensim(lee_model: embedkit.Vectors, kv: KeyedVectors) -> None:
    ours = embedkit.evaluate_analogies(lee_model, restrict=1000)
    score, sections = kv.evaluate_word_analogies(gensim_test_file("questions-words.txt"), restrict_vocab=1000)
    theirs = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections}
    total = theirs.pop("Total accuracy")
    assert ours.total == total[1] > 0
    assert ours.correct == total[0]
    assert abs(ours.accuracy - score) < 1e-12
    assert ours.sections == theirs


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_similarity_equals_gensim(lee_model: embedkit.Vectors, kv: KeyedVectors, name: str) -> None:
    path = gensim_test_file(name)
    ours = embedkit.evaluate_similarity(lee_model, path)
    pearson, spear, oov = kv.evaluate_word_pairs(path)
    assert abs(ours.spearman - spear.statistic) < 1e-9
    assert abs(ours.pearson - pearson.statistic) < 1e-6
    assert abs(ours.oov_ratio * 100 - oov) < 1e-9


def test_spearman_with_ties() -> None:
    from scipy.stats import spearmanr

    x, y = [1, 2, 2, 3, 5, 5, 5], [3, 1, 4, 1, 5, 9, 2]
    assert abs(spearman(x, y) - spearmanr(x, y).statistic) < 1e-12


def test_unknown_words_are_skipped_and_counted(lee_model: embedkit.Vectors, tmp_path: Path) -> None:
    qs = tmp_path / "q.txt"
    qs.write_text(": tiny\nfire police fire police\nzzz fire police fire\n")
    result = embedkit.evaluate_analogies(lee_model, qs)
    assert result.total == 1 and result.skipped == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_evaluation_readers_never_crash_on_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    words = ["a", "b", "c", "d", "e"]
    vectors = embedkit.Vectors(words, np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    path = tmp_path / "fuzz.txt"
    path.write_bytes(b": s\na b c d\n" + data)
    try:
        result = embedkit.evaluate_analogies(vectors, path)
    except embedkit.FormatError:
        pass
    else:
        assert 0 <= result.correct <= result.total
    path.write_bytes(b"a\tb\t1\nc\td\t2\n" + data)
    sim = embedkit.evaluate_similarity(vectors, path)
    assert sim.pairs >= 2
