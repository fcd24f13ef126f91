"""File formats: the native folder, word2vec's text and binary files (fastText ``.vec``, GloVe)
and fastText ``.bin`` models.

Below the vector store: readers return plain :class:`~embedkit.io.matrix.VectorData`,
writers take anything shaped like :class:`~embedkit.vectors.store.Vectors`. The format of a
file is told from its content (:func:`read_vectors`, :func:`describe`); the format to
write, from the output name (:func:`output_format`) or an explicit ``format``: a name
ending in ``.bin`` is a fastText ``.bin`` for a subword model and word2vec binary for
plain vectors.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FormatError, UsageError
from .fasttext import is_fasttext_bin, load_fasttext, save_fasttext
from .matrix import VectorData, VectorsLike
from .native import load_native, save_native
from .word2vec import DESCRIPTIONS, load_word2vec, save_word2vec, sniff_format

OUTPUT_FORMATS = {".bin": "word2vec binary", ".txt": "word2vec text", ".vec": "word2vec text"}
"""Output name suffix -> format written; any other name is a native model folder (a subword
model's ``.bin`` is a fastText ``.bin``: see :func:`output_format`)."""
FORMAT_NAMES = {
    "native": "embedkit native",
    "word2vec": "word2vec binary",
    "word2vec-text": "word2vec text",
    "fasttext": "fastText bin",
}
"""The names ``format=`` (and ``--format``) accept -> the format written."""


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
        if is_fasttext_bin(path):
            return load_fasttext(path, limit=limit, unicode_errors=unicode_errors)
        return load_word2vec(path, limit=limit, unicode_errors=unicode_errors)
    except OSError as exc:
        raise FormatError(f"cannot read model {str(path)!r}: {exc.strerror or exc}") from exc


def describe(path: str | os.PathLike[str]) -> str:
    """Name of the format of a model file or folder, told from its content."""
    if Path(path).is_dir():
        return "embedkit native"
    try:
        if is_fasttext_bin(path):
            return "fastText bin"
        return DESCRIPTIONS[sniff_format(path)]
    except OSError as exc:
        raise FormatError(f"cannot read model {str(path)!r}: {exc.strerror or exc}") from exc


def output_format(path: str | os.PathLike[str], subwords: bool = False, format: str | None = None) -> str:
    """The format written to ``path``: ``format`` if given (a key of :data:`FORMAT_NAMES`), else
    by the name: ``.bin`` fastText ``.bin`` for a subword model and word2vec binary otherwise,
    ``.txt``/``.vec`` word2vec text, anything else a native folder."""
    if format is not None:
        if format not in FORMAT_NAMES:
            raise UsageError(f"unknown format {format!r}: choose {', '.join(FORMAT_NAMES)}")
        return FORMAT_NAMES[format]
    kind = OUTPUT_FORMATS.get(Path(path).suffix.lower(), "embedkit native")
    return "fastText bin" if kind == "word2vec binary" and subwords else kind


def write_vectors(vectors: VectorsLike, path: str | os.PathLike[str], format: str | None = None) -> str:
    """Write ``vectors`` in the format ``format`` or the name of ``path`` asks for (see
    :func:`output_format`); return that format's name."""
    kind = output_format(path, getattr(vectors, "subwords", None) is not None, format)
    if kind == "embedkit native":
        save_native(vectors, path)
    elif kind == "fastText bin":
        save_fasttext(vectors, path)
    else:
        save_word2vec(vectors, path, binary=kind == "word2vec binary")
    return kind


__all__ = [
    "FORMAT_NAMES",
    "VectorData",
    "describe",
    "output_format",
    "read_vectors",
    "save_fasttext",
    "write_vectors",
]
