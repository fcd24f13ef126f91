"""numba kernels of the word2vec binary reader and writer (:mod:`embedkit.io.word2vec`).

Pure functions over uint8 arrays: finding rows in a memory-mapped file without reading
the vectors, copying the vectors while checking them for NaN, and laying out rows to write.
``nogil``, so Python can decode words on another thread meanwhile.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
