"""numba kernel that walks the dictionary of a fastText ``.bin`` file (:mod:`embedkit.io.fasttext`).

The dictionary is ``size`` entries of a NUL-terminated word, an int64 count and an int8
type; a model of millions of words is scanned in one pass over the memory-mapped bytes,
every read bounds-checked, so a truncated or lying file is refused instead of read past.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def scan_dictionary(
    data: np.ndarray, start: int, size: int, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray,
    types: np.ndarray,
) -> int:  # fmt: skip
    """Find ``size`` entries from byte ``start`` of ``data`` (uint8): each word's byte range,
    count and type go to the given arrays. Returns the offset after the last entry, or -1 - i
    when entry ``i`` runs past the end of ``data``."""
    end = data.shape[0]
    at = start
    for i in range(size):
        j = at
        while j < end and data[j] != 0:
            j += 1
        if j + 10 > end:  # the NUL, 8 bytes of count and 1 of type
            return -1 - i
        starts[i] = at
        ends[i] = j
        count = np.int64(0)
        for b in range(8):
            count |= np.int64(data[j + 1 + b]) << np.int64(8 * b)
        counts[i] = count
        types[i] = np.int8(data[j + 9]) if data[j + 9] < 128 else np.int8(int(data[j + 9]) - 256)
        at = j + 10
    return at
