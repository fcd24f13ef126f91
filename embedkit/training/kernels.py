"""numba kernels of word2vec training (skip-gram and CBOW with negative sampling), and its tables.

Called by :mod:`embedkit.training.word2vec` (the model) and by the training core, which
builds the tables. Pure functions over numpy arrays, compiled with
``@njit(cache=True, nogil=True)`` so that several Python threads can run them at once on
one shared pair of weight matrices (Hogwild-style updates, as word2vec and gensim do).
Random state is passed in explicitly: each call gets a 64-bit seed, so a run with one
worker is bit-for-bit reproducible.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000
_JIT = {"cache": True, "nogil": True, "fastmath": True}


def make_sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """Tabulate sigmoid(x) and log(sigmoid(x)) on [-MAX_EXP, MAX_EXP) (word2vec's tables).

    Entry ``i + 1`` holds x = (i / EXP_TABLE_SIZE * 2 - 1) * MAX_EXP; entries 0 and
    ``EXP_TABLE_SIZE + 1`` stand for x below -MAX_EXP and at or above MAX_EXP (sigmoid 0
    and 1, as word2vec clips), so :func:`score_target` looks up any dot without a branch."""
    x = (np.arange(EXP_TABLE_SIZE, dtype=np.float64) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
    sigmoid = np.concatenate([[0.0], 1.0 / (1.0 + np.exp(-x)), [1.0]])
    log_sigmoid = np.concatenate([[-MAX_EXP], -np.log1p(np.exp(-x)), [0.0]])
    return sigmoid.astype(np.float32), log_sigmoid.astype(np.float32)


def make_noise_table(counts: np.ndarray, power: float = 0.75, domain: int = 2**31 - 1) -> np.ndarray:
    """Cumulative unigram^power distribution scaled to ``domain`` (gensim's ``cum_table``)."""
    weights = np.power(counts.astype(np.float64), power)
    cumulative = np.cumsum(weights) / weights.sum() * domain
    table = np.round(cumulative).astype(np.int64)
    table[-1] = domain
    return table


def make_noise_alias(counts: np.ndarray, power: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of the unigram^power distribution: (thresholds, aliases).

    A noise word is then one uniform slot ``i`` and one coin: ``i`` if the coin is below
    ``thresholds[i]`` (scaled to 2**32), else ``aliases[i]`` (:func:`draw_noise_word`): two
    reads of small tables instead of a binary search of ~17 cache-missing steps."""
    weights = np.power(counts.astype(np.float64), power)
    scaled = weights / weights.sum() * weights.shape[0]
    probability, aliases = _alias_slots(scaled)
    thresholds = np.minimum(np.round(probability * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    return thresholds, aliases


@njit(cache=True, nogil=True)
def _alias_slots(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's construction: per slot, the probability of keeping its own word and its alias."""
    n = scaled.shape[0]
    remaining = scaled.copy()
    probability = np.ones(n, dtype=np.float64)
    aliases = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = n_large = 0
    for i in range(n):
        if remaining[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        n_large -= 1
        low, high = small[n_small], large[n_large]
        probability[low] = remaining[low]
        aliases[low] = high
        remaining[high] += remaining[low] - 1.0
        if remaining[high] < 1.0:
            small[n_small] = high
            n_small += 1
        else:
            large[n_large] = high
            n_large += 1
    return probability, aliases  # slots left over keep their own word (probability 1)


def make_keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """Per-word probability (scaled to 2**32) of keeping a token under subsampling.

    word2vec's formula: keep = (sqrt(f / t) + 1) * t / f with f the word's count and
    t = sample * total; ``sample=0`` keeps everything.
    """
    if sample <= 0:
        return np.full(counts.shape[0], 2**32 - 1, dtype=np.uint64)
    threshold = sample * counts.sum()
    freq = counts.astype(np.float64)
    keep = (np.sqrt(freq / threshold) + 1.0) * threshold / freq
    return np.minimum(np.round(keep * 2**32), 2**32 - 1).astype(np.uint64)


CACHE_LINE = 64
MAX_PREFETCH_BYTES = 2048
"""Rows longer than this are fetched in part (the hardware prefetcher follows a long row)."""


@intrinsic
def prefetch_row(typingctx, matrix, row):  # type: ignore[no-untyped-def]
    """Ask the CPU to start loading row ``row`` of a C-contiguous 2-D float32 ``matrix`` into cache.

    A training step touches a handful of rows at random places (the centre word's noise
    words); asking for all their cache lines at once overlaps the misses instead of taking
    them one after another when the loops first read each row. Emits ``llvm.prefetch``
    (for writing, high locality) for each 64-byte line of the row; no effect on results."""
    sig = types.void(matrix, row)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        zero = context.get_constant(types.intp, 0)
        shape = cgutils.unpack_tuple(builder, array.shape)
        strides = cgutils.unpack_tuple(builder, array.strides)
        pointer = cgutils.get_item_pointer2(
            context, builder, array.data, shape, strides, array_type.layout, [index, zero], wraparound=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        base = builder.bitcast(pointer, byte_pointer)
        i32 = ir.IntType(32)
        opaque = str(byte_pointer) == "ptr"  # LLVM with opaque pointers names the intrinsic by address space
        name = "llvm.prefetch.p0" if opaque else "llvm.prefetch.p0i8"
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), name
        )
        row_bytes = builder.mul(shape[1], context.get_constant(types.intp, array_type.dtype.bitwidth // 8))
        for offset in range(0, MAX_PREFETCH_BYTES, CACHE_LINE):
            at = context.get_constant(types.intp, offset)
            with builder.if_then(builder.icmp_signed("<", at, row_bytes)):
                builder.call(prefetch, [builder.gep(base, [at]), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(**_JIT)
def splitmix64(x: np.uint64) -> np.uint64:
    """One step of splitmix64: a well-mixed 64-bit value from any seed."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(**_JIT)
def xorshift64(x: np.uint64) -> np.uint64:
    """Advance a xorshift64 state (never zero for a non-zero start)."""
    x ^= x << np.uint64(13)
    x ^= x >> np.uint64(7)
    x ^= x << np.uint64(17)
    return x


@njit(**_JIT)
def draw_noise_word(thresholds: np.ndarray, aliases: np.ndarray, r: np.uint64) -> int:
    """The noise word that the 64 random bits ``r`` pick from the alias table
    (:func:`make_noise_alias`): the high half chooses a slot, the low half its coin."""
    slot = np.int64(((r >> np.uint64(32)) * np.uint64(thresholds.shape[0])) >> np.uint64(32))
    if np.uint32(r & np.uint64(0xFFFFFFFF)) < thresholds[slot]:
        return slot
    return np.int64(aliases[slot])


@njit(**_JIT)
def subsample_line(
    tokens: np.ndarray, start: int, stop: int, keep: np.ndarray, out: np.ndarray, state: np.uint64
) -> tuple[int, np.uint64]:
    """Copy the tokens of one line that survive subsampling into ``out``; return their number."""
    n = 0
    for pos in range(start, stop):
        word = tokens[pos]
        state = xorshift64(state)
        if keep[word] >= (state >> np.uint64(32)):
            out[n] = word
            n += 1
    return n, state


@njit(**_JIT)
def window_contexts(
    kept: np.ndarray, n: int, pos: int, window: int, contexts: np.ndarray, state: np.uint64
) -> tuple[int, np.uint64]:
    """Fill ``contexts`` with the words around ``kept[pos]`` in a random window of 1 to
    ``window`` words each side (word2vec's reduced window), within the ``n`` kept words of
    the line; return their number and the advanced random state."""
    state = xorshift64(state)
    reduced = np.int64((state >> np.uint64(33)) % np.uint64(window))
    lo = max(0, pos - window + reduced)
    hi = min(n, pos + window + 1 - reduced)
    m = 0
    for other in range(lo, hi):
        if other != pos:
            contexts[m] = kept[other]
            m += 1
    return m, state


@njit(**_JIT)
def score_target(
    dot: float, positive: bool, sig_table: np.ndarray, logsig_table: np.ndarray
) -> tuple[float, float]:
    """sigmoid(dot) and the loss -log(sigmoid(±dot)) of one target, from the tables.

    Branch-free: the index is clipped into the tables' two end entries (sigmoid 0 or 1
    beyond ±MAX_EXP, as word2vec); far in the negative tail the loss grows linearly."""
    scale = EXP_TABLE_SIZE / MAX_EXP / 2.0
    last = EXP_TABLE_SIZE + 1
    dot = min(max(dot, -2.0 * MAX_EXP), 2.0 * MAX_EXP)  # keeps the float-to-int conversion defined
    prob = sig_table[min(max(int((dot + MAX_EXP) * scale + 1.0), 0), last)]
    margin = dot if positive else -dot
    loss = -logsig_table[min(max(int((margin + MAX_EXP) * scale + 1.0), 0), last)]
    return prob, loss + max(0.0, -MAX_EXP - margin)


@njit(**_JIT)
def draw_targets(
    center: int,
    negative: int,
    noise_thresholds: np.ndarray,
    noise_aliases: np.ndarray,
    targets: np.ndarray,
    state: np.uint64,
) -> tuple[int, np.uint64]:
    """Fill ``targets`` with the centre word then its noise words (never the centre itself)."""
    n_targets = 1
    targets[0] = center
    for _ in range(negative):
        state = xorshift64(state)
        noise = draw_noise_word(noise_thresholds, noise_aliases, state)
        if noise != center:
            targets[n_targets] = noise
            n_targets += 1
    return n_targets, state


@njit(**_JIT)
def sg_center_update(
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    contexts: np.ndarray,
    n_contexts: int,
    targets: np.ndarray,
    n_targets: int,
    alpha: float,
    sig_table: np.ndarray,
    logsig_table: np.ndarray,
    coef: np.ndarray,
    grads: np.ndarray,
) -> float:
    """Skip-gram: update all contexts of one centre word against shared targets.

    ``targets[0]`` is the centre word, the rest its noise words, drawn once and shared by
    every context (Ji et al. 2016): each target row is loaded once and scored against all
    contexts while it sits in cache, instead of once per (context, target) pair. Context
    gradients are accumulated and applied at the end. Returns the summed loss.
    """
    dim = syn0.shape[1]
    for a in range(n_contexts):
        for d in range(dim):
            grads[a, d] = 0.0
    loss = 0.0
    for j in range(n_targets):
        target = targets[j]
        label = 1.0 if j == 0 else 0.0
        for a in range(n_contexts):
            context = contexts[a]
            dot = np.float32(0.0)
            for d in range(dim):
                dot += syn0[context, d] * syn1neg[target, d]
            prob, target_loss = score_target(dot, j == 0, sig_table, logsig_table)
            loss += target_loss
            coef[a] = np.float32((label - prob) * alpha)
        for a in range(n_contexts):
            g = coef[a]
            for d in range(dim):
                grads[a, d] += g * syn1neg[target, d]
        for a in range(n_contexts):
            g = coef[a]
            context = contexts[a]
            for d in range(dim):
                syn1neg[target, d] += g * syn0[context, d]
    for a in range(n_contexts):
        context = contexts[a]
        for d in range(dim):
            syn0[context, d] += grads[a, d]
    return loss


@njit(**_JIT)
def cbow_center_update(
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    contexts: np.ndarray,
    n_contexts: int,
    targets: np.ndarray,
    n_targets: int,
    alpha: float,
    sig_table: np.ndarray,
    logsig_table: np.ndarray,
    hidden: np.ndarray,
    grad: np.ndarray,
) -> float:
    """CBOW: the mean of the context vectors predicts the centre word against noise words.

    As word2vec and gensim (``cbow_mean=1``), the whole error is added to every context
    row. Returns the summed loss.
    """
    dim = syn0.shape[1]
    inv = np.float32(1.0 / n_contexts)
    for d in range(dim):
        hidden[d] = 0.0
        grad[d] = 0.0
    for a in range(n_contexts):
        context = contexts[a]
        for d in range(dim):
            hidden[d] += syn0[context, d]
    for d in range(dim):
        hidden[d] *= inv
    loss = 0.0
    for j in range(n_targets):
        target = targets[j]
        dot = np.float32(0.0)
        for d in range(dim):
            dot += hidden[d] * syn1neg[target, d]
        prob, target_loss = score_target(dot, j == 0, sig_table, logsig_table)
        loss += target_loss
        g = np.float32(((1.0 if j == 0 else 0.0) - prob) * alpha)
        for d in range(dim):
            grad[d] += g * syn1neg[target, d]
            syn1neg[target, d] += g * hidden[d]
    for a in range(n_contexts):
        context = contexts[a]
        for d in range(dim):
            syn0[context, d] += grad[d]
    return loss


@njit(**_JIT)
def train_chunk(
    syn0: np.ndarray,
    syn1neg: np.ndarray,
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
    share_negatives: int = 0,
) -> tuple[float, int, int]:
    """Train on the lines ``tokens[line_starts[i] - line_starts[0]:...]`` of one chunk.

    ``tokens`` holds just this chunk's tokens; ``line_starts`` are corpus offsets. Tokens
    are subsampled line by line; each kept token takes a random window of 1 to ``window``
    words on each side; skip-gram (``sg_center_update``) or CBOW (``cbow_center_update``)
    updates the weights; in skip-gram each group of ``share_negatives`` contexts (0: all of
    them) shares one draw of noise words. The learning rate falls linearly from ``alpha_start`` to
    ``alpha_end`` across the chunk. Returns (summed loss, examples trained: (context,
    centre) pairs for skip-gram, centre words for CBOW, tokens read).
    """
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
    targets = np.empty(negative + 1, dtype=np.int64)
    coef = np.empty(2 * window, dtype=np.float32)
    grads = np.empty((2 * window, dim), dtype=np.float32)
    hidden = np.empty(dim, dtype=np.float32)
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
            if cbow:
                n_targets, state = draw_targets(
                    kept[pos], negative, noise_thresholds, noise_aliases, targets, state
                )
                for j in range(n_targets):  # all their cache misses at once (+25% CBOW)
                    prefetch_row(syn1neg, targets[j])
                loss += cbow_center_update(
                    syn0, syn1neg, contexts, m, targets, n_targets, alpha,
                    sig_table, logsig_table, hidden, grads[0],
                )  # fmt: skip
                examples += 1
            else:
                group = m if share_negatives <= 0 else min(share_negatives, m)
                for group_start in range(0, m, group):
                    n_targets, state = draw_targets(
                        kept[pos], negative, noise_thresholds, noise_aliases, targets, state
                    )
                    for j in range(n_targets):  # all their cache misses at once (+20% skip-gram)
                        prefetch_row(syn1neg, targets[j])
                    size = min(group, m - group_start)
                    loss += sg_center_update(
                        syn0, syn1neg, contexts[group_start:], size, targets, n_targets, alpha,
                        sig_table, logsig_table, coef, grads,
                    )  # fmt: skip
                examples += m
            if pos + window < n:  # the context that enters the window soon
                prefetch_row(syn0, kept[pos + window])
    return loss, examples, total
