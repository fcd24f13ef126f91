"""File formats: the native folder and word2vec's text and binary files (fastText ``.vec``, GloVe).

Below the vector store: readers return plain :class:`~embedkit.io.matrix.VectorData`,
writers take anything shaped like :class:`~embedkit.vectors.store.Vectors`. The format of a
file is told from its content (:func:`read_vectors`, :func:`describe`); the format to
write, from the output name (:func:`output_format`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FormatError, UsageError
from .matrix import VectorData, VectorsLike
from .native import load_native, save_native
from .word2vec import DESCRIPTIONS, load_word2vec, save_word2vec, sniff_format

OUTPUT_FORMATS = {".bin": "word2vec binary", ".txt": "word2vec text", ".vec": "word2vec text"}
"""Output name suffix -> format written; any other name is a native model folder."""


def read_vectors(
    path: str | os.PathLike[str], mmap: bool = False, limit: int | None = None, unicode_errors: str = "strict"
) -> VectorData:
    """Read any format embedkit knows, told from the content (see :func:`embedkit.load`)."""
    path = Path(path)
    if not path.exists():
        raise FormatError(f"model {str(path)!r} does not exist")
    if limit is not None and limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}")
    if path.is_dir():
        return load_native(path, mmap=mmap, limit=limit)
    try:
        return load_word2vec(path, limit=limit, unicode_errors=unicode_errors)
    except OSError as exc:
        raise FormatError(f"cannot read model {str(path)!r}: {exc.strerror or exc}") from exc


def describe(path: str | os.PathLike[str]) -> str:
    """Name of the format of a model file or folder, told from its content."""
    return "embedkit native" if Path(path).is_dir() else DESCRIPTIONS[sniff_format(path)]


def output_format(path: str | os.PathLike[str]) -> str:
    """The format written to ``path``: ``.bin`` word2vec binary, ``.txt``/``.vec`` text, else native."""
    return OUTPUT_FORMATS.get(Path(path).suffix.lower(), "embedkit native")


def write_vectors(vectors: VectorsLike, path: str | os.PathLike[str]) -> str:
    """Write ``vectors`` in the format the name of ``path`` asks for; return that format's name."""
    kind = output_format(path)
    if kind == "embedkit native":
        save_native(vectors, path)
    else:
        save_word2vec(vectors, path, binary=kind == "word2vec binary")
    return kind


__all__ = ["VectorData", "describe", "output_format", "read_vectors", "write_vectors"]
