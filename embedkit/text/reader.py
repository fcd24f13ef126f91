"""Reading a corpus: text files (or a folder of them) streamed as token pieces.

A corpus is a text file with one sentence or document per line, tokens separated by
whitespace (plain, ``.gz``, ``.bz2`` or ``.xz``). It is streamed in fixed-size blocks, so
a line of any length is read with bounded memory and trained in full. Counting
(:mod:`embedkit.text.vocabulary`) and encoding (:mod:`embedkit.text.encoded`) both read
it through :func:`iter_token_pieces`.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import CorpusError

READ_BLOCK_BYTES = 1 << 20
MAX_PIECE_CHARS = 1 << 22  # a line longer than this is handed on in pieces
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_BINARY_CONTROL = bytes(range(0, 9)) + bytes(range(14, 32))


def corpus_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files a corpus path stands for: the file itself, or every file in a folder.

    A folder is read recursively in sorted path order, skipping hidden files and folders.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"corpus {str(path)!r} does not exist")
    if not path.is_dir():
        return [path]
    files = sorted(
        p for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )  # fmt: skip
    if not files:
        raise CorpusError(f"corpus folder {str(path)!r} holds no files")
    return files


def open_corpus(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a corpus file for binary reading, decompressing by suffix."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"corpus {str(path)!r} does not exist")
    opener = _COMPRESSED.get(path.suffix.lower())
    try:
        return opener(path, "rb") if opener else open(path, "rb")
    except OSError as exc:
        raise CorpusError(f"cannot open corpus {str(path)!r}: {exc.strerror or exc}") from exc


def _looks_binary(block: bytes) -> bool:
    """Text has no NUL bytes and few control characters."""
    sample = block[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(sample.count(bytes([c])) for c in _BINARY_CONTROL)
    return controls > 0.05 * max(len(sample), 1)


@dataclass
class ReadStats:
    """What reading a corpus saw: lines, tokens and invalid UTF-8 replacements."""

    lines: int = 0
    tokens: int = 0
    replaced_chars: int = 0


def iter_token_pieces(
    path: str | os.PathLike[str], stats: ReadStats | None = None
) -> Iterator[tuple[list[str], bool]]:
    """Yield ``(tokens, ends_line)`` pieces of the corpus (a file, or every file of a folder).

    Most lines come as one piece with ``ends_line=True``. A line longer than
    ``MAX_PIECE_CHARS`` comes as several pieces, all but the last with ``ends_line=False``,
    so memory stays bounded. Invalid UTF-8 is replaced (and counted in ``stats``). A file
    ends its last line even without a final newline.
    """
    stats = stats if stats is not None else ReadStats()
    for file in corpus_files(path):
        yield from _iter_file_pieces(file, stats)


def _iter_file_pieces(path: Path, stats: ReadStats) -> Iterator[tuple[list[str], bool]]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    first = True
    try:
        with open_corpus(path) as stream:
            while True:
                raw = stream.read(READ_BLOCK_BYTES)
                if first and raw and _looks_binary(raw):
                    raise CorpusError(f"corpus {str(path)!r} looks like binary data, not text")
                first = False
                text = decoder.decode(raw, final=not raw)
                stats.replaced_chars += text.count("\ufffd")
                if pending:
                    text = pending + text
                lines = text.split("\n")
                pending = lines.pop()
                for line in lines:
                    tokens = line.split()
                    stats.lines += 1
                    stats.tokens += len(tokens)
                    yield tokens, True
                if len(pending) > MAX_PIECE_CHARS:
                    tokens = pending.split()
                    pending = "" if pending[-1].isspace() else tokens.pop()
                    stats.tokens += len(tokens)
                    yield tokens, False
                if not raw:
                    break
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise CorpusError(f"cannot read corpus {str(path)!r}: {exc}") from exc
    if pending:
        tokens = pending.split()
        stats.lines += 1
        stats.tokens += len(tokens)
        yield tokens, True
