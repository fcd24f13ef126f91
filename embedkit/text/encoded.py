"""A corpus encoded as int32 word ids in a file, with its line boundaries, read in chunks.

Training and phrase detection both work on this one type: the text is read once more
(:func:`encode_corpus`), written as ids to a scratch file, and every later pass reads
line-aligned chunks of it through short-lived read-only memory maps, so the memory held
stays near the pages in use whatever the corpus size.
"""

from __future__ import annotations

import itertools
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import CorpusError
from ..util import describe_source
from .reader import ReadStats, iter_token_pieces

FLUSH_TOKENS = 1 << 20
"""Ids buffered in memory before they are appended to the file."""


class WordIndex(Protocol):
    """Anything with a ``word -> id`` dict: a :class:`~embedkit.text.vocabulary.Vocabulary`,
    or the growing token table of phrase detection."""

    index: dict[str, int]


@dataclass
class EncodedCorpus:
    """The corpus as word ids in an int32 file; line ``i`` is ids ``line_starts[i]:line_starts[i + 1]``."""

    path: Path
    line_starts: np.ndarray
    raw_tokens: int
    """Tokens of the text before encoding (words outside the vocabulary included)."""

    @property
    def n_tokens(self) -> int:
        """Ids in the file."""
        return int(self.line_starts[-1])

    def read(self, start: int, stop: int) -> np.ndarray:
        """Ids ``start:stop`` as a read-only memory map of just that range."""
        return read_ids(self.path, start, stop)

    @property
    def tokens(self) -> np.ndarray:
        """All ids, memory-mapped."""
        return self.read(0, self.n_tokens)

    def chunks(self, chunk_tokens: int, *, split_long_lines: bool = True) -> list[np.ndarray]:
        """Line bounds of chunks of about ``chunk_tokens`` ids (see :func:`make_chunks`)."""
        return make_chunks(self.line_starts, chunk_tokens, split_long_lines=split_long_lines)

    def line_aligned_pieces(self, chunk_tokens: int) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """Yield ``(ids, bounds, first line)`` of whole-line chunks of about ``chunk_tokens`` ids.

        A line longer than ``chunk_tokens`` is a chunk of its own (never cut), and chunks of
        empty lines come with no ids, so a pass over them sees every line once."""
        for a, b in _line_ranges(self.line_starts, chunk_tokens):
            bounds = self.line_starts[a : b + 1]
            yield np.asarray(self.read(int(bounds[0]), int(bounds[-1]))), bounds, a


def read_ids(path: str | os.PathLike[str], start: int, stop: int) -> np.ndarray:
    """Ids ``start:stop`` of an encoded corpus file as a read-only memory map of just that range
    (a cluster worker reads its shard by path)."""
    count = max(0, stop - start)
    if count == 0:
        return np.empty(0, dtype=np.int32)
    return np.memmap(path, dtype=np.int32, mode="r", offset=4 * start, shape=(count,))


def _line_ranges(line_starts: np.ndarray, chunk_tokens: int) -> list[tuple[int, int]]:
    """Runs ``(first line, end line)`` of whole lines holding about ``chunk_tokens`` ids each."""
    marks = np.arange(chunk_tokens, int(line_starts[-1]), chunk_tokens)
    cuts = np.unique(np.concatenate(([0], np.searchsorted(line_starts, marks), [len(line_starts) - 1])))
    return [(int(a), int(b)) for a, b in itertools.pairwise(cuts) if b > a]


def make_chunks(
    line_starts: np.ndarray, chunk_tokens: int, *, split_long_lines: bool = True
) -> list[np.ndarray]:
    """Group lines into chunks of about ``chunk_tokens`` tokens; each chunk is its line bounds.

    With ``split_long_lines`` a line longer than ``chunk_tokens`` is cut into pieces (a
    training window does not cross a cut), so every token of every line is trained however
    long the line is. The chunks are views of ``line_starts`` (or of its cut copy).
    """
    if split_long_lines:
        block = 1 << 20  # lengths in blocks: no temporary as large as line_starts
        pieces = (line_starts[i : i + block + 1] for i in range(0, len(line_starts), block))
        longest = max((int(np.diff(piece).max(initial=0)) for piece in pieces), default=0)
        if longest > chunk_tokens:
            cuts = [
                np.arange(start + chunk_tokens, stop, chunk_tokens)
                for start, stop in itertools.pairwise(line_starts)
                if stop - start > chunk_tokens
            ]
            line_starts = np.union1d(line_starts, np.concatenate(cuts))
    return [line_starts[a : b + 1] for a, b in _line_ranges(line_starts, chunk_tokens)]


def encode_corpus(
    path: str | os.PathLike[str],
    vocab: WordIndex,
    out_path: str | os.PathLike[str],
    *,
    add_words: bool = False,
    keep_empty_lines: bool = False,
    stats: ReadStats | None = None,
) -> EncodedCorpus:
    """Encode the corpus as int32 ids of ``vocab.index`` written to ``out_path``.

    Words outside the index are dropped (as word2vec and gensim do) and lines left empty
    are skipped; or, with ``add_words``, every new token gets the next id (added to
    ``vocab.index``, in first-seen order) and, with ``keep_empty_lines``, every input line
    keeps its place, as phrase detection needs to write one line per line.
    """
    stats = stats if stats is not None else ReadStats()
    index = vocab.index
    get = index.get
    setdefault = index.setdefault
    starts = array("q", [0])  # 8 bytes a line (a list of ints would take ~36)
    buffer = array("i")
    position = 0
    open_line = False
    with open(out_path, "wb") as out:
        for tokens, ends_line in iter_token_pieces(path, stats):
            ids = list(map(get, tokens))
            if None in ids:
                if add_words:
                    for k, token in enumerate(tokens):
                        if ids[k] is None:
                            ids[k] = setdefault(token, len(index))
                else:
                    ids = [i for i in ids if i is not None]
            buffer.extend(ids)  # type: ignore[arg-type]
            position += len(ids)
            open_line = open_line or bool(ids)
            if ends_line and (open_line or keep_empty_lines):
                starts.append(position)
                open_line = False
            if len(buffer) >= FLUSH_TOKENS:
                buffer.tofile(out)
                buffer = array("i")
        if open_line:
            starts.append(position)
        buffer.tofile(out)
    if position == 0:
        if add_words:
            raise CorpusError(f"{describe_source(path)} is empty (no tokens)")
        raise CorpusError(f"corpus {os.fspath(path)!r} has no words in the vocabulary")
    if len(index) >= 2**31 - 1:  # pragma: no cover - far beyond any real corpus
        raise CorpusError("corpus has more than 2**31 distinct tokens")
    return EncodedCorpus(Path(out_path), np.frombuffer(starts, dtype=np.int64), stats.tokens)
