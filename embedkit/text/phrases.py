"""Phrase detection: join frequent collocations (``new_york``, ``bank_of_america``) into tokens.

The method is word2phrase's, as gensim's ``Phrases`` implements it. A candidate is a word,
any run of *connector words* (articles, prepositions, conjunctions: they may sit inside a
phrase but never start or end one), and the next word. Candidates are counted over the
corpus and scored, either as word2phrase does::

    default: (count(a…b) - min_count) / (count(a) * count(b)) * vocabulary_size

(``vocabulary_size`` is gensim's: word types plus candidate types), or by normalised
pointwise mutual information ("npmi", in [-1, 1], 0 for independent words). Candidates
scoring above ``threshold`` are phrases. Joining then reads each line left to right: a
candidate that is a phrase becomes one token (its words joined by ``_``), otherwise its
first word and connectors stay as they are and its last word may start the next
candidate. Each further pass repeats this on the joined corpus, so two passes can find
``new_york_city``.

The corpus is read once, as text, into a file of int32 word ids; counting, joining and
writing the joined corpus back as text run in compiled kernels
(:mod:`embedkit.text.phrase_kernels`) over that file (an
:class:`~embedkit.text.encoded.EncodedCorpus`), read in line-aligned chunks. Memory holds
the word list, the line offsets and the candidate table, which is pruned like gensim's
vocabulary when word plus candidate types exceed ``max_vocab_size`` (rarest first: all
entries counted fewer than 1, then 2, 3, … times).

>>> model = detect_phrases("corpus.txt", passes=2, out="joined.txt")  # doctest: +SKIP
>>> model.phrases["new_york"]  # doctest: +SKIP
512.3
>>> model[["i", "love", "new", "york"]]  # doctest: +SKIP
['i', 'love', 'new_york']
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CorpusError, FormatError, UsageError
from ..util import atomic_file, spool_stdin
from . import phrase_kernels as kernels
from .encoded import EncodedCorpus, encode_corpus
from .reader import ReadStats

ENGLISH_CONNECTOR_WORDS: frozenset[str] = frozenset(
    {"a", "an", "the", "for", "of", "with", "without", "at", "from", "to", "in", "on", "by", "and", "or"}
)
"""gensim's ``ENGLISH_CONNECTOR_WORDS``: articles, some prepositions and conjunctions."""

SCORINGS = ("default", "npmi")
DEFAULT_THRESHOLDS = {"default": 100.0, "npmi": 0.5}
CHUNK_TOKENS = 1 << 20
"""Ids per line-aligned chunk handed to a kernel."""
MAX_TRIE_NODES = 1 << 22  # distinct connector runs kept apart (more are never phrases)


@dataclass(frozen=True)
class Phrase:
    """One detected phrase: its parts (tokens of its pass), score and candidate count."""

    parts: tuple[str, ...]
    score: float
    count: int
    delimiter: str = "_"

    @property
    def token(self) -> str:
        """The joined token, e.g. ``bank_of_america``."""
        return self.delimiter.join(self.parts)


@dataclass
class PassReport:
    """What one pass counted: corpus words, word and candidate types, pruning, phrases."""

    corpus_words: int
    word_types: int
    candidate_types: int
    prunes: int
    phrases: int
    joined: int = 0
    seconds: float = 0.0


