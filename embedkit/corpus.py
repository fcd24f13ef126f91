"""Corpus reading, vocabulary building and encoding.

A corpus is a text file with one sentence or document per line, tokens separated by
whitespace (plain, ``.gz``, ``.bz2`` or ``.xz``). It is streamed in fixed-size blocks, so
a line of any length is read with bounded memory and trained in full. The corpus is read
twice: once to count words, once to encode the kept words as an int32 array file that
every epoch reads through a read-only memory map.
"""

from __future__ import annotations

import array
import bz2
import codecs
import gzip
import lzma
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import CorpusError

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


@dataclass
class Vocabulary:
    """Words kept for training (most frequent first) and their corpus counts."""

    words: list[str]
    counts: np.ndarray
    total_tokens: int
    index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {word: i for i, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @property
    def kept_tokens(self) -> int:
        """Number of corpus tokens whose word is in the vocabulary."""
        return int(self.counts.sum())


def build_vocabulary(
    path: str | os.PathLike[str], *, min_count: int = 5, stats: ReadStats | None = None
) -> Vocabulary:
    """Count the words of a corpus and keep those seen at least ``min_count`` times.

    Words are sorted by descending count, ties in order of first appearance (as gensim).
    """
    stats = stats if stats is not None else ReadStats()
    counter: Counter[str] = Counter()
    for tokens, _ in iter_token_pieces(path, stats):
        counter.update(tokens)
    if stats.tokens == 0:
        raise CorpusError(f"corpus {str(path)!r} is empty (no tokens)")
    kept = [(word, count) for word, count in counter.items() if count >= min_count]
    if not kept:
        top = max(counter.values())
        raise CorpusError(
            f"no word in {str(path)!r} occurs {min_count} times or more "
            f"(the most frequent occurs {top} times): lower --min-count"
        )
    kept.sort(key=lambda item: -item[1])  # stable: ties keep first-appearance order
    words = [word for word, _ in kept]
    counts = np.fromiter((count for _, count in kept), dtype=np.int64, count=len(kept))
    return Vocabulary(words=words, counts=counts, total_tokens=stats.tokens)


@dataclass
class EncodedCorpus:
    """The corpus as word ids in an int32 file, plus line boundaries.

    Line ``i`` is ids ``line_starts[i]:line_starts[i + 1]`` of the file; out-of-vocabulary
    words are dropped (as in word2vec and gensim) and lines left empty are skipped. Ranges
    are read through short-lived read-only memory maps, so memory held stays near the
    pages being trained, whatever the corpus size.
    """

    path: Path
    n_tokens: int
    line_starts: np.ndarray
    raw_tokens: int

    def read(self, start: int, stop: int) -> np.ndarray:
        """Ids ``start:stop`` as a read-only memory map of just that range."""
        count = max(0, stop - start)
        if count == 0:
            return np.empty(0, dtype=np.int32)
        return np.memmap(self.path, dtype=np.int32, mode="r", offset=4 * start, shape=(count,))

    @property
    def tokens(self) -> np.ndarray:
        """All ids, memory-mapped."""
        return self.read(0, self.n_tokens)


def encode_corpus(
    path: str | os.PathLike[str], vocab: Vocabulary, out_path: str | os.PathLike[str]
) -> EncodedCorpus:
    """Encode the corpus as int32 word ids written to ``out_path`` and memory-map it back."""
    index = vocab.index
    starts = array.array("q", [0])  # 8 bytes a line (a list of ints would take ~36)
    position = 0
    buffer: list[int] = []
    open_line = False
    with open(out_path, "wb") as out:
        for tokens, ends_line in iter_token_pieces(path):
            get = index.get
            ids = [i for i in map(get, tokens) if i is not None]
            buffer.extend(ids)
            position += len(ids)
            open_line = open_line or bool(ids)
            if ends_line and open_line:
                starts.append(position)
                open_line = False
            if len(buffer) >= 1 << 20:
                np.asarray(buffer, dtype=np.int32).tofile(out)
                buffer.clear()
        if open_line:
            starts.append(position)
        if buffer:
            np.asarray(buffer, dtype=np.int32).tofile(out)
    if position == 0:
        raise CorpusError(f"corpus {str(path)!r} has no words in the vocabulary")
    return EncodedCorpus(
        path=Path(out_path),
        n_tokens=position,
        line_starts=np.frombuffer(starts, dtype=np.int64),
        raw_tokens=vocab.total_tokens,
    )
