"""numba kernels of phrase detection (:mod:`embedkit.text.phrases`).

Counting and joining collocations over an int32 id stream, as gensim's ``Phrases`` does
over strings. A candidate is a non-connector word ``a``, any run of connector words, and
the next non-connector word ``b``; its key packs ``a``, the id of the connector run (a
node of a trie of connector sequences, 0 for none) and ``b`` into one int64. Tables are
open-addressing hash tables of shape (capacity, 2) holding (key, value) rows (linear
probing, key -1 marks an empty slot, so a probe touches one cache line). The candidate
table is pruned as gensim prunes its vocabulary, so memory stays bounded. What counting
keeps between calls lives in one record of :data:`COUNT_STATE` (see :func:`new_count_state`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

COUNT_STATE = np.dtype(
    [
        ("candidate_types", np.int64),  # distinct candidates in the table
        ("word_types", np.int64),  # distinct non-connector words counted
        ("trie_nodes", np.int64),  # connector-run trie nodes (node 0: the empty run)
        ("min_reduce", np.int64),  # entries counted fewer times are dropped at the next prune
        ("total_words", np.int64),  # tokens read, connectors included
        ("overflow", np.bool_),  # more connector runs than the trie may hold
        ("prunes", np.int64),  # times the table was pruned
    ]
)
"""The counting state, one record updated in place by :func:`count_phrase_candidates`."""


def new_count_state() -> np.ndarray:
    """A fresh counting state: an array of one :data:`COUNT_STATE` record."""
    state = np.zeros(1, dtype=COUNT_STATE)
    state["trie_nodes"] = 1
    state["min_reduce"] = 1
    return state


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
    node ``k``. ``state`` (one :data:`COUNT_STATE` record) is updated in place. After each
    line, when word plus candidate types exceed ``max_vocab_size``, entries counted fewer
    than ``min_reduce`` times are dropped and ``min_reduce`` grows by one, as gensim's
    ``prune_vocab`` does. Returns the three tables (new ones where they had to grow).
    """
    shift_a = 63 - bits_v
    record = state[0]
    n_entries, n_uni = record.candidate_types, record.word_types
    n_nodes, min_reduce, total = record.trie_nodes, record.min_reduce, record.total_words
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
                        record.overflow = True
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
            record.prunes += 1
    record.candidate_types, record.word_types = n_entries, n_uni
    record.trie_nodes, record.min_reduce, record.total_words = n_nodes, min_reduce, total
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
