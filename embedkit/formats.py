"""Reading and writing word vectors: the native format and word2vec's text and binary.

Native format: a folder holding ``vectors.npy`` (float32, saved and loaded with
``allow_pickle=False``) and ``meta.json`` (words, counts, training settings, versions).
Nothing in a model file is ever executed; sizes in headers are checked against the file
size before anything is allocated. Every writer writes to a temporary name in the
destination folder and renames it into place only when complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap as _mmap
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import FormatError, UsageError
from .vectors import Vectors

NATIVE_FORMAT = "embedkit-vectors"
NATIVE_VERSION = 1
MAX_WORD_BYTES = 100_000
UNICODE_ERRORS = ("strict", "replace", "ignore")
_SNIFF_BYTES = 1 << 16
_BLOCK_BYTES = 1 << 25  # word2vec files are written in blocks of about this size
_WHITESPACE = re.compile(r"\s")


# --- atomic output ------------------------------------------------------------------
def _umask() -> int:
    """The process's file-creation mask (temporary files are private; outputs follow it).

    Read from ``/proc`` where possible: setting and restoring the mask would briefly change
    it for every other thread creating files at that moment."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _existing_parent(path: Path) -> Path:
    """The folder ``path`` will be written in, which must exist."""
    parent = path.parent
    if not parent.is_dir():
        raise FormatError(f"cannot write {str(path)!r}: folder {str(parent)!r} does not exist")
    return parent


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds."""
    path = Path(path)
    parent = _existing_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; swap it in for ``path`` when complete."""
    path = Path(path)
    parent = _existing_parent(path)
    if path.exists() and not path.is_dir():
        raise FormatError(f"cannot write {str(path)!r}: a file (not a model folder) is in the way")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
            os.replace(path, old / "model")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- large arrays ---------------------------------------------------------------------
_POPULATE_BYTES = 64 << 20


def fresh_matrix(rows: int, dim: int) -> np.ndarray:
    """A new, uninitialised C-ordered float32 matrix to read a large model into.

    numpy asks Linux for transparent huge pages for large arrays, and on virtual machines
    faulting those in can cost seconds per GB (a 1.2 GB matrix: 5 s against 1 s here), so
    on Linux a large matrix is an anonymous mapping whose pages the kernel maps in one call
    (``MAP_POPULATE``, which releases the GIL). It behaves as any writable ndarray and is
    unmapped when the array is freed. Elsewhere, and for small matrices: ``np.empty``.
    """
    nbytes = rows * dim * 4
    populate = getattr(_mmap, "MAP_POPULATE", 0)
    if nbytes < _POPULATE_BYTES or not populate:
        return np.empty((rows, dim), dtype=np.float32)
    try:
        area = _mmap.mmap(-1, nbytes, flags=_mmap.MAP_PRIVATE | _mmap.MAP_ANONYMOUS | populate)
    except (OSError, ValueError, OverflowError):
        return np.empty((rows, dim), dtype=np.float32)
    return np.frombuffer(area, dtype=np.float32).reshape(rows, dim)


# --- native format ------------------------------------------------------------------
def save_native(vectors: Vectors, path: str | os.PathLike[str]) -> None:
    """Write ``vectors`` as a native model folder (``vectors.npy`` + ``meta.json``)."""
    from . import __version__

    meta = {
        "format": NATIVE_FORMAT,
        "format_version": NATIVE_VERSION,
        "embedkit_version": __version__,
        "count": len(vectors),
        "dim": vectors.dim,
        "words": vectors.words,
        "counts": None if vectors.counts is None else vectors.counts.tolist(),
        "meta": vectors.meta,
    }
    with atomic_directory(path) as tmp:
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors.vectors, dtype="<f4"), allow_pickle=False)
        with open(tmp / "meta.json", "w", encoding="utf-8") as out:
            json.dump(meta, out, ensure_ascii=False)


