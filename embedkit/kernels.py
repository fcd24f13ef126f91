"""numba kernels of the skip-gram negative-sampling (SGNS) trainer.

Pure functions over numpy arrays, compiled with ``@njit(cache=True, nogil=True)`` so that
several Python threads can run them at once on one shared pair of weight matrices
(Hogwild-style updates, as word2vec and gensim do). Random state is passed in explicitly:
each call gets a 64-bit seed, so a run with one worker is bit-for-bit reproducible.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000
_JIT = {"cache": True, "nogil": True, "fastmath": True}


def make_sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """Tabulate sigmoid(x) and log(sigmoid(x)) on [-MAX_EXP, MAX_EXP) (word2vec's tables)."""
    x = (np.arange(EXP_TABLE_SIZE, dtype=np.float64) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
    sigmoid = 1.0 / (1.0 + np.exp(-x))
    return sigmoid.astype(np.float32), np.log(sigmoid).astype(np.float32)


def make_noise_table(counts: np.ndarray, power: float = 0.75, domain: int = 2**31 - 1) -> np.ndarray:
    """Cumulative unigram^power distribution scaled to ``domain`` (gensim's ``cum_table``)."""
    weights = np.power(counts.astype(np.float64), power)
    cumulative = np.cumsum(weights) / weights.sum() * domain
    table = np.round(cumulative).astype(np.int64)
    table[-1] = domain
    return table


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
def draw_noise_word(cum_table: np.ndarray, r: np.uint64) -> int:
    """Binary search of the cumulative noise table for the word that ``r`` falls on."""
    target = np.int64((r >> np.uint64(16)) % np.uint64(cum_table[-1]))
    lo = 0
    hi = cum_table.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum_table[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


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
def score_target(
    dot: float, positive: bool, sig_table: np.ndarray, logsig_table: np.ndarray
) -> tuple[float, float]:
    """sigmoid(dot) and the loss -log(sigmoid(±dot)) of one target, from the tables."""
    scale = EXP_TABLE_SIZE / MAX_EXP / 2.0
    if dot >= MAX_EXP:
        prob = 1.0
    elif dot <= -MAX_EXP:
        prob = 0.0
    else:
        prob = sig_table[int((dot + MAX_EXP) * scale)]
    margin = dot if positive else -dot
    if margin <= -MAX_EXP:
        loss = -margin  # log(sigmoid(m)) ~ m far in the negative tail
    elif margin < MAX_EXP:
        loss = -logsig_table[int((margin + MAX_EXP) * scale)]
    else:
        loss = 0.0
    return prob, loss


@njit(**_JIT)
def draw_targets(
    center: int, negative: int, cum_table: np.ndarray, targets: np.ndarray, state: np.uint64
) -> tuple[int, np.uint64]:
    """Fill ``targets`` with the centre word then its noise words (never the centre itself)."""
    n_targets = 1
    targets[0] = center
    for _ in range(negative):
        state = xorshift64(state)
        noise = draw_noise_word(cum_table, state)
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
    cum_table: np.ndarray,
    sig_table: np.ndarray,
    logsig_table: np.ndarray,
    window: int,
    negative: int,
    alpha_start: float,
    alpha_end: float,
    seed: np.uint64,
    cbow: bool,
) -> tuple[float, int, int]:
    """Train on the lines ``tokens[line_starts[i] - line_starts[0]:...]`` of one chunk.

    ``tokens`` holds just this chunk's tokens; ``line_starts`` are corpus offsets. Tokens
    are subsampled line by line; each kept token takes a random window of 1 to ``window``
    words on each side; skip-gram (``sg_center_update``) or CBOW (``cbow_center_update``)
    updates the weights. The learning rate falls linearly from ``alpha_start`` to
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
            state = xorshift64(state)
            reduced = np.int64((state >> np.uint64(33)) % np.uint64(window))
            lo = max(0, pos - window + reduced)
            hi = min(n, pos + window + 1 - reduced)
            m = 0
            for other in range(lo, hi):
                if other != pos:
                    contexts[m] = kept[other]
                    m += 1
            if m == 0:
                continue
            n_targets, state = draw_targets(kept[pos], negative, cum_table, targets, state)
            if cbow:
                loss += cbow_center_update(
                    syn0, syn1neg, contexts, m, targets, n_targets, alpha,
                    sig_table, logsig_table, hidden, grads[0],
                )  # fmt: skip
                examples += 1
            else:
                loss += sg_center_update(
                    syn0, syn1neg, contexts, m, targets, n_targets, alpha,
                    sig_table, logsig_table, coef, grads,
                )  # fmt: skip
                examples += m
    return loss, examples, total


# --- file parsing --------------------------------------------------------------------


@njit(cache=True, nogil=True)
def scan_word2vec_binary(
    data: np.ndarray, pos: int, count: int, dim: int, max_word: int, offsets: np.ndarray, words: np.ndarray
) -> tuple[int, int, int]:
    """Find the words and vector positions of ``count`` word2vec binary rows in ``data``.

    ``data`` (uint8) holds rows from ``pos`` on: a word, a space and ``4 * dim`` bytes of
    float32, optionally preceded by newlines (C word2vec writes one after each vector,
    gensim none). The vector bytes are skipped, not read: their start goes to
    ``offsets[i]`` (int64); the words, each followed by ``\\n``, to ``words`` (uint8).
    Returns (rows found, position after the last row, bytes used in ``words``); fewer rows
    than ``count`` means the file ends early or a word has no separator within
    ``max_word`` bytes (the caller tells which from the position), or ``words`` is full.
    """
    n = data.shape[0]
    row_bytes = 4 * dim
    used = 0
    capacity = words.shape[0]
    for row in range(count):
        while pos < n and (data[pos] == 10 or data[pos] == 13):
            pos += 1
        start = pos
        limit = min(n, pos + max_word)
        while pos < limit and data[pos] != 32:
            pos += 1
        length = pos - start
        if pos >= limit or length == 0 or pos + 1 + row_bytes > n or used + length + 1 > capacity:
            return row, start, used
        words[used : used + length] = data[start:pos]
        used += length
        words[used] = 10
        used += 1
        offsets[row] = pos + 1
        pos += 1 + row_bytes
    return count, pos, used


@njit(cache=True, nogil=True)
def gather_rows(data: np.ndarray, offsets: np.ndarray, out: np.ndarray, bits: np.ndarray) -> int:
    """Copy row ``i`` of ``out`` (uint8, rows x row bytes) from ``data[offsets[i]:]``.

    ``bits`` is ``out`` viewed as uint32: each row is checked for NaN or infinity (all
    exponent bits set) while in cache. Returns the first such row, or -1.
    """
    row_bytes = out.shape[1]
    bad = -1
    for row in range(out.shape[0]):
        start = offsets[row]
        out[row, :] = data[start : start + row_bytes]
        if bad < 0:
            flags = 0
            b = bits[row]
            for k in range(b.shape[0]):
                flags |= (b[k] & 0x7F800000) == 0x7F800000
            if flags:
                bad = row
    return bad


@njit(cache=True, nogil=True)
def assemble_word2vec_binary(
    word_bytes: np.ndarray, word_ends: np.ndarray, rows: np.ndarray, out: np.ndarray
) -> int:
    """Lay out word2vec binary rows (word, space, vector bytes) in ``out`` (uint8).

    ``word_bytes`` holds the UTF-8 words back to back (any one-byte separators between
    them are skipped: word ``i`` ends at ``word_ends[i]`` and the next starts one byte
    later); ``rows`` holds the vectors as uint8 (words x ``4 * dim``). Returns the bytes
    written, which ``out`` must have room for.
    """
    row_bytes = rows.shape[1]
    pos = 0
    start = 0
    for i in range(rows.shape[0]):
        end = word_ends[i]
        length = end - start
        out[pos : pos + length] = word_bytes[start:end]
        pos += length
        out[pos] = 32
        pos += 1
        out[pos : pos + row_bytes] = rows[i]
        pos += row_bytes
        start = end + 1
    return pos


# --- phrase detection (embedkit.phrases) ------------------------------------------------
# Counting and joining collocations over an int32 id stream, as gensim's ``Phrases`` does
# over strings. A candidate is a non-connector word ``a``, any run of connector words, and
# the next non-connector word ``b``; its key packs ``a``, the id of the connector run (a
# node of a trie of connector sequences, 0 for none) and ``b`` into one int64. Tables are
# open-addressing hash tables of shape (capacity, 2) holding (key, value) rows (linear
# probing, key -1 marks an empty slot, so a probe touches one cache line). The candidate
# table is pruned as gensim prunes its vocabulary, so memory stays bounded.

_PHRASE_EMPTY = -1


@njit(cache=True, nogil=True)
def _phrase_slot(table: np.ndarray, key: np.int64) -> int:
    """Row holding ``key`` in ``table``, or the empty row where it would go."""
    mask = np.uint64(table.shape[0] - 1)
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    i = np.int64((h ^ (h >> np.uint64(29))) & mask)
    while table[i, 0] != key and table[i, 0] != _PHRASE_EMPTY:
        i = (i + 1) & np.int64(mask)
    return i


@njit(cache=True, nogil=True)
def phrase_table_lookup(table: np.ndarray, key: np.int64) -> np.int64:
    """Value stored for ``key`` in a phrase hash table, or -1 when absent."""
    i = _phrase_slot(table, key)
    return table[i, 1] if table[i, 0] == key else np.int64(-1)


@njit(cache=True, nogil=True)
def phrase_table_build(rows: np.ndarray, capacity: int, min_value: int) -> tuple[np.ndarray, int]:
    """A fresh table of ``capacity`` rows (a power of two) holding the (key, value) ``rows``
    (a table or a plain array; key -1 skipped) whose value is at least ``min_value``;
    values of equal keys add up. Returns the table and its number of keys."""
    table = np.empty((capacity, 2), dtype=np.int64)
    table[:, 0] = _PHRASE_EMPTY
    table[:, 1] = 0
    n = 0
    for j in range(rows.shape[0]):
        key = rows[j, 0]
        if key != _PHRASE_EMPTY and rows[j, 1] >= min_value:
            i = _phrase_slot(table, key)
            if table[i, 0] == _PHRASE_EMPTY:
                n += 1
                table[i, 0] = key
            table[i, 1] += rows[j, 1]
    return table, n


@njit(cache=True, nogil=True)
def count_phrase_candidates(
    tokens: np.ndarray,
    bounds: np.ndarray,
    conn_slot: np.ndarray,
    n_conn: int,
    unigrams: np.ndarray,
    table: np.ndarray,
    edges: np.ndarray,
    nodes: np.ndarray,
    state: np.ndarray,
    max_vocab_size: int,
    bits_v: int,
    max_nodes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count words and phrase candidates of the lines ``bounds`` (gensim's ``_learn_vocab``).

    ``tokens`` holds ids ``bounds[0]:bounds[-1]`` of the stream. ``conn_slot[w]`` is the
    connector index (below ``n_conn``) of word ``w`` or -1. ``unigrams`` counts
    non-connector words in place; ``table`` counts candidates; ``edges`` maps
    ``node * n_conn + connector`` to a trie node, ``nodes[k]`` = (parent, connector id) of
    node ``k``. ``state`` = [candidate types, word types, trie nodes, min_reduce, total
    words, overflow, prunes] is updated in place. After each line, when word plus
    candidate types exceed ``max_vocab_size``, entries counted fewer than ``min_reduce``
    times are dropped and ``min_reduce`` grows by one, as gensim's ``prune_vocab`` does.
    Returns the three tables (new ones where they had to grow).
    """
    shift_a = 63 - bits_v
    n_entries, n_uni, n_nodes, min_reduce, total = state[0], state[1], state[2], state[3], state[4]
    base = bounds[0]
    for line in range(bounds.size - 1):
        lo = bounds[line] - base
        hi = bounds[line + 1] - base
        start = -1
        for i in range(lo, hi):
            w = tokens[i]
            total += 1
            if conn_slot[w] >= 0:
                continue
            if unigrams[w] == 0:
                n_uni += 1
            unigrams[w] += 1
            if start >= 0:
                node = np.int64(0)
                for j in range(start + 1, i):  # the connector words in between
                    edge = node * n_conn + conn_slot[tokens[j]]
                    e = _phrase_slot(edges, edge)
                    if edges[e, 0] == edge:
                        node = edges[e, 1]
                    elif n_nodes >= max_nodes:
                        state[5] = 1
                        node = np.int64(max_nodes)
                        break
                    else:
                        edges[e, 0] = edge
                        edges[e, 1] = n_nodes
                        if n_nodes >= nodes.shape[0]:
                            nodes = np.concatenate((nodes, np.zeros_like(nodes)))
                        nodes[n_nodes, 0] = node
                        nodes[n_nodes, 1] = tokens[j]
                        node = np.int64(n_nodes)
                        n_nodes += 1
                        if 2 * n_nodes > edges.shape[0]:
                            edges, _ = phrase_table_build(edges, 2 * edges.shape[0], -1)
                key = (np.int64(tokens[start]) << shift_a) | (node << bits_v) | np.int64(w)
                k = _phrase_slot(table, key)
                if table[k, 0] == _PHRASE_EMPTY:
                    table[k, 0] = key
                    n_entries += 1
                table[k, 1] += 1
                if 10 * n_entries > 7 * table.shape[0]:  # load factor 0.7
                    table, n_entries = phrase_table_build(table, 2 * table.shape[0], 1)
            start = i
        if n_entries + n_uni > max_vocab_size:
            table, n_entries = phrase_table_build(table, table.shape[0], min_reduce)
            for w in range(unigrams.size):
                if 0 < unigrams[w] < min_reduce:
                    unigrams[w] = 0
                    n_uni -= 1
            min_reduce += 1
            state[6] += 1
    state[0], state[1], state[2], state[3], state[4] = n_entries, n_uni, n_nodes, min_reduce, total
    return table, edges, nodes


@njit(cache=True, nogil=True)
def apply_phrases(
    tokens: np.ndarray,
    bounds: np.ndarray,
    conn_slot: np.ndarray,
    n_conn: int,
    edges: np.ndarray,
    phrases: np.ndarray,
    bits_v: int,
    out: np.ndarray,
    out_bounds: np.ndarray,
) -> int:
    """Join the phrases of the lines ``bounds`` as gensim's ``analyze_sentence`` does.

    Left to right, a candidate (word, connectors, word) whose key is in the table
    ``phrases`` becomes the single id stored there; otherwise its first word and
    connectors are copied and its last word may start the next candidate. Writes ids to
    ``out`` (at least as long as ``tokens``), line ``i`` at
    ``out[out_bounds[i]:out_bounds[i+1]]``, and returns the number of phrases joined.
    """
    shift_a = 63 - bits_v
    base = bounds[0]
    o = 0
    joined = 0
    for line in range(bounds.size - 1):
        lo = bounds[line] - base
        hi = bounds[line + 1] - base
        out_bounds[line] = o
        start = -1
        for i in range(lo, hi):
            w = tokens[i]
            if conn_slot[w] >= 0:
                if start < 0:
                    out[o] = w
                    o += 1
                continue
            if start >= 0:
                node = np.int64(0)
                for j in range(start + 1, i):
                    node = phrase_table_lookup(edges, node * n_conn + conn_slot[tokens[j]])
                    if node < 0:
                        break
                pid = np.int64(-1)
                if node >= 0:
                    key = (np.int64(tokens[start]) << shift_a) | (node << bits_v) | np.int64(w)
                    pid = phrase_table_lookup(phrases, key)
                if pid >= 0:
                    out[o] = pid
                    o += 1
                    joined += 1
                    start = -1
                    continue
                for j in range(start, i):
                    out[o] = tokens[j]
                    o += 1
            start = i
        if start >= 0:
            for j in range(start, hi):
                out[o] = tokens[j]
                o += 1
    out_bounds[bounds.size - 1] = o
    return joined


@njit(cache=True, nogil=True)
def render_lines(
    tokens: np.ndarray, bounds: np.ndarray, blob: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> int:
    """Write the lines ``bounds`` of an id stream as UTF-8 text (words of ``blob`` between
    ``offsets[w]`` and ``offsets[w + 1]``, one space between words, a newline after each
    line) into ``out``; return the number of bytes written."""
    base = bounds[0]
    o = 0
    for line in range(bounds.size - 1):
        for i in range(bounds[line] - base, bounds[line + 1] - base):
            if i > bounds[line] - base:
                out[o] = 32
                o += 1
            w = tokens[i]
            for j in range(offsets[w], offsets[w + 1]):
                out[o] = blob[j]
                o += 1
        out[o] = 10
        o += 1
    return o
