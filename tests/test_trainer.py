"""The trainer on real text (gensim's Lee corpus): the vectors it makes must be real."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import embedkit
from embedkit.errors import UsageError
from embedkit.text.encoded import encode_corpus
from embedkit.text.vocabulary import build_vocabulary


def test_loss_falls_epoch_after_epoch(lee_model: embedkit.Vectors) -> None:
    losses = lee_model.meta["training"]["epoch_loss"]
    assert len(losses) == 20
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < 0.8 * losses[0]


def test_cooccurring_words_are_closer_than_random_pairs(lee_model, lee_path: Path, tmp_path) -> None:
    vocab = build_vocabulary(lee_path, min_count=5)
    encoded = encode_corpus(lee_path, vocab, tmp_path / "enc.int32")
    tokens = np.asarray(encoded.tokens)
    unit = lee_model.unit_vectors
    # neighbours within one line (adjacent tokens), skipping the 50 most frequent words
    left, right = tokens[:-1], tokens[1:]
    keep = (left >= 50) & (right >= 50) & (left != right)
    near = np.einsum("ij,ij->i", unit[left[keep]], unit[right[keep]]).mean()
    rng = np.random.default_rng(0)
    a = rng.integers(50, len(lee_model), 20_000)
    b = rng.integers(50, len(lee_model), 20_000)
    far = np.einsum("ij,ij->i", unit[a], unit[b]).mean()
    assert near > far + 0.1, (near, far)


def test_one_worker_with_a_seed_is_bit_identical(lee_path: Path) -> None:
    runs = [embedkit.train(lee_path, epochs=2, workers=1, seed=7, progress=False) for _ in range(2)]
    assert runs[0].words == runs[1].words
    np.testing.assert_array_equal(runs[0].vectors, runs[1].vectors)
    other = embedkit.train(lee_path, epochs=2, workers=1, seed=8, progress=False)
    assert not np.array_equal(runs[0].vectors, other.vectors)


def test_two_workers_train_real_vectors(lee_path: Path) -> None:
    vectors = embedkit.train(lee_path, epochs=10, workers=2, progress=False)
    losses = vectors.meta["training"]["epoch_loss"]
    assert losses[-1] < losses[0]
    assert vectors.vectors.dtype == np.float32 and np.isfinite(vectors.vectors).all()


def test_training_report(lee_model: embedkit.Vectors) -> None:
    info = lee_model.meta["training"]
    assert info["raw_tokens"] > 59_000 and info["kept_tokens"] <= info["raw_tokens"]
    assert info["dim"] == 100 and info["window"] == 5 and info["seed"] == 1
    assert lee_model.words[0] == "the" and lee_model.counts[0] >= lee_model.counts[-1]
    assert lee_model.counts.min() >= 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 0}, "dim"),
        ({"window": 0}, "window"),
        ({"negative": 0}, "negative"),
        ({"epochs": 0}, "epochs"),
        ({"min_count": 0}, "min_count"),
        ({"sample": 1.5}, "sample"),
        ({"alpha": -0.1}, "alpha"),
        ({"min_alpha": 0.5}, "min_alpha"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_parameters_fail_before_any_work(kwargs, message, tmp_path: Path) -> None:
    missing = tmp_path / "never-read.txt"  # parameters are checked before the corpus is opened
    with pytest.raises(UsageError, match=message):
        embedkit.train(missing, progress=False, **kwargs)


def test_cbow_trains_real_vectors(lee_path: Path) -> None:
    vectors = embedkit.train(lee_path, epochs=20, workers=1, cbow=True, progress=False)
    info = vectors.meta["training"]
    assert info["cbow"] is True and info["algorithm"].startswith("CBOW")
    assert info["epoch_loss"][-1] < 0.8 * info["epoch_loss"][0]
    assert info["pairs"] < info["kept_tokens"] * 20  # one example per centre word
    neighbours = [w for w, _ in vectors.most_similar("government", k=20)]
    assert len(neighbours) == 20 and np.isfinite(vectors.vectors).all()
