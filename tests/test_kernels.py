"""The numba kernels, called directly on small arrays."""

from __future__ import annotations

import numpy as np

from embedkit.training import kernels


def test_sigmoid_tables() -> None:
    sig, logsig = kernels.make_sigmoid_tables()
    assert sig.shape == logsig.shape == (kernels.EXP_TABLE_SIZE + 2,)
    assert sig[0] == 0.0 and sig[-1] == 1.0 and logsig[-1] == 0.0  # clipped ends, as word2vec
    assert abs(sig[kernels.EXP_TABLE_SIZE // 2 + 1] - 0.5) < 1e-6
    assert np.all(np.diff(sig) > 0)
    np.testing.assert_allclose(np.exp(logsig[1:]), sig[1:], rtol=1e-5)


def test_score_target_clips_like_word2vec_without_branches() -> None:
    sig, logsig = kernels.make_sigmoid_tables()
    for dot in (0.0, 0.7, -2.5, 5.99, -5.99):
        prob, loss = kernels.score_target(dot, True, sig, logsig)
        assert abs(prob - 1 / (1 + np.exp(-dot))) < 0.01
        assert abs(loss - np.log1p(np.exp(-dot))) < 0.02
        _, negative_loss = kernels.score_target(dot, False, sig, logsig)
        assert abs(negative_loss - np.log1p(np.exp(dot))) < 0.02
    assert kernels.score_target(6.0, True, sig, logsig) == (1.0, 0.0)
    assert kernels.score_target(1e30, True, sig, logsig)[0] == 1.0  # far out of range: still in the table
    prob, loss = kernels.score_target(-9.0, True, sig, logsig)
    assert prob == 0.0 and abs(loss - 9.0) < 1e-5  # the tail of -log(sigmoid) is linear
    assert kernels.score_target(-1e30, False, sig, logsig)[1] == 0.0


def test_noise_words_follow_unigram_to_the_075() -> None:
    counts = np.array([1000, 100, 10, 1, 1, 7], dtype=np.int64)
    table = kernels.make_noise_table(counts)
    assert table[-1] == 2**31 - 1 and np.all(np.diff(table) > 0)
    thresholds, aliases = kernels.make_noise_alias(counts)
    assert thresholds.shape == aliases.shape == counts.shape
    expected = counts**0.75 / (counts**0.75).sum()
    # the alias table's exact probabilities: each slot keeps its word or gives way to its alias
    keep = thresholds / 2.0**32
    exact = keep / len(counts)
    np.add.at(exact, aliases, (1 - keep) / len(counts))
    np.testing.assert_allclose(exact, expected, atol=1e-8)
    state = np.uint64(12345)
    draws = np.zeros(len(counts))
    for _ in range(60_000):
        state = kernels.xorshift64(state)
        draws[kernels.draw_noise_word(thresholds, aliases, state)] += 1
    np.testing.assert_allclose(draws / draws.sum(), expected, atol=0.01)


def test_noise_alias_of_one_word_and_of_equal_counts() -> None:
    thresholds, aliases = kernels.make_noise_alias(np.array([3], dtype=np.int64))
    assert kernels.draw_noise_word(thresholds, aliases, np.uint64(2**64 - 1)) == 0
    thresholds, _ = kernels.make_noise_alias(np.full(8, 5, dtype=np.int64))
    assert np.all(thresholds == 2**32 - 1)  # uniform: every slot keeps its own word


def test_keep_thresholds_subsample_frequent_words_only() -> None:
    counts = np.array([1_000_000, 1_000, 10], dtype=np.int64)
    keep = kernels.make_keep_thresholds(counts, 1e-3) / 2**32
    assert keep[0] < 0.1 and keep[2] >= 0.999
    assert np.all(kernels.make_keep_thresholds(counts, 0.0) == 2**32 - 1)


def _chunk_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    vocab, dim = 50, 16
    counts = np.sort(rng.integers(5, 500, vocab))[::-1].astype(np.int64)
    tokens = rng.integers(0, vocab, 2000).astype(np.int32)
    starts = np.array([0, 700, 1500, 2000], dtype=np.int64)
    syn0 = ((rng.random((vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    syn1 = np.zeros((vocab, dim), dtype=np.float32)
    sig, logsig = kernels.make_sigmoid_tables()
    keep = kernels.make_keep_thresholds(counts, 0.0)
    return syn0, syn1, tokens, starts, keep, kernels.make_noise_alias(counts), sig, logsig


def test_chunk_kernel_is_deterministic_and_learns() -> None:
    results = []
    for _ in range(2):
        syn0, syn1, tokens, starts, keep, table, sig, logsig = _chunk_inputs()
        before = syn0.copy()
        loss, pairs, words = kernels.train_chunk(
            syn0, syn1, tokens, starts, keep, *table, sig, logsig, 3, 5, 0.025, 0.0001, np.uint64(7), False
        )
        results.append((syn0, syn1, loss, pairs))
        assert words == 2000
        assert 2000 * 2 <= pairs <= 2000 * 6  # dynamic window 1..3 on each side
        assert loss > 0 and np.isfinite(loss)
        assert not np.array_equal(before, syn0) and np.abs(syn1).sum() > 0
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]


def test_chunk_kernel_loss_falls_when_repeated() -> None:
    syn0, syn1, tokens, starts, keep, table, sig, logsig = _chunk_inputs(1)
    tokens = np.tile(np.arange(10, dtype=np.int32), 200)  # a fixed, learnable sequence
    losses = []
    for epoch in range(5):
        loss, pairs, _ = kernels.train_chunk(
            syn0, syn1, tokens, starts, keep, *table, sig, logsig, 2, 5, 0.025, 0.025, np.uint64(epoch), False
        )
        losses.append(loss / pairs)
    assert losses[-1] < 0.6 * losses[0]


def test_skipgram_contexts_share_noise_words_in_groups() -> None:
    """share_negatives=k draws fresh noise words for every k contexts of a window."""
    runs = {}
    for share in (0, 1, 2, 1):
        syn0, syn1, tokens, starts, keep, table, sig, logsig = _chunk_inputs(3)
        inputs = (syn0, syn1, tokens, starts, keep, *table, sig, logsig)
        loss, pairs, _ = kernels.train_chunk(*inputs, 3, 5, 0.025, 0.0001, np.uint64(7), False, share)
        assert np.isfinite(loss) and loss > 0
        if share in runs:  # repeatable
            np.testing.assert_array_equal(runs[share][0], syn0)
        runs[share] = (syn0, pairs)
    assert all(2000 * 2 <= pairs <= 2000 * 6 for _, pairs in runs.values())  # windows of 1..3 words
    assert not np.array_equal(runs[0][0], runs[1][0])  # other noise words
