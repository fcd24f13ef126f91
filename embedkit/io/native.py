"""embedkit's native format: a folder of ``vectors.npy`` (float32) and ``meta.json``.

``vectors.npy`` is written and read with ``allow_pickle=False``; its ``.npy`` header is
checked against the file size before anything is allocated, so a damaged or lying file
fails fast. ``meta.json`` holds the words, counts, training settings and versions. A
folder is written under a temporary name and swapped in only when complete.

Format version 2 adds a *full* model: what further training needs beyond the vectors,
as more float32 matrices of one row per word (``state-syn1neg.npy``: the output weights),
listed in ``meta.json`` under ``"state"``. They are memory-mapped read-only on loading (a
full model answers queries like any other without reading them). A folder without state
is still written as version 1, so older embedkit versions keep reading plain vectors;
version 1 folders are read as before.

Format version 3 is a subword (fastText-style) model: ``vectors.npy`` still holds the
full vectors of the vocabulary (so any reader gets usable vectors), and
``subword-input.npy`` (the words' own input rows, n_words x dim) and
``subword-ngrams.npy`` (the bucket rows, buckets x dim) hold the n-gram half, with
``minn``, ``maxn`` and ``buckets`` under ``"subwords"`` in ``meta.json``. Both are
memory-mapped read-only on loading: queries read bucket rows only for unknown words.
The training state ``syn0``/``ngrams`` of a subword model are those two matrices, so
they are not saved twice (and come back as state when the folder is loaded).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import FormatError
from ..text.subwords import vocabulary_ngrams
from ..util import atomic_directory
from ..vectors.subwords import SubwordVectors
from ..version import __version__
from .matrix import VectorData, VectorsLike, fresh_matrix

NATIVE_FORMAT = "embedkit-vectors"
NATIVE_VERSION = 3
"""The newest format version this embedkit reads (and writes for subword models)."""
FULL_MODEL_VERSION = 2
"""The version written for a full word2vec model (vectors and training state)."""
VECTORS_ONLY_VERSION = 1
"""The version written for a folder without training state (readable by every embedkit)."""
SUBWORD_FILES = {"word_input": "subword-input.npy", "ngrams": "subword-ngrams.npy"}
"""The n-gram half of a subword model: attribute of SubwordVectors -> file of the folder."""
SUBWORD_STATE = {"syn0": "word_input", "ngrams": "ngrams"}
"""Training state of a subword model that *is* a SubwordVectors matrix (saved once)."""
_SUBWORD_LIMITS = {"minn": 64, "maxn": 64, "buckets": 1 << 31}
_STATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def state_file(name: str) -> str:
    """File name of the state matrix ``name`` inside a model folder."""
    return f"state-{name}.npy"


def save_native(vectors: VectorsLike, path: str | os.PathLike[str]) -> None:
    """Write ``vectors`` as a native model folder (``vectors.npy`` + ``meta.json``)."""
    state = dict(getattr(vectors, "state", None) or {})
    sub = getattr(vectors, "subwords", None)
    if sub is not None:
        for name in SUBWORD_STATE:
            state.pop(name, None)
    for name, array in state.items():
        if not _STATE_NAME.fullmatch(name) or array.shape != vectors.vectors.shape:
            raise FormatError(
                f"state matrix {name!r} of shape {array.shape} cannot be saved with these vectors"
            )
    meta = {
        "format": NATIVE_FORMAT,
        "format_version": (
            NATIVE_VERSION if sub is not None else FULL_MODEL_VERSION if state else VECTORS_ONLY_VERSION
        ),
        "embedkit_version": __version__,
        "count": len(vectors.words),
        "dim": vectors.dim,
        "words": vectors.words,
        "counts": None if vectors.counts is None else vectors.counts.tolist(),
        "meta": vectors.meta,
    }
    if state:
        meta["state"] = sorted(state)
    if sub is not None:
        meta["subwords"] = {"minn": int(sub.minn), "maxn": int(sub.maxn), "buckets": int(sub.buckets)}
    with atomic_directory(path) as tmp:
        if sub is not None:
            for attribute, name in SUBWORD_FILES.items():
                matrix = np.ascontiguousarray(getattr(sub, attribute), dtype="<f4")
                np.save(tmp / name, matrix, allow_pickle=False)
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors.vectors, dtype="<f4"), allow_pickle=False)
        for name, array in state.items():
            np.save(tmp / state_file(name), np.ascontiguousarray(array, dtype="<f4"), allow_pickle=False)
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


def _map_matrix(path: Path, shape: tuple[int, int], like: str = "like the vectors") -> np.ndarray:
    """A float32 ``.npy`` matrix of ``shape`` mapped read-only, its header checked first."""
    try:
        with open(path, "rb") as stream:
            found = _npy_matrix_header(stream, path.stat().st_size)
        if tuple(found) != shape:
            raise ValueError(f"it is {found[0]} x {found[1]}, not {shape[0]} x {shape[1]} {like}")
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"cannot read {str(path)!r}: {exc}") from exc


def _state_names(meta: dict[str, object], meta_path: Path) -> list[str]:
    names = meta.get("state", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and _STATE_NAME.fullmatch(n) for n in names):
        raise FormatError(f"{str(meta_path)!r}: 'state' must list state matrix names")
    return names


def _subword_settings(meta: dict[str, object], meta_path: Path) -> dict[str, int]:
    found = meta.get("subwords")
    if not isinstance(found, dict) or set(found) != set(_SUBWORD_LIMITS):
        raise FormatError(f"{str(meta_path)!r}: 'subwords' must give minn, maxn and buckets")
    for name, top in _SUBWORD_LIMITS.items():
        value = found[name]
        if type(value) is not int or not 0 <= value < top:
            raise FormatError(
                f"{str(meta_path)!r}: subwords {name} must be a whole number in [0, {top}), got {value!r}"
            )
    return found  # type: ignore[return-value]


def _load_subwords(
    path: Path, meta: dict[str, object], rows: int, words: list[str], dim: int
) -> SubwordVectors:
    """The n-gram half of a version-3 folder of ``rows`` words (``words``: the first of them,
    those kept), both matrices mapped read-only."""
    settings = _subword_settings(meta, path / "meta.json")
    shapes = {"word_input": (rows, dim), "ngrams": (settings["buckets"], dim)}
    likes = {"word_input": "(one row per word)", "ngrams": "(one row per bucket)"}
    matrices = {
        attribute: _map_matrix(path / name, shapes[attribute], likes[attribute])
        for attribute, name in SUBWORD_FILES.items()
    }
    matrices["word_input"] = matrices["word_input"][: len(words)]
    offsets, ids = vocabulary_ngrams(words, settings["minn"], settings["maxn"], settings["buckets"])
    return SubwordVectors(**settings, **matrices, offsets=offsets, ids=ids)


def load_native(path: str | os.PathLike[str], mmap: bool = False, limit: int | None = None) -> VectorData:
    """Read a native model folder; ``mmap=True`` maps the matrix read-only instead of reading it;
    ``limit`` keeps the first words (and drops the training state, which needs them all).

    The state matrices of a full model are always mapped read-only: they cost no memory
    until further training reads them."""
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
    counts_array = None if counts is None else np.asarray(counts)
    state = {
        name: _map_matrix(path / state_file(name), matrix.shape) for name in _state_names(meta, meta_path)
    }
    if limit is not None and limit < len(words):
        words, matrix, state = words[:limit], matrix[:limit], {}
        counts_array = None if counts_array is None else counts_array[:limit]
    subwords = None
    if version >= 3 or "subwords" in meta:
        subwords = _load_subwords(path, meta, len(meta["words"]), words, matrix.shape[1])
        if state:
            state.update({name: getattr(subwords, attribute) for name, attribute in SUBWORD_STATE.items()})
    return VectorData(words, matrix, counts_array, extra, state=state, subwords=subwords)