def _npy_matrix_header(stream: BinaryIO, size: int) -> tuple[int, int]:
    """Shape of the float32 matrix whose ``.npy`` header starts ``stream``, checked against
    the file ``size``; ``ValueError``/``EOFError`` for anything else or a lying header."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, EOFError):
        raise
    except Exception as exc:  # numpy's header parser can raise tokenizer/syntax errors
        raise ValueError(f"malformed .npy header ({type(exc).__name__})") from exc
    if dtype != np.dtype("<f4") or fortran or len(shape) != 2:
        raise ValueError(f"it holds {dtype} {shape}, not a float32 matrix")
    if shape[0] * shape[1] * 4 > size - stream.tell():
        raise EOFError(f"the file is shorter than its {shape[0]} x {shape[1]} header")
    return shape


def _read_matrix(path: Path) -> np.ndarray:
    """A float32 ``.npy`` matrix read straight into :func:`fresh_matrix`.

    The header is checked against the file size before anything is allocated, so a
    header claiming a huge matrix fails fast instead of exhausting memory.
    """
    with open(path, "rb") as stream:
        shape = _npy_matrix_header(stream, path.stat().st_size)
        matrix = fresh_matrix(*shape)
        target, done = memoryview(matrix).cast("B"), 0
        while done < matrix.nbytes:
            got = stream.readinto(target[done : done + (1 << 28)])
            if not got:
                raise EOFError(f"the file is shorter than its {shape[0]} x {shape[1]} header")
            done += got
        return matrix


def load_native(path: str | os.PathLike[str], mmap: bool = False) -> Vectors:
    """Read a native model folder; ``mmap=True`` maps the matrix read-only instead of reading it."""
    path = Path(path)
    meta_path, matrix_path = path / "meta.json", path / "vectors.npy"
    if not meta_path.is_file() or not matrix_path.is_file():
        raise FormatError(f"{str(path)!r} is a folder but not an embedkit model (no meta.json/vectors.npy)")
    try:
        with open(meta_path, encoding="utf-8") as stream:
            meta = json.load(stream)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FormatError(f"{str(meta_path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != NATIVE_FORMAT:
        raise FormatError(f"{str(meta_path)!r} does not describe an embedkit model")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > NATIVE_VERSION:
        raise FormatError(
            f"{str(path)!r} has format version {version!r}; this embedkit reads up to {NATIVE_VERSION}"
        )
    words = meta.get("words")
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise FormatError(f"{str(meta_path)!r}: 'words' must be a list of strings")
    try:
        if mmap:
            with open(matrix_path, "rb") as stream:
                _npy_matrix_header(stream, matrix_path.stat().st_size)
            matrix = np.load(matrix_path, mmap_mode="r", allow_pickle=False)
        else:
            matrix = _read_matrix(matrix_path)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"cannot read {str(matrix_path)!r}: {exc}") from exc
    if matrix.dtype != np.float32 or matrix.ndim != 2:
        raise FormatError(f"{str(matrix_path)!r} holds {matrix.dtype} {matrix.shape}, not a float32 matrix")
    if matrix.shape != (len(words), meta.get("dim")):
        raise FormatError(
            f"{str(path)!r}: meta.json lists {len(words)} words of dim {meta.get('dim')} "
            f"but vectors.npy is {matrix.shape[0]} x {matrix.shape[1]}"
        )
    counts = meta.get("counts")
    if counts is not None and (
        not isinstance(counts, list)
        or len(counts) != len(words)
        or not all(type(c) is int and 0 <= c < 2**63 for c in counts)
    ):
        raise FormatError(f"{str(meta_path)!r}: 'counts' does not match the words")
    extra = meta.get("meta") if isinstance(meta.get("meta"), dict) else {}
    return Vectors(words, matrix, counts=None if counts is None else np.asarray(counts), meta=extra)


# --- word2vec text and binary -------------------------------------------------------
def _check_writable_words(vectors: Vectors) -> None:
    words = vectors.words
    if all(words) and not _WHITESPACE.search("".join(words)):
        return
    for word in words:
        if not word or _WHITESPACE.search(word):
            raise FormatError(f"word {word!r} cannot be stored in word2vec format (empty or has whitespace)")


def _binary_blocks(vectors: Vectors) -> Iterator[memoryview]:
    """word2vec binary rows in blocks of about ``_BLOCK_BYTES``, laid out by a kernel."""
    from .kernels import assemble_word2vec_binary

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


def save_word2vec(vectors: Vectors, path: str | os.PathLike[str], binary: bool = True) -> None:
    """Write word2vec binary or text exactly as gensim's ``save_word2vec_format`` does.

    Binary rows are laid out by a compiled kernel in blocks of bounded size; text values
    are formatted as gensim formats them (``str`` of each float32), so the bytes match.
    """
    _check_writable_words(vectors)
    with atomic_file(path) as tmp, open(tmp, "wb") as out:
        out.write(f"{len(vectors)} {vectors.dim}\n".encode())
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
    second = rest.split(b"\n", 1)[0]
    if b"\n" in rest and _is_text_row(second, dim):
        return "word2vec-text"
    return "word2vec-binary"


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


def _vectors(path: Path, words: list[str], matrix: np.ndarray) -> Vectors:
    """``Vectors`` of the rows read; of a word listed twice only the first row is kept
    (as gensim does), with a warning naming it."""
    try:
        return Vectors(words, matrix)
    except FormatError:
        first: dict[str, int] = {}
        for i, word in enumerate(words):
            first.setdefault(word, i)
        if len(first) == len(words):
            raise
    keep = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    dropped = len(words) - len(first)
    seen: set[str] = set()
    duplicate = next(w for w in words if w in seen or seen.add(w))
    warnings.warn(
        f"{str(path)!r}: {dropped} duplicate word(s), e.g. {duplicate!r}; kept the first vector of each",
        stacklevel=3,
    )
    return Vectors(list(first), matrix[keep])


def _finish(path: Path, words: list[str], matrix: np.ndarray) -> Vectors:
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        raise _non_finite(path, words, int(np.argmax(bad)))
    return _vectors(path, words, matrix)


def _utf8_hint(unicode_errors: str) -> str:
    return "" if unicode_errors != "strict" else " (load(..., unicode_errors='replace') keeps such words)"


def _decode_line(raw: bytes, path: Path, line: int, unicode_errors: str = "strict") -> str:
    try:
        return raw.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError:
        raise FormatError(f"{str(path)!r}, line {line}: not valid UTF-8{_utf8_hint('strict')}") from None


def load_word2vec_binary(
    path: str | os.PathLike[str], limit: int | None = None, unicode_errors: str = "strict"
) -> Vectors:
    """Read word2vec's binary format (rows with or without a trailing newline).

    The file is memory-mapped. A helper thread maps memory for the matrix while a compiled
    scanner finds the words, then copies the vectors (checking them for NaN) with a second
    kernel while Python decodes and indexes the words; all three release the GIL.
    ``limit`` reads only the first words (the most frequent, in files sorted as word2vec
    and gensim write them). Words that are not UTF-8 are an error unless
    ``unicode_errors`` is ``"replace"`` or ``"ignore"`` (as in ``bytes.decode``).
    """
    from .kernels import gather_rows, scan_word2vec_binary

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
        try:
            vectors: Vectors | None = Vectors(words, matrix)
        except FormatError:
            vectors = None  # duplicate words: handled once the vectors are all there
    finally:
        scanned.set()
        worker.join()
    if first_bad[0] == -2:
        raise FormatError(f"{str(path)!r}: the vectors could not be read")  # pragma: no cover
    if first_bad[0] >= 0:
        raise _non_finite(path, words, first_bad[0])
    return vectors if vectors is not None else _vectors(path, words, matrix)


def load_word2vec_text(
    path: str | os.PathLike[str],
    header: bool = True,
    limit: int | None = None,
    unicode_errors: str = "strict",
) -> Vectors:
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


def load(
    path: str | os.PathLike[str],
    mmap: bool = False,
    limit: int | None = None,
    unicode_errors: str = "strict",
) -> Vectors:
    """Load vectors from a native model folder, word2vec binary/text, fastText ``.vec`` or
    GloVe text file.

    The format is told from the content, not the file name. ``mmap=True`` maps a native
    model's matrix read-only instead of reading it; ``limit`` keeps only the first words.
    A word2vec/GloVe word that is not UTF-8 is an error unless ``unicode_errors`` is
    ``"replace"`` (bad bytes become U+FFFD) or ``"ignore"`` (dropped), as in gensim. A word
    listed twice keeps its first vector, with a warning (as gensim does).
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"model {str(path)!r} does not exist")
    if limit is not None and limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}")
    if path.is_dir():
        vectors = load_native(path, mmap=mmap)
        if limit is not None and limit < len(vectors):
            counts = None if vectors.counts is None else vectors.counts[:limit]
            vectors = Vectors(
                vectors.words[:limit], vectors.vectors[:limit], counts=counts, meta=vectors.meta
            )
        vectors.source = path
        return vectors
    try:
        kind = sniff_format(path)
        if kind == "word2vec-binary":
            vectors = load_word2vec_binary(path, limit=limit, unicode_errors=unicode_errors)
        else:
            header = kind == "word2vec-text"
            vectors = load_word2vec_text(path, header=header, limit=limit, unicode_errors=unicode_errors)
    except OSError as exc:
        raise FormatError(f"cannot read model {str(path)!r}: {exc.strerror or exc}") from exc
    vectors.source = path  # where a saved approximate index may be kept (see embedkit.index)
    return vectors


def describe(path: str | os.PathLike[str]) -> str:
    """Name of the format of a model file or folder, told from its content."""
    path = Path(path)
    if path.is_dir():
        return "embedkit native"
    return {
        "word2vec-binary": "word2vec binary",
        "word2vec-text": "word2vec text",
        "text-noheader": "text without header (GloVe)",
    }[sniff_format(path)]
