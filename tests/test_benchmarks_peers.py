"""The benchmark's peers (word2vec C, fastText) and the roofline's arithmetic.

The peer tests run the real programs on gensim's small Lee corpus and skip, with the
reason, when gcc or fasttext is missing (the benchmarks are not unit tests: CI need not
install them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import embedkit
from benchmarks import peers, roofline

LEE = Path(pytest.importorskip("gensim.test.utils").datapath("lee_background.cor"))
TINY = {"dim": 20, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5, "epochs": 1, "alpha": 0.025}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
@pytest.mark.parametrize("cbow", [False, True])
def test_word2vec_c_trains_and_its_binary_loads(tmp_path: Path, cbow: bool) -> None:
    run = peers.run_peer("w2v", LEE, tmp_path, TINY, cbow, 2)
    vectors = embedkit.load(run["vectors_path"])
    assert vectors.dim == 20
    assert "</s>" in vectors and "the" in vectors
    assert 0 < run["vocab_seconds"] < run["whole_seconds"]
    assert 0 < run["train_seconds"] <= run["whole_seconds"]
    assert run["self_reported_words_per_second"] > 0
    assert run["peak_rss_mb"] > 1


@pytest.mark.skipif(
    shutil.which("fasttext") is None, reason="fasttext is not installed (apt-get install fasttext)"
)
@pytest.mark.parametrize("cbow", [False, True])
def test_fasttext_word_level_trains_and_its_vec_loads(tmp_path: Path, cbow: bool) -> None:
    run = peers.run_peer("fasttext", LEE, tmp_path, TINY, cbow, 2)
    vectors = embedkit.load(run["vectors_path"])
    assert vectors.dim == 20
    assert "the" in vectors
    assert 0 < run["vocab_seconds"] < run["train_seconds"] + run["vocab_seconds"] <= run["whole_seconds"]
    assert run["self_reported_words_per_second"] > 0
    assert "-minn 0 -maxn 0" in run["command"]


def test_an_unknown_peer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown peer"):
        peers.run_peer("glove", LEE, tmp_path, TINY, False, 1)


def test_contexts_per_word_follow_line_ends(tmp_path: Path) -> None:
    # window 1: b is always 1, so a line of n kept words has 2 (n - 1) contexts
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\na b\na\n")
    stats = roofline.corpus_statistics(corpus, {"min_count": 1, "sample": 0.0, "window": 1})
    assert stats["raw_tokens"] == 6
    assert stats["in_vocab_fraction"] == 1.0
    assert stats["kept_fraction"] == 1.0
    assert stats["contexts_per_kept_word"] == pytest.approx((4 + 2 + 0) / 6)


def test_rare_words_leave_the_vocabulary_fraction(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("a a b\n")
    stats = roofline.corpus_statistics(corpus, {"min_count": 2, "sample": 0.0, "window": 5})
    assert stats["vocabulary"] == 1
    assert stats["in_vocab_fraction"] == pytest.approx(2 / 3)


def test_flop_counts_per_word() -> None:
    stats = {"contexts_per_kept_word": 4.0, "in_vocab_fraction": 1.0, "kept_fraction": 0.5}
    settings = {"dim": 100, "negative": 5}
    sg = roofline.work_per_word(stats, settings, cbow=False)
    assert sg["flops_per_kept_word"] == 4 * (6 * 100 * 6 + 100)
    assert sg["flops_per_raw_word"] == sg["flops_per_kept_word"] / 2
    assert sg["rows_per_kept_word"] == 4 + 6
    fresh = roofline.work_per_word(stats, settings, cbow=False, share_negatives=1)
    assert fresh["flops_per_kept_word"] == sg["flops_per_kept_word"]
    assert fresh["rows_per_kept_word"] == 4 + 1 + 5 * 4
    cbow = roofline.work_per_word(stats, settings, cbow=True)
    assert cbow["flops_per_kept_word"] == 2 * 4 * 100 + 6 * 100 * 6