@dataclass
class PhraseModel:
    """Phrases found by :func:`detect_phrases`, pass by pass, best score first.

    ``model.phrases`` maps each joined token to its score; ``model[tokens]`` joins the
    phrases of one tokenised sentence; ``model.apply(corpus, out)`` writes a joined corpus.
    """

    passes: list[list[Phrase]]
    min_count: int
    threshold: float
    scoring: str
    connector_words: frozenset[str]
    delimiter: str = "_"
    reports: list[PassReport] = field(default_factory=list)
    _lookup: list[dict[tuple[str, tuple[str, ...], str], str]] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def phrases(self) -> dict[str, float]:
        """Every phrase token of every pass mapped to its score."""
        return {p.token: p.score for found in self.passes for p in found}

    def __len__(self) -> int:
        return sum(len(found) for found in self.passes)

    def __getitem__(self, sentence: Iterable[str]) -> list[str]:
        """Join the phrases of one tokenised sentence (all passes, in order)."""
        if self._lookup is None:
            self._lookup = [
                {(p.parts[0], p.parts[1:-1], p.parts[-1]): p.token for p in found} for found in self.passes
            ]
        tokens = list(sentence)
        for table in self._lookup:
            tokens = _join_sentence(tokens, table, self.connector_words)
        return tokens

    def apply(self, corpus: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[PassReport]:
        """Write ``corpus`` with this model's phrases joined to ``out`` (text, one line per line).

        The corpus is read once into a temporary id file; joining and writing run in
        compiled kernels. Returns one report per pass (``joined`` = phrases joined).
        """
        with tempfile.TemporaryDirectory(prefix="embedkit-phrases-") as scratch:
            corpus = spool_stdin(corpus, scratch)
            stream, vocab = _encode(corpus, Path(scratch) / "pass0.int32", ReadStats())
            reports = []
            for number, found in enumerate(self.passes, start=1):
                began = time.perf_counter()
                stream, joined = _apply_pass(
                    stream, vocab, found, self.connector_words, Path(scratch) / f"pass{number}.int32"
                )
                reports.append(PassReport(stream.n_tokens, 0, 0, 0, len(found), joined,
                                          time.perf_counter() - began))  # fmt: skip
            _write_text(stream, vocab, out)
        return reports

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save as text: a JSON header line, then ``pass<TAB>score<TAB>count<TAB>parts`` lines."""
        header = {"embedkit_phrases": 1, "min_count": self.min_count, "threshold": self.threshold,
                  "scoring": self.scoring, "delimiter": self.delimiter,
                  "connector_words": sorted(self.connector_words)}  # fmt: skip
        with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(header) + "\n")
            for number, found in enumerate(self.passes, start=1):
                for p in found:
                    handle.write(f"{number}\t{p.score!r}\t{p.count}\t{' '.join(p.parts)}\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PhraseModel:
        """Read a model written by :meth:`save`."""
        try:
            with open(path, encoding="utf-8") as handle:
                header = json.loads(handle.readline())
                if not isinstance(header, dict) or header.get("embedkit_phrases") != 1:
                    raise FormatError(f"{str(path)!r} is not an embedkit phrase model")
                passes: list[list[Phrase]] = []
                for line in handle:
                    number, score, count, parts = line.rstrip("\n").split("\t")
                    while len(passes) < int(number):
                        passes.append([])
                    passes[int(number) - 1].append(
                        Phrase(tuple(parts.split(" ")), float(score), int(count), header["delimiter"])
                    )
        except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
            raise FormatError(f"cannot read phrase model {str(path)!r}: {exc}") from exc
        return cls(passes, header["min_count"], header["threshold"], header["scoring"],
                   frozenset(header["connector_words"]), header["delimiter"])  # fmt: skip


def _join_sentence(
    tokens: list[str], table: dict[tuple[str, tuple[str, ...], str], str], connectors: frozenset[str]
) -> list[str]:
    """gensim's ``analyze_sentence`` with a fixed phrase table (pure Python, one sentence)."""
    out: list[str] = []
    start: str | None = None
    between: list[str] = []
    for word in tokens:
        if word in connectors:
            if start is None:
                out.append(word)
            else:
                between.append(word)
            continue
        if start is not None:
            phrase = table.get((start, tuple(between), word))
            if phrase is not None:
                out.append(phrase)
                start, between = None, []
                continue
            out.append(start)
            out.extend(between)
        start, between = word, []
    if start is not None:
        out.append(start)
        out.extend(between)
    return out


# --- the id stream -------------------------------------------------------------------------


@dataclass
class _Vocab:
    """Every token type of the stream, by id, and the reverse index."""

    words: list[str]
    index: dict[str, int]

    def add(self, word: str) -> int:
        i = self.index.setdefault(word, len(self.words))
        if i == len(self.words):
            self.words.append(word)
        return i


def _encode(corpus: str | os.PathLike[str], path: Path, stats: ReadStats) -> tuple[EncodedCorpus, _Vocab]:
    """Read the corpus once; write every token's id (first-seen order) to ``path``, one line per line."""
    vocab = _Vocab([], {})
    stream = encode_corpus(corpus, vocab, path, add_words=True, keep_empty_lines=True, stats=stats)
    vocab.words = list(vocab.index)
    return stream, vocab


def _connector_slots(vocab: _Vocab, connectors: frozenset[str]) -> np.ndarray:
    """Per id: its index among the connector words present, or -1."""
    slots = np.full(len(vocab.words), -1, dtype=np.int64)
    for k, word in enumerate(sorted(w for w in connectors if w in vocab.index)):
        slots[vocab.index[word]] = k
    return slots


def _bits(n_words: int) -> tuple[int, int]:
    """Bits for a word id and for a connector-run id in a 63-bit candidate key."""
    bits_v = max(1, (n_words - 1).bit_length())
    bits_m = 63 - 2 * bits_v
    if bits_m < 8:  # pragma: no cover - needs over 2**27 distinct tokens
        raise CorpusError(f"too many distinct tokens ({n_words:,}) for phrase detection")
    return bits_v, bits_m


def _capacity(n: int) -> int:
    """A power-of-two table size at least twice ``n`` (and at least 16)."""
    return 1 << max(4, (2 * n + 1).bit_length())


# --- one pass -------------------------------------------------------------------------------


@dataclass
class _Counts:
    keys: np.ndarray  # keys of the candidates counted at least min_count times
    counts: np.ndarray
    unigrams: np.ndarray
    nodes: np.ndarray  # (parent, connector id) of each connector-run trie node
    state: np.void  # the counting record (kernels.COUNT_STATE)
    bits_v: int
    max_nodes: int


def _count(
    stream: EncodedCorpus, vocab: _Vocab, slots: np.ndarray, max_vocab_size: int, min_count: int = 1
) -> _Counts:
    """Count words and candidates over the stream (bounded by ``max_vocab_size``).

    Only candidates counted at least ``min_count`` times are returned (no other can score
    above a threshold); ``state["candidate_types"]`` still counts them all.
    """
    bits_v, bits_m = _bits(len(vocab.words))
    max_nodes = min((1 << bits_m) - 1, MAX_TRIE_NODES)
    n_conn = max(1, int(slots.max()) + 1)
    unigrams = np.zeros(len(vocab.words), dtype=np.int64)
    expected = min(max_vocab_size, stream.n_tokens // 3)  # distinct candidates, roughly
    rows = 1 << max(16, (10 * expected // 7).bit_length())  # below the 0.7 load factor
    table, _ = kernels.phrase_table_build(np.empty((0, 2), dtype=np.int64), rows, 0)
    edges, _ = kernels.phrase_table_build(np.empty((0, 2), dtype=np.int64), 1 << 8, 0)
    nodes = np.zeros((1 << 7, 2), dtype=np.int64)
    state = kernels.new_count_state()
    for ids, bounds, _ in stream.line_aligned_pieces(CHUNK_TOKENS):
        table, edges, nodes = kernels.count_phrase_candidates(
            ids,
            bounds,
            slots,
            n_conn,
            unigrams,
            table,
            edges,
            nodes,
            state,
            max_vocab_size,
            bits_v,
            max_nodes,
        )
    kept = table[(table[:, 0] != -1) & (table[:, 1] >= min_count)]
    del table
    return _Counts(kept[:, 0].copy(), kept[:, 1].copy(), unigrams, nodes, state[0], bits_v, max_nodes)


def _score(c: _Counts, *, min_count: int, threshold: float, scoring: str, vocab: _Vocab,
           delimiter: str) -> list[Phrase]:  # fmt: skip
    """The candidates scoring above ``threshold`` (gensim's ``score_candidate``), best first."""
    bits_v = c.bits_v
    shift_a = 63 - bits_v
    a = c.keys >> shift_a
    m = (c.keys >> bits_v) & ((1 << (63 - 2 * bits_v)) - 1)
    b = c.keys & ((1 << bits_v) - 1)
    ca = c.unigrams[a].astype(np.float64)
    cb = c.unigrams[b].astype(np.float64)
    cab = c.counts.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if scoring == "default":
            len_vocab = int(c.state["candidate_types"] + c.state["word_types"])
            score = (cab - min_count) / (ca * cb) * len_vocab
        else:
            total = float(c.state["total_words"])
            pab = cab / total
            score = np.log(pab / ((ca / total) * (cb / total))) / -np.log(pab)
            score[cab < min_count] = -np.inf
    ok = (ca > 0) & (cb > 0) & (m != c.max_nodes) & (score > threshold)
    found = []
    for i in np.flatnonzero(ok):
        middle: list[str] = []
        node = int(m[i])
        while node:
            middle.append(vocab.words[int(c.nodes[node, 1])])
            node = int(c.nodes[node, 0])
        parts = (vocab.words[int(a[i])], *reversed(middle), vocab.words[int(b[i])])
        found.append(Phrase(parts, float(score[i]), int(c.counts[i]), delimiter))
    found.sort(key=lambda p: (-p.score, p.parts))
    return found


def _apply_pass(
    stream: EncodedCorpus, vocab: _Vocab, found: list[Phrase], connectors: frozenset[str], path: Path
) -> tuple[EncodedCorpus, int]:
    """Join the phrases ``found`` in the stream, writing the new stream to ``path``."""
    slots = _connector_slots(vocab, connectors)
    n_conn = max(1, int(slots.max()) + 1)
    edges: dict[tuple[int, int], int] = {}
    phrase_keys: list[tuple[int, int, int, int]] = []  # a, connector-run node, b, phrase id
    for p in found:
        ids = [vocab.index.get(word, -1) for word in p.parts]
        if min(ids) < 0 or any(slots[i] >= 0 for i in (ids[0], ids[-1])):
            continue  # a part absent from this corpus (or a connector here): never seen here
        if any(slots[i] < 0 for i in ids[1:-1]):
            continue
        node = 0
        for i in ids[1:-1]:
            node = edges.setdefault((node, int(slots[i])), len(edges) + 1)
        phrase_keys.append((ids[0], node, ids[-1], vocab.add(p.token)))
    slots = _connector_slots(vocab, connectors)  # the phrase tokens may have added ids
    bits_v, _ = _bits(len(vocab.words))
    rows = np.array([((a << (63 - bits_v)) | (node << bits_v) | b, pid) for a, node, b, pid in phrase_keys],
                    dtype=np.int64).reshape(-1, 2)  # fmt: skip
    phrases, _ = kernels.phrase_table_build(rows, _capacity(len(rows)), -1)
    edge_rows = np.array([(node * n_conn + slot, child) for (node, slot), child in edges.items()],
                         dtype=np.int64).reshape(-1, 2)  # fmt: skip
    edge_table, _ = kernels.phrase_table_build(edge_rows, _capacity(len(edge_rows)), -1)
    new_starts = np.empty_like(stream.line_starts)
    position = 0
    joined = 0
    with open(path, "wb") as out_file:
        for ids, bounds, first_line in stream.line_aligned_pieces(CHUNK_TOKENS):
            out = np.empty(ids.size, dtype=np.int32)
            out_bounds = np.empty(bounds.size, dtype=np.int64)
            joined += kernels.apply_phrases(
                ids, bounds, slots, n_conn, edge_table, phrases, bits_v, out, out_bounds
            )
            n = int(out_bounds[-1])
            out[:n].tofile(out_file)
            new_starts[first_line : first_line + bounds.size] = out_bounds + position
            position += n
    return EncodedCorpus(path, new_starts, stream.raw_tokens), joined


def _write_text(stream: EncodedCorpus, vocab: _Vocab, out: str | os.PathLike[str]) -> None:
    """Write the stream as text, one line per line, atomically (``-``: standard output)."""
    encoded = [word.encode("utf-8") for word in vocab.words]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    if blob.size == 0:  # pragma: no cover - no words at all
        blob = np.zeros(1, dtype=np.uint8)

    def write(handle) -> None:  # type: ignore[no-untyped-def]
        for ids, bounds, _ in stream.line_aligned_pieces(CHUNK_TOKENS):
            need = int(lengths[ids].sum()) + ids.size + bounds.size
            buffer = np.empty(need, dtype=np.uint8)
            n = kernels.render_lines(ids, bounds, blob, offsets, buffer)
            handle.write(memoryview(buffer[:n]))

    if os.fspath(out) == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    with atomic_file(out) as tmp, open(tmp, "wb") as handle:
        write(handle)


# --- the public entry point -----------------------------------------------------------------


def check_settings(*, min_count: int, threshold: float | None, scoring: str, passes: int,
                   max_vocab_size: int) -> float:  # fmt: skip
    """Validate phrase settings (raising :class:`UsageError`); return the threshold to use."""
    if scoring not in SCORINGS:
        raise UsageError(f"unknown scoring {scoring!r}: choose default (word2phrase) or npmi")
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[scoring]
    if not math.isfinite(threshold) or threshold < 0 or (scoring == "default" and threshold == 0):
        raise UsageError(f"threshold must be positive, got {threshold}")
    if scoring == "npmi" and threshold > 1:
        raise UsageError(f"npmi threshold must be between 0 and 1, got {threshold}")
    if min_count < 1:
        raise UsageError(f"min_count must be at least 1, got {min_count}")
    if not 1 <= passes <= 10:
        raise UsageError(f"passes must be between 1 and 10, got {passes}")
    if max_vocab_size < 1:
        raise UsageError(f"max_vocab_size must be at least 1, got {max_vocab_size}")
    return float(threshold)


def detect_phrases(
    corpus: str | os.PathLike[str],
    *,
    min_count: int = 5,
    threshold: float | None = None,
    scoring: str = "default",
    connector_words: Iterable[str] = ENGLISH_CONNECTOR_WORDS,
    max_vocab_size: int = 40_000_000,
    passes: int = 2,
    delimiter: str = "_",
    out: str | os.PathLike[str] | None = None,
) -> PhraseModel:
    """Find the phrases of ``corpus`` in ``passes`` passes; with ``out``, also write the joined corpus.

    Each pass is one gensim ``Phrases`` model trained on the previous pass's output
    (``passes=1`` is ``Phrases(sentences)``; word2vec's demo runs word2phrase twice).

    ``corpus`` is a text file (one sentence per line; ``.gz``/``.bz2``/``.xz``), a folder of
    them or ``-`` (standard input). ``threshold`` defaults to 100 for ``scoring="default"``
    (word2phrase's value) and 0.5 for ``"npmi"``. ``connector_words`` may sit inside a phrase
    but not at its ends (pass ``()`` for plain bigrams). ``max_vocab_size`` caps word plus
    candidate types held while counting (about 32 bytes each); past it the rarest are pruned
    as gensim does. ``out`` (a path, or ``-`` for standard output) receives the corpus with
    every pass's phrases joined, one line per input line, tokens separated by one space.
    The results agree with gensim's ``Phrases`` (see ``tests/test_phrases.py``).
    """
    threshold = check_settings(min_count=min_count, threshold=threshold, scoring=scoring,
                               passes=passes, max_vocab_size=max_vocab_size)  # fmt: skip
    connectors = frozenset(connector_words)
    if not delimiter or any(ch.isspace() for ch in delimiter):
        raise UsageError(f"delimiter must be a non-empty string without spaces, got {delimiter!r}")
    model = PhraseModel([], min_count, threshold, scoring, connectors, delimiter)
    with tempfile.TemporaryDirectory(prefix="embedkit-phrases-") as scratch:
        corpus = spool_stdin(corpus, scratch)
        stats = ReadStats()
        stream, vocab = _encode(corpus, Path(scratch) / "pass0.int32", stats)
        if stats.replaced_chars:
            warnings.warn(
                f"{stats.replaced_chars:,} invalid UTF-8 sequences in the corpus were replaced by U+FFFD",
                stacklevel=2,
            )
        for number in range(1, passes + 1):
            began = time.perf_counter()
            slots = _connector_slots(vocab, connectors)
            counted = _count(stream, vocab, slots, max_vocab_size, min_count)
            found = _score(counted, min_count=min_count, threshold=threshold, scoring=scoring,
                           vocab=vocab, delimiter=delimiter)  # fmt: skip
            state = counted.state
            if state["overflow"]:
                message = f"more than {MAX_TRIE_NODES:,} distinct connector runs: the rest are never phrases"
                warnings.warn(message, stacklevel=2)
            report = PassReport(int(state["total_words"]), int(state["word_types"]),
                                int(state["candidate_types"]), int(state["prunes"]), len(found))  # fmt: skip
            del counted
            if found and (number < passes or out is not None):
                previous = stream.path
                stream, report.joined = _apply_pass(
                    stream, vocab, found, connectors, Path(scratch) / f"pass{number}.int32"
                )
                os.unlink(previous)
            report.seconds = time.perf_counter() - began
            model.passes.append(found)
            model.reports.append(report)
            if not found:
                break
        if out is not None:
            _write_text(stream, vocab, out)
    return model
