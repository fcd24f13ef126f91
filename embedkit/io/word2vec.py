"""word2vec's text and binary formats (and fastText ``.vec``, GloVe text), read and written.

Files are byte-identical to gensim's ``save_word2vec_format``. Reading tells text from
binary by content; header sizes are checked against the file size before anything is
allocated; binary rows are found and copied by compiled kernels
(:mod:`embedkit.io.word2vec_kernels`) on a memory map. Writers write to a temporary name
and rename it into place when complete.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import FormatError, UsageError
from ..util import atomic_file
from .matrix import VectorData, VectorsLike, first_rows, fresh_matrix, unique_rows
from .word2vec_kernels import assemble_word2vec_binary, gather_rows, scan_word2vec_binary

MAX_WORD_BYTES = 100_000
UNICODE_ERRORS = ("strict", "replace", "ignore")
_SNIFF_BYTES = 1 << 16
_BLOCK_BYTES = 1 << 25  # word2vec files are written in blocks of about this size
_WHITESPACE = re.compile(r"\s")


def _check_writable_words(vectors: VectorsLike) -> None:
    words = vectors.words
    if all(words) and not _WHITESPACE.search("".join(words)):
        return
    for word in words:
        if not word or _WHITESPACE.search(word):
            raise FormatError(f"word {word!r} cannot be stored in word2vec format (empty or has whitespace)")


def _binary_blocks(vectors: VectorsLike) -> Iterator[memoryview]:
    """word2vec binary rows in blocks of about ``_BLOCK_BYTES``, laid out by a kernel."""
    matrix, words = vectors.vectors, vectors.words
    row_bytes = 4 * vectors.dim
    step = max(1, _BLOCK_BYTES // (row_bytes + 16))
    buffer = np.empty(0, dtype=np.uint8)
    for start in range(0, len(words), step):
        block = np.ascontiguousarray(matrix[start : start + step], dtype="<f4")
        rows = block.view(np.uint8).reshape(block.shape[0], row_bytes)
        blob = np.frombuffer("\n".join(words[start : start + step]).encode("utf-8"), dtype=np.uint8)
        ends = np.append(np.flatnonzero(blob == 10), blob.shape[0])
        need = blob.shape[0] + 1 + rows.size
        if buffer.shape[0] < need:
            buffer = np.empty(int(need * 1.25), dtype=np.uint8)
        used = assemble_word2vec_binary(blob, ends, rows, buffer)
        yield memoryview(buffer[:used])


def save_word2vec(vectors: VectorsLike, path: str | os.PathLike[str], binary: bool = True) -> None:
    """Write word2vec binary or text exactly as gensim's ``save_word2vec_format`` does.

    Binary rows are laid out by a compiled kernel in blocks of bounded size; text values
    are formatted as gensim formats them (``str`` of each float32), so the bytes match.
    """
    _check_writable_words(vectors)
    with atomic_file(path) as tmp, open(tmp, "wb") as out:
        out.write(f"{len(vectors.words)} {vectors.dim}\n".encode())
        if binary:
            for chunk in _binary_blocks(vectors):
                out.write(chunk)
            return
        matrix, words = vectors.vectors, vectors.words
        step = 4096
        for start in range(0, len(words), step):
            rows = np.asarray(matrix[start : start + step], dtype=np.float32)
            lines = (f"{w} {' '.join(map(str, r))}\n" for w, r in zip(words[start : start + step], rows))
            out.write("".join(lines).encode("utf-8"))


def _parse_header(first_line: bytes) -> tuple[int, int] | None:
    parts = first_line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _is_text_row(line: bytes, dim: int | None) -> bool:
    try:
        parts = line.decode("utf-8").rstrip().split(" ")
    except UnicodeDecodeError:
        return False
    if len(parts) < 2 or (dim is not None and len(parts) != dim + 1):
        return False
    try:
        [float(x) for x in parts[1:]]
    except ValueError:
        return False
    return True


def sniff_format(path: str | os.PathLike[str]) -> str:
    """Tell a word-vector file's format from its content: ``word2vec-binary``,
    ``word2vec-text`` (with header) or ``text-noheader`` (GloVe style)."""
    with open(path, "rb") as stream:
        sample = stream.read(_SNIFF_BYTES)
    if not sample:
        raise FormatError(f"{str(path)!r} is empty")
    first, _, rest = sample.partition(b"\n")
    header = _parse_header(first)
    if header is None:
        if _is_text_row(first, None):
            return "text-noheader"
        raise FormatError(f"{str(path)!r} is not a word-vector file (no 'COUNT DIM' header line)")
    count, dim = header
    if count == 0:
        return "word2vec-text"
    if len(sample) < _SNIFF_BYTES:  # the whole file is here: see which layout it fits exactly
        as_text, as_binary = _fits_text(rest, count, dim), _fits_binary(rest, count, dim)
        if as_text != as_binary:
            return "word2vec-text" if as_text else "word2vec-binary"
    second = rest.split(b"\n", 1)[0]
    if b"\n" in rest and _is_text_row(second, dim):
        return "word2vec-text"
    return "word2vec-binary"


def _fits_text(rest: bytes, count: int, dim: int) -> bool:
    """Whether ``rest`` (all of a file after its header) is exactly ``count`` text rows of ``dim`` values."""
    rows = [line for line in rest.split(b"\n") if line.strip()]
    return len(rows) == count and all(_is_text_row(row, dim) for row in rows)


def _fits_binary(rest: bytes, count: int, dim: int) -> bool:
    """Whether ``rest`` (all of a file after its header) is exactly ``count`` binary rows of ``dim`` floats.

    A short binary file can pass for text (a vector's bytes may read ``1\n``), so small files
    are checked against both layouts instead of by their second line alone."""
    pos = 0
    for _ in range(count):
        while pos < len(rest) and rest[pos] in b"\r\n":
            pos += 1
        space = rest.find(b" ", pos, pos + MAX_WORD_BYTES)
        if space <= pos or b"\n" in rest[pos:space]:
            return False
        pos = space + 1 + 4 * dim
        if pos > len(rest):
            return False
    return not rest[pos:].strip()


def _check_sizes(path: Path, count: int, dim: int, available: int, min_row: int) -> None:
    if dim < 1:
        raise FormatError(f"{str(path)!r}: header gives dimension {dim}")
    if count * min_row > available:
        raise FormatError(
            f"{str(path)!r}: header announces {count} words of dimension {dim}, "
            f"but the file is too small to hold them (truncated or a false header)"
        )


def _check_unicode_errors(unicode_errors: str) -> None:
    if unicode_errors not in UNICODE_ERRORS:
        raise UsageError(f"unicode_errors must be one of {', '.join(UNICODE_ERRORS)}, got {unicode_errors!r}")


def _non_finite(path: Path, words: list[str], row: int) -> FormatError:
    return FormatError(f"{str(path)!r}: vector of {words[row]!r} (row {row + 1}) holds NaN or infinity")


def _finish(path: Path, words: list[str], matrix: np.ndarray) -> VectorData:
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        raise _non_finite(path, words, int(np.argmax(bad)))
    return unique_rows(path, words, matrix)


def _utf8_hint(unicode_errors: str) -> str:
    return "" if unicode_errors != "strict" else " (load(..., unicode_errors='replace') keeps such words)"


def _decode_line(raw: bytes, path: Path, line: int, unicode_errors: str = "strict") -> str:
    try:
        return raw.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError:
        raise FormatError(f"{str(path)!r}, line {line}: not valid UTF-8{_utf8_hint('strict')}") from None


def load_word2vec_binary(
    path: str | os.PathLike[str], limit: int | None = None, unicode_errors: str = "strict"
) -> VectorData:
    """Read word2vec's binary format (rows with or without a trailing newline).

    The file is memory-mapped. A helper thread maps memory for the matrix while a compiled
    scanner finds the words, then copies the vectors (checking them for NaN) with a second
    kernel while Python decodes and indexes the words; all three release the GIL.
    ``limit`` reads only the first words (the most frequent, in files sorted as word2vec
    and gensim write them). Words that are not UTF-8 are an error unless
    ``unicode_errors`` is ``"replace"`` or ``"ignore"`` (as in ``bytes.decode``).
    """
    _check_unicode_errors(unicode_errors)
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise FormatError(f"{str(path)!r} is empty")
    data = np.memmap(path, dtype=np.uint8, mode="r")
    header_end = bytes(data[:1024]).find(b"\n")
    header = _parse_header(bytes(data[:header_end])) if header_end > 0 else None
    if header is None:
        raise FormatError(f"{str(path)!r} has no word2vec header line ('COUNT DIM')")
    count, dim = header
    pos = header_end + 1
    _check_sizes(path, count, dim, size - pos, 4 * dim + 2)  # so the file can hold the matrix
    wanted = count if limit is None else max(0, min(limit, count))
    offsets = np.empty(wanted, dtype=np.int64)
    room = min(size - pos - wanted * 4 * dim, wanted * (MAX_WORD_BYTES + 1))
    word_bytes = np.empty(max(room, 1), dtype=np.uint8)

    made: list[np.ndarray] = []
    failed: list[BaseException] = []
    first_bad: list[int] = []
    allocated, scanned = threading.Event(), threading.Event()

    def fill() -> None:
        try:
            made.append(fresh_matrix(wanted, dim))
        except BaseException as exc:  # e.g. MemoryError: re-raised in the caller's thread
            failed.append(exc)
            return
        finally:
            allocated.set()
        scanned.wait()
        if first_bad:  # the scan succeeded (holds a placeholder)
            matrix = made[0]
            first_bad[0] = gather_rows(data, offsets, matrix.view(np.uint8), matrix.view(np.uint32))

    worker = threading.Thread(target=fill, name="embedkit-word2vec-read")
    worker.start()
    try:
        rows, end, used = scan_word2vec_binary(data, pos, wanted, dim, MAX_WORD_BYTES, offsets, word_bytes)
        if rows < wanted:
            rest = bytes(data[end : end + MAX_WORD_BYTES]).lstrip(b"\r\n")
            if rest.find(b" ") <= 0:
                raise FormatError(f"{str(path)!r} is truncated or corrupted at word {rows + 1} of {count}")
            raise FormatError(f"{str(path)!r} is truncated: vector {rows + 1} of {count} is incomplete")
        if wanted == count and bytes(data[end : end + 4096]).strip():
            raise FormatError(f"{str(path)!r} holds more data than the {count} words its header announces")
        first_bad.append(-2)
        scanned.set()
        try:
            words = word_bytes[:used].tobytes().decode("utf-8", errors=unicode_errors).split("\n")[:-1]
        except UnicodeDecodeError as exc:
            row = word_bytes[: exc.start].tobytes().count(b"\n") + 1
            raise FormatError(
                f"{str(path)!r}: word in row {row} is not valid UTF-8{_utf8_hint(unicode_errors)}"
            ) from None
        allocated.wait()
        if failed:
            raise failed[0]
        matrix = made[0]
        index = first_rows(words)  # while the vectors are copied; duplicates handled once they are all there
    finally:
        scanned.set()
        worker.join()
    if first_bad[0] == -2:
        raise FormatError(f"{str(path)!r}: the vectors could not be read")  # pragma: no cover
    if first_bad[0] >= 0:
        raise _non_finite(path, words, first_bad[0])
    return unique_rows(path, words, matrix, index)


def load_word2vec_text(
    path: str | os.PathLike[str],
    header: bool = True,
    limit: int | None = None,
    unicode_errors: str = "strict",
) -> VectorData:
    """Read word2vec text (``COUNT DIM`` header; also fastText ``.vec``, whose rows end in
    a space) or, with ``header=False``, GloVe text.

    ``limit`` reads only the first words; ``unicode_errors`` as for
    :func:`load_word2vec_binary`.
    """
    _check_unicode_errors(unicode_errors)
    path = Path(path)
    size = path.stat().st_size
    words: list[str] = []
    rows: list[np.ndarray] = []
    count, dim = math.inf, None
    with open(path, "rb") as stream:
        if header:
            parsed = _parse_header(stream.readline())
            if parsed is None:
                raise FormatError(f"{str(path)!r} has no word2vec header line ('COUNT DIM')")
            count, dim = parsed
            _check_sizes(path, count, dim, size, 2 * dim + 2)
        line_no = 1 if header else 0
        for raw in stream:
            line_no += 1
            if limit is not None and len(words) >= limit:
                break
            if len(words) >= count:
                if raw.strip():
                    raise FormatError(f"{str(path)!r} holds more rows than the {count} its header announces")
                continue
            text = _decode_line(raw, path, line_no, unicode_errors).rstrip()
            if not text:
                continue
            parts = text.split(" ")
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise FormatError(f"{str(path)!r}, line {line_no}: no vector values")
            if len(parts) != dim + 1:
                raise FormatError(
                    f"{str(path)!r}, line {line_no}: expected a word and {dim} values, "
                    f"got {len(parts) - 1} values"
                )
            try:
                rows.append(np.array(parts[1:], dtype=np.float32))
            except ValueError:
                raise FormatError(f"{str(path)!r}, line {line_no}: values are not numbers") from None
            words.append(parts[0])
    if header and len(words) < count and (limit is None or len(words) < limit):
        raise FormatError(f"{str(path)!r} is truncated: {len(words)} of the {count} announced rows")
    if not words:
        raise FormatError(f"{str(path)!r} holds no vectors")
    return _finish(path, words, np.vstack(rows))


def load_word2vec(
    path: str | os.PathLike[str], limit: int | None = None, unicode_errors: str = "strict"
) -> VectorData:
    """Read a word2vec binary or text, fastText ``.vec`` or GloVe file, telling which by content."""
    kind = sniff_format(path)
    if kind == "word2vec-binary":
        return load_word2vec_binary(path, limit=limit, unicode_errors=unicode_errors)
    return load_word2vec_text(
        path, header=kind == "word2vec-text", limit=limit, unicode_errors=unicode_errors
    )


DESCRIPTIONS = {
    "word2vec-binary": "word2vec binary",
    "word2vec-text": "word2vec text",
    "text-noheader": "text without header (GloVe)",
}
"""How each format :func:`sniff_format` tells apart is named to a person."""
