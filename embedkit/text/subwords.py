"""Character n-grams of words, hashed into buckets exactly as fastText does.

A subword model (fastText, Bojanowski et al. 2017) gives each word a vector of its own
plus one vector per *bucket*; a word's character n-grams (of ``"<" + word + ">"``, lengths
``minn`` to ``maxn``) are hashed into the buckets with 32-bit FNV-1a. Everything here
follows fastText's ``Dictionary::hash`` and ``computeSubwords`` byte for byte, so bucket
ids agree with models trained by the ``fasttext`` program: a character is a UTF-8 lead
byte with its continuation bytes, and each byte enters the hash sign-extended from
``int8`` (this matters for every non-ASCII character).

:func:`ngrams` and :func:`ngram_ids` work on one word in plain Python (for unknown words
at query time); :func:`vocabulary_ngrams` computes the n-gram ids of a whole vocabulary
with a numba kernel, as a CSR pair ``(offsets, ids)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from ..errors import UsageError

BOW, EOW = "<", ">"
"""The marks fastText puts around a word before cutting it into n-grams."""
EOS = "</s>"
"""fastText's end-of-line token: in its dictionary, but never cut into n-grams."""

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_MASK32 = 0xFFFFFFFF


def fasttext_hash(data: bytes) -> int:
    """fastText's ``Dictionary::hash``: 32-bit FNV-1a over bytes taken as sign-extended ``int8``."""
    h = _FNV_OFFSET
    for byte in data:
        h ^= byte if byte < 0x80 else byte | 0xFFFFFF00
        h = (h * _FNV_PRIME) & _MASK32
    return h


def _check(minn: int, maxn: int, buckets: int | None = None) -> None:
    for name, value in (("minn", minn), ("maxn", maxn), ("buckets", buckets)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
            raise UsageError(f"{name} must be a whole number >= 0, got {value!r}")


def _has_ngrams(minn: int, maxn: int, buckets: int = 1) -> bool:
    return maxn > 0 and maxn >= minn and buckets > 0


def ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """The character n-grams fastText hashes for ``word``, in fastText's order.

    N-grams of ``"<" + word + ">"`` of ``minn`` to ``maxn`` characters, by start position
    then length; the 1-grams ``"<"`` and ``">"`` are left out. ``maxn == 0`` gives none, and
    so does fastText's end-of-line token ``"</s>"``.

    >>> ngrams("où", 2, 3)
    ['<o', '<où', 'où', 'où>', 'ù>']
    """
    _check(minn, maxn)
    if not _has_ngrams(minn, maxn) or word == EOS:
        return []
    marked = BOW + word + EOW
    size = len(marked)
    found = []
    for i in range(size):
        for n in range(max(minn, 1), maxn + 1):
            j = i + n
            if j > size:
                break
            if n == 1 and (i == 0 or j == size):
                continue
            found.append(marked[i:j])
    return found


def ngram_ids(word: str, minn: int, maxn: int, buckets: int) -> np.ndarray:
    """int32 bucket ids of ``word``'s n-grams (``fasttext_hash(utf-8) % buckets``), as :func:`ngrams`.

    Duplicate ids (two n-grams in one bucket, or one n-gram twice) are kept, as fastText
    keeps them: each counts once in the word's mean.
    """
    _check(minn, maxn, buckets)
    if not _has_ngrams(minn, maxn, buckets):
        return np.zeros(0, dtype=np.int32)
    ids = [fasttext_hash(gram.encode("utf-8")) % buckets for gram in ngrams(word, minn, maxn)]
    return np.array(ids, dtype=np.int32)


@njit(cache=True, nogil=True)
def _word_ngrams(
    text: np.ndarray, start: int, stop: int, minn: int, maxn: int, buckets: int, out: np.ndarray, at: int
) -> int:
    """Bucket ids of the marked word ``text[start:stop]`` written from ``out[at]`` (if ``out`` is
    large enough; an empty ``out`` only counts); returns how many there are."""
    count = 0
    for i in range(start, stop):
        if (text[i] & 0xC0) == 0x80:
            continue  # not the first byte of a character
        h = np.uint64(_FNV_OFFSET)
        j = i
        n = 0
        while j < stop and n < maxn:
            # one character: its lead byte and the continuation bytes after it
            while True:
                b = np.uint64(text[j])
                if b >= 0x80:
                    b |= np.uint64(0xFFFFFF00)
                h = ((h ^ b) * np.uint64(_FNV_PRIME)) & np.uint64(_MASK32)
                j += 1
                if j >= stop or (text[j] & 0xC0) != 0x80:
                    break
            n += 1
            if n >= minn and not (n == 1 and (i == start or j == stop)):
                if out.shape[0] > 0:
                    out[at + count] = np.int32(h % np.uint64(buckets))
                count += 1
    return count


@njit(cache=True, nogil=True)
def _vocabulary_ngrams(
    text: np.ndarray, bounds: np.ndarray, minn: int, maxn: int, buckets: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the n-gram bucket ids of every marked word ``text[bounds[i]:bounds[i+1]]``."""
    n_words = bounds.shape[0] - 1
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    nothing = np.zeros(0, dtype=np.int32)
    for w in range(n_words):
        offsets[w + 1] = offsets[w] + _word_ngrams(text, bounds[w], bounds[w + 1], minn, maxn, 1, nothing, 0)
    ids = np.empty(offsets[n_words], dtype=np.int32)
    for w in range(n_words):
        _word_ngrams(text, bounds[w], bounds[w + 1], minn, maxn, buckets, ids, offsets[w])
    return offsets, ids


def vocabulary_ngrams(
    words: Sequence[str], minn: int, maxn: int, buckets: int
) -> tuple[np.ndarray, np.ndarray]:
    """The n-gram bucket ids of every word, as CSR ``(offsets, ids)``.

    ``offsets`` is int64 of length ``len(words) + 1``; word ``i``'s ids (int32, each in
    ``[0, buckets)``) are ``ids[offsets[i]:offsets[i + 1]]``, equal to
    ``ngram_ids(words[i], minn, maxn, buckets)`` (the word's own row is not among them).
    One numba pass over the UTF-8 bytes of the whole vocabulary.
    """
    _check(minn, maxn, buckets)
    if not _has_ngrams(minn, maxn, buckets) or not words:
        return np.zeros(len(words) + 1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    encoded = [b"" if word == EOS else (BOW + word + EOW).encode("utf-8") for word in words]
    bounds = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=bounds[1:])
    text = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return _vocabulary_ngrams(text, bounds, int(minn), int(maxn), int(buckets))
