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
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import FormatError, UsageError
from .vectors import Vectors

NATIVE_FORMAT = "embedkit-vectors"
NATIVE_VERSION = 1
MAX_WORD_BYTES = 100_000
_SNIFF_BYTES = 1 << 16


# --- atomic output ------------------------------------------------------------------
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


def load_native(path: str | os.PathLike[str], mmap: bool = False) -> Vectors:
    """Read a native model folder; ``mmap=True`` maps the matrix read-only instead of reading it."""
    path = Path(path)
    meta_path, matrix_path = path / "meta.json", path / "vectors.npy"
    if not meta_path.is_file() or not matrix_path.is_file():
        raise FormatError(f"{str(path)!r} is a folder but not an embedkit model (no meta.json/vectors.npy)")
    try:
        with open(meta_path, encoding="utf-8") as stream:
            meta = json.load(stream)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
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
        matrix = np.load(matrix_path, mmap_mode="r" if mmap else None, allow_pickle=False)
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
    if counts is not None and (not isinstance(counts, list) or len(counts) != len(words)):
        raise FormatError(f"{str(meta_path)!r}: 'counts' does not match the words")
    extra = meta.get("meta") if isinstance(meta.get("meta"), dict) else {}
    return Vectors(words, matrix, counts=None if counts is None else np.asarray(counts), meta=extra)


# --- word2vec text and binary -------------------------------------------------------
def _check_writable_words(vectors: Vectors) -> None:
    for word in vectors.words:
        if not word or any(ch.isspace() for ch in word):
            raise FormatError(f"word {word!r} cannot be stored in word2vec format (empty or has whitespace)")


def save_word2vec(vectors: Vectors, path: str | os.PathLike[str], binary: bool = True) -> None:
    """Write word2vec binary or text exactly as gensim's ``save_word2vec_format`` does."""
    _check_writable_words(vectors)
    matrix = np.asarray(vectors.vectors, dtype="<f4")
    with atomic_file(path) as tmp, open(tmp, "wb") as out:
        out.write(f"{len(vectors)} {vectors.dim}\n".encode())
        step = 4096
        for start in range(0, len(vectors), step):
            rows = matrix[start : start + step]
            words = vectors.words[start : start + step]
            if binary:
                out.write(b"".join(w.encode("utf-8") + b" " + r.tobytes() for w, r in zip(words, rows)))
            else:
                lines = (f"{w} {' '.join(str(x) for x in r)}\n" for w, r in zip(words, rows))
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


def _finish(path: Path, words: list[str], matrix: np.ndarray) -> Vectors:
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise FormatError(f"{str(path)!r}: vector of {words[row]!r} (row {row + 1}) holds NaN or infinity")
    return Vectors(words, matrix)


def _decode_word(raw: bytes, path: Path, row: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{str(path)!r}: word in row {row} is not valid UTF-8") from None


def load_word2vec_binary(path: str | os.PathLike[str], limit: int | None = None) -> Vectors:
    """Read word2vec's binary format (rows with or without a trailing newline).

    The file is memory-mapped and parsed by a compiled scanner; ``limit`` reads only the
    first words (the most frequent, in files sorted as word2vec and gensim write them).
    """
    from .kernels import scan_word2vec_binary

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
    _check_sizes(path, count, dim, size - pos, 4 * dim + 2)
    wanted = count if limit is None else max(0, min(limit, count))
    raw = np.empty((wanted, 4 * dim), dtype=np.uint8)
    word_bytes = np.empty(max(size - pos - wanted * 4 * dim, 1), dtype=np.uint8)
    rows, end, used = scan_word2vec_binary(data, pos, wanted, dim, MAX_WORD_BYTES, raw, word_bytes)
    if rows < wanted:
        rest = bytes(data[end : end + MAX_WORD_BYTES]).lstrip(b"\r\n")
        if rest.find(b" ") <= 0:
            raise FormatError(f"{str(path)!r} is truncated or corrupted at word {rows + 1} of {count}")
        raise FormatError(f"{str(path)!r} is truncated: vector {rows + 1} of {count} is incomplete")
    if wanted == count and bytes(data[end : end + 4096]).strip():
        raise FormatError(f"{str(path)!r} holds more data than the {count} words its header announces")
    try:
        words = word_bytes[:used].tobytes().decode("utf-8").split("\n")[:-1]
    except UnicodeDecodeError as exc:
        row = word_bytes[: exc.start].tobytes().count(b"\n") + 1
        raise FormatError(f"{str(path)!r}: word in row {row} is not valid UTF-8") from None
    if len(words) != rows:
        raise FormatError(f"{str(path)!r}: a word contains a line break")
    matrix = raw.view("<f4").astype(np.float32, copy=False)
    del data
    return _finish(path, words, matrix)


def load_word2vec_text(
    path: str | os.PathLike[str], header: bool = True, limit: int | None = None
) -> Vectors:
    """Read word2vec text (``COUNT DIM`` header) or, with ``header=False``, GloVe text.

    ``limit`` reads only the first words.
    """
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
            text = _decode_word(raw, path, line_no).rstrip()
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


def load(path: str | os.PathLike[str], mmap: bool = False, limit: int | None = None) -> Vectors:
    """Load vectors from a native model folder, word2vec binary/text or GloVe text file.

    The format is told from the content, not the file name. ``mmap=True`` maps a native
    model's matrix read-only instead of reading it; ``limit`` keeps only the first words.
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
            vectors = load_word2vec_binary(path, limit=limit)
        else:
            vectors = load_word2vec_text(path, header=kind == "word2vec-text", limit=limit)
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
