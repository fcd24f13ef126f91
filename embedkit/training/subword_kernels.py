"""numba kernels of subword (fastText-style) training: skip-gram and CBOW with negative sampling.

A word's input vector is the mean of its own row (``syn0``) and the rows of its character
n-gram buckets (``ngrams``; the vocabulary's bucket ids as CSR ``offsets``/``ids``, computed
once per word by :func:`embedkit.text.subwords.vocabulary_ngrams`). Unlike fastText, which
recomputes a centre word's mean and pushes its gradient back for every (centre, context)
pair, skip-gram here computes the mean once per centre word, scores every context of the
window against it (the contexts share one draw of noise words), and adds the summed
gradient to the centre's rows once. Pure functions over numpy arrays, ``nogil`` so that
threads train at once (Hogwild); the random state comes from the seed given per call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import (
    draw_noise_word,
    prefetch_row,
    score_target,
    splitmix64,
    subsample_line,
    window_contexts,
    xorshift64,
)

_JIT = {"cache": True, "nogil": True, "fastmath": True}


@njit(**_JIT)
def add_word_rows(
    syn0: np.ndarray, ngrams: np.ndarray, offsets: np.ndarray, ids: np.ndarray, word: int, hidden: np.ndarray
) -> int:
    """Add ``word``'s own row and its n-gram rows to ``hidden``; return how many rows were added."""
    dim = syn0.shape[1]
    for d in range(dim):
        hidden[d] += syn0[word, d]
    for k in range(offsets[word], offsets[word + 1]):
        row = ids[k]
        for d in range(dim):
            hidden[d] += ngrams[row, d]
    return 1 + offsets[word + 1] - offsets[word]


@njit(**_JIT)
def push_word_rows(
    syn0: np.ndarray, ngrams: np.ndarray, offsets: np.ndarray, ids: np.ndarray, word: int, grad: np.ndarray
) -> None:
    """Add ``grad`` to ``word``'s own row and to each of its n-gram rows (fastText's update)."""
    dim = syn0.shape[1]
    for d in range(dim):
        syn0[word, d] += grad[d]
    for k in range(offsets[word], offsets[word + 1]):
        row = ids[k]
        for d in range(dim):
            ngrams[row, d] += grad[d]


@njit(**_JIT)
def score_against(
    syn1neg: np.ndarray,
    hidden: np.ndarray,
    grad: np.ndarray,
    positive: int,
    noise: np.ndarray,
    n_noise: int,
    alpha: float,
    sig_table: np.ndarray,
    logsig_table: np.ndarray,
) -> float:
    """Score ``hidden`` against the output row of ``positive`` and the ``noise`` words (a noise
    word equal to ``positive`` is skipped), update those rows, add the hidden gradient to ``grad``."""
    dim = syn1neg.shape[1]
    loss = 0.0
    for j in range(n_noise + 1):
        target = positive if j == 0 else noise[j - 1]
        if j > 0 and target == positive:
            continue
        dot = np.float32(0.0)
        for d in range(dim):
            dot += hidden[d] * syn1neg[target, d]
        prob, target_loss = score_target(dot, j == 0, sig_table, logsig_table)
        loss += target_loss
        g = np.float32(((1.0 if j == 0 else 0.0) - prob) * alpha)
        for d in range(dim):
            grad[d] += g * syn1neg[target, d]
            syn1neg[target, d] += g * hidden[d]
    return loss


@njit(**_JIT)
def train_subword_chunk(
    syn0: np.ndarray,
    ngrams: np.ndarray,
    syn1neg: np.ndarray,
    offsets: np.ndarray,
    ids: np.ndarray,
    tokens: np.ndarray,
    line_starts: np.ndarray,
    keep: np.ndarray,
    noise_thresholds: np.ndarray,
    noise_aliases: np.ndarray,
    sig_table: np.ndarray,
    logsig_table: np.ndarray,
    window: int,
    negative: int,
    alpha_start: float,
    alpha_end: float,
    seed: np.uint64,
    cbow: bool,
    share_negatives: int,
) -> tuple[float, int, int]:
    """Train the lines of one chunk (``tokens`` holds just its ids; ``line_starts`` are corpus offsets).

    Subsampling, the dynamic window and the linear learning-rate fall across the chunk are
    word2vec's (:func:`embedkit.training.kernels.train_chunk`). Skip-gram: the centre word's
    mean row predicts each context word against ``negative`` noise words, drawn once per
    group of ``share_negatives`` contexts (0: the whole window); the gradient is pushed to the
    centre's rows once. CBOW: the mean of all rows of all context words predicts the centre,
    and the gradient is added to every one of those rows. Returns (summed loss, examples:
    (centre, context) pairs for skip-gram, centre words for CBOW, tokens read)."""
    state = splitmix64(seed) | np.uint64(1)
    n_lines = line_starts.shape[0] - 1
    first = line_starts[0]
    total = max(line_starts[n_lines] - first, 1)
    longest = 0
    for i in range(n_lines):
        longest = max(longest, line_starts[i + 1] - line_starts[i])
    kept = np.empty(longest, dtype=np.int32)
    dim = syn0.shape[1]
    contexts = np.empty(2 * window, dtype=np.int32)
    noise = np.empty(negative, dtype=np.int64)
    hidden = np.empty(dim, dtype=np.float32)
    grad = np.empty(dim, dtype=np.float32)
    loss = 0.0
    examples = 0
    for i in range(n_lines):
        start = line_starts[i] - first
        n, state = subsample_line(tokens, start, line_starts[i + 1] - first, keep, kept, state)
        alpha = alpha_start + (alpha_end - alpha_start) * (start / total)
        for pos in range(n):
            m, state = window_contexts(kept, n, pos, window, contexts, state)
            if m == 0:
                continue
            center = kept[pos]
            for d in range(dim):
                hidden[d] = 0.0
                grad[d] = 0.0
            if cbow:
                rows = 0
                for a in range(m):
                    rows += add_word_rows(syn0, ngrams, offsets, ids, contexts[a], hidden)
                inv = np.float32(1.0 / rows)
                for d in range(dim):
                    hidden[d] *= inv
                for j in range(negative):
                    state = xorshift64(state)
                    noise[j] = draw_noise_word(noise_thresholds, noise_aliases, state)
                    prefetch_row(syn1neg, noise[j])
                loss += score_against(syn1neg, hidden, grad, center, noise, negative, alpha,
                                      sig_table, logsig_table)  # fmt: skip
                for a in range(m):
                    push_word_rows(syn0, ngrams, offsets, ids, contexts[a], grad)
                examples += 1
            else:
                rows = add_word_rows(syn0, ngrams, offsets, ids, center, hidden)
                inv = np.float32(1.0 / rows)
                for d in range(dim):
                    hidden[d] *= inv
                group = m if share_negatives <= 0 else min(share_negatives, m)
                for a in range(m):
                    if a % group == 0:
                        for j in range(negative):
                            state = xorshift64(state)
                            noise[j] = draw_noise_word(noise_thresholds, noise_aliases, state)
                            prefetch_row(syn1neg, noise[j])
                    loss += score_against(syn1neg, hidden, grad, contexts[a], noise, negative, alpha,
                                          sig_table, logsig_table)  # fmt: skip
                push_word_rows(syn0, ngrams, offsets, ids, center, grad)
                examples += m
    return loss, examples, total
