"""Subword (fastText-style) training: embedkit's own kernels train words and their n-grams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import embedkit
from embedkit.errors import UnknownWordError, UsageError
from embedkit.text.subwords import ngram_ids

from .conftest import run_cli

SMALL = {"dim": 32, "buckets": 50_000, "workers": 1, "seed": 1, "progress": False}


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)


@pytest.fixture(scope="module")
def held_out(lee_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, str]]]:
    """The Lee corpus without the plural of 20 words whose singular stays: (corpus, [(plural, singular)])."""
    text = lee_path.read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for token in text.split():
        counts[token] = counts.get(token, 0) + 1
    pairs = sorted(
        (w + "s", w)
        for w in counts
        if len(w) >= 5 and w.isalpha() and counts[w] >= 10 and counts.get(w + "s", 0) >= 5
    )[:20]
    dropped = {plural for plural, _ in pairs}
    out = tmp_path_factory.mktemp("held") / "corpus.txt"
    out.write_text(
        "\n".join(" ".join(t for t in line.split() if t not in dropped) for line in text.splitlines()) + "\n",
        encoding="utf-8",
    )
    return out, pairs


@pytest.fixture(scope="module")
def skipgram(held_out: tuple[Path, list[tuple[str, str]]]) -> embedkit.Vectors:
    return embedkit.train(held_out[0], subwords=True, epochs=20, **SMALL)


def test_held_out_inflections_are_answered_from_ngrams(skipgram, held_out) -> None:
    """A plural never seen in training gets a vector close to its singular's, far closer than to
    other words; a word2vec model trained on the same text cannot answer it at all."""
    corpus, pairs = held_out
    assert len(pairs) >= 10
    stem_cos, other_cos = [], []
    rng = np.random.default_rng(0)
    for plural, singular in pairs:
        assert plural not in skipgram and not skipgram.is_known(plural)
        oov = unit(skipgram[plural])
        stem_cos.append(float(oov @ unit(skipgram[singular])))
        other = skipgram.words[int(rng.integers(50, len(skipgram)))]
        other_cos.append(float(oov @ unit(skipgram[other])))
    assert np.mean(stem_cos) > np.mean(other_cos) + 0.2
    hits = sum(singular in [w for w, _ in skipgram.most_similar(plural, k=10)] for plural, singular in pairs)
    assert hits >= len(pairs) // 2
    plain = embedkit.train(corpus, epochs=1, dim=32, workers=1, progress=False)
    with pytest.raises(UnknownWordError):
        plain[pairs[0][0]]


def test_vectors_are_means_of_the_trained_rows(skipgram) -> None:
    """A known word's vector is the mean of its own row and its n-gram rows; an unknown word's
    the mean of its n-gram rows, from the trained bucket matrix (fastText's model)."""
    sub = skipgram.subwords
    assert sub is not None and (sub.minn, sub.maxn, sub.buckets) == (3, 6, 50_000)
    word = skipgram.words[100]
    rows = ngram_ids(word, 3, 6, 50_000)
    expected = (sub.word_input[100] + sub.ngrams[rows].sum(axis=0)) / (1 + rows.size)
    np.testing.assert_allclose(skipgram[word], expected, rtol=1e-5, atol=1e-6)
    unseen = "qwertyish"
    np.testing.assert_allclose(
        skipgram[unseen], sub.ngrams[ngram_ids(unseen, 3, 6, 50_000)].mean(axis=0), rtol=1e-5, atol=1e-6
    )
    assert np.abs(sub.ngrams[rows]).max() > 1.0 / 32  # trained: moved off fastText's uniform start
    assert skipgram.meta["training"]["subwords"] is True


def test_loss_falls_and_one_worker_is_bit_identical(lee_path: Path) -> None:
    first = embedkit.train(lee_path, subwords=True, epochs=8, **SMALL)
    losses = first.meta["training"]["epoch_loss"]
    assert losses[0] > losses[1] and losses[-1] < min(losses[:4])
    again = embedkit.train(lee_path, subwords=True, epochs=8, **SMALL)
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert first.subwords is not None and again.subwords is not None
    np.testing.assert_array_equal(first.subwords.ngrams, again.subwords.ngrams)


def test_cbow_and_two_workers_train(lee_path: Path) -> None:
    cbow = embedkit.train(lee_path, subwords=True, cbow=True, epochs=3, **{**SMALL, "workers": 2})
    losses = cbow.meta["training"]["epoch_loss"]
    assert losses[-1] < losses[0] and np.isfinite(cbow.vectors).all()
    assert "CBOW, subwords" in cbow.meta["training"]["algorithm"]
    sims = [s for _, s in cbow.most_similar("governments", k=5)]
    assert len(sims) == 5 and all(np.isfinite(sims))


def test_no_ngrams_means_word_rows_only(lee_path: Path) -> None:
    """maxn=0: no n-gram ids, so a known word's vector is its own row and unknown words raise."""
    v = embedkit.train(lee_path, subwords=True, maxn=0, epochs=1, **SMALL)
    assert v.subwords is not None and v.subwords.ids.size == 0
    np.testing.assert_array_equal(v.vectors, v.subwords.word_input)
    with pytest.raises(UnknownWordError):
        v["qwertyish"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"minn": 2}, "minn only apply to subword models"),
        ({"buckets": 10, "maxn": 4}, "maxn, buckets only apply to subword models"),
        ({"subwords": True, "minn": 5, "maxn": 4}, "maxn must be 0 or at least minn (5), got 4"),
        ({"subwords": True, "minn": 0}, "minn must be between 1 and 100"),
        ({"subwords": True, "buckets": 0}, "buckets must be between 1 and 100000000"),
        ({"subwords": True, "keep_training_state": True}, "do not support keep_training_state"),
        ({"subwords": True, "cluster": "local:1"}, "do not support a cluster"),
        ({"subwords": True, "checkpoint_every": 1, "checkpoint_path": "x"}, "do not support checkpoints"),
    ],
)
def test_bad_subword_settings_fail_with_one_line(options, message, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=None) as caught:
        embedkit.train(tmp_path / "missing.txt", progress=False, **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_cli_trains_a_subword_model_that_answers_unknown_words(lee_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    done = run_cli("train", lee_path, "-o", out, "--subwords", "--buckets", "20000", "--dim", "16",
                   "--epochs", "1", "--workers", "1", "-q")  # fmt: skip
    assert done.returncode == 0, done.stderr
    model = embedkit.load(out)
    assert model.subwords is not None and model.subwords.buckets == 20_000
    assert model["qwertyish"].shape == (16,)
    bad = run_cli("train", lee_path, "-o", tmp_path / "bad", "--subwords", "--minn", "7", "--maxn", "4")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == ["error: maxn must be 0 or at least minn (7), got 4"]
    assert not (tmp_path / "bad").exists()
