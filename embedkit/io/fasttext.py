"""Facebook fastText's ``.bin`` model files: read (memory-mapped) and written.

A ``.bin`` file (fastText 0.9, version 12; version 11 is read too) is, all little-endian:
the magic ``793712314`` and the version (int32 each); the arguments (twelve int32: dim,
ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate; one
float64: t); the dictionary (int32 size, nwords, nlabels; int64 ntokens, pruneidx_size;
``size`` entries of a NUL-terminated word, an int64 count and an int8 type (0 word, 1
label); ``pruneidx_size`` pairs of int32); a quantisation flag (one byte); the input
matrix (int64 rows, int64 columns, float32 rows: the ``nwords`` word rows, then the
``bucket`` n-gram rows); a flag; the output matrix (the same layout).

Reading maps the file and never reads the input matrix into memory: the vocabulary's full
vectors (each word's own row averaged with its n-gram rows, as fastText's
``getWordVector``) are computed from the map by a numba kernel, and the bucket rows stay
mapped for unknown words. Every size in the header is checked against the file's length
before anything is allocated. Quantised models (``.ftz``) are refused; a supervised model
is read as the vectors of its words (its labels are left out). The output matrix of a
negative-sampling model is kept, mapped, as the training state ``syn1neg``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ..text.subwords import EOS, vocabulary_ngrams
from ..util import atomic_file
from ..vectors.subwords import SubwordVectors
from .fasttext_kernels import scan_dictionary
from .matrix import VectorData, VectorsLike, first_rows

MAGIC = 793712314
VERSION = 12
READ_VERSIONS = (11, 12)
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "skipgram", 3: "supervised"}
_HEAD = struct.Struct("<ii")
_ARGS = struct.Struct("<12id")
_ARG_NAMES = (
    "dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket", "minn", "maxn",
    "lrUpdateRate",
)  # fmt: skip
_DICT = struct.Struct("<iiiqq")
_SHAPE = struct.Struct("<qq")
_MAX_DIM = 1 << 20
_MAX_NGRAM = 64
_BLOCK = 1 << 24  # bytes written per chunk of a matrix


def is_fasttext_bin(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with fastText's magic number (told from content, not name)."""
    with open(path, "rb") as stream:
        head = stream.read(4)
    return len(head) == 4 and struct.unpack("<i", head)[0] == MAGIC


class _Reader:
    """Bounds-checked reads of the header parts of a memory-mapped ``.bin`` file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = (
            np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
        )
        self.size = int(self.data.shape[0])
        self.at = 0

    def fail(self, reason: str) -> FormatError:
        return FormatError(f"{str(self.path)!r} is not a usable fastText .bin model: {reason}")

    def left(self) -> int:
        return self.size - self.at

    def unpack(self, layout: struct.Struct, what: str) -> tuple[Any, ...]:
        if self.left() < layout.size:
            raise self.fail(f"the file ends inside the {what}")
        values = layout.unpack(bytes(self.data[self.at : self.at + layout.size]))
        self.at += layout.size
        return values

    def flag(self, what: str) -> bool:
        (value,) = self.unpack(struct.Struct("<B"), what)
        if value > 1:
            raise self.fail(f"the {what} is {value}, not 0 or 1")
        return bool(value)

    def matrix(self, rows: int, dim: int, what: str) -> np.ndarray:
        """The float32 matrix whose (rows, cols) header comes next, mapped read-only."""
        found = self.unpack(_SHAPE, f"{what} header")
        if found != (rows, dim):
            raise self.fail(f"the {what} is {found[0]} x {found[1]}, expected {rows} x {dim}")
        nbytes = rows * dim * 4
        if nbytes > self.left():
            raise self.fail(f"the file ends inside the {what} ({rows} x {dim} floats)")
        start = self.at
        self.at += nbytes
        if nbytes == 0:
            return np.zeros((rows, dim), dtype=np.float32)
        return np.ndarray((rows, dim), dtype="<f4", buffer=self.data, offset=start)


def _read_args(reader: _Reader) -> dict[str, Any]:
    magic, version = reader.unpack(_HEAD, "header")
    if magic != MAGIC:
        raise reader.fail("wrong magic number")
    if version not in READ_VERSIONS:
        raise reader.fail(f"file version {version}; this embedkit reads fastText versions 11 and 12")
    values = reader.unpack(_ARGS, "arguments")
    args: dict[str, Any] = dict(zip(_ARG_NAMES, values[:-1]))
    args["t"] = values[-1]
    args["version"] = version
    if not 0 < args["dim"] <= _MAX_DIM:
        raise reader.fail(f"dimension {args['dim']} is out of range")
    if args["bucket"] < 0 or not 0 <= args["minn"] <= _MAX_NGRAM or not 0 <= args["maxn"] <= _MAX_NGRAM:
        raise reader.fail(
            f"bucket {args['bucket']}, minn {args['minn']}, maxn {args['maxn']} are out of range"
        )
    if args["loss"] not in LOSSES or args["model"] not in MODELS:
        raise reader.fail(f"unknown loss {args['loss']} or model {args['model']}")
    if version == 11 and MODELS[args["model"]] == "supervised":
        args["maxn"] = 0  # as fastText: supervised models of version 11 use no character n-grams
    return args


def _read_dictionary(
    reader: _Reader, limit: int | None, unicode_errors: str
) -> tuple[list[str], np.ndarray, int, int]:
    """The words (labels left out), their counts, and how many words and labels there are."""
    size, nwords, nlabels, ntokens, pruneidx_size = reader.unpack(_DICT, "dictionary header")
    if min(size, nwords, nlabels, ntokens) < 0 or nwords + nlabels != size or pruneidx_size < -1:
        raise reader.fail(f"dictionary sizes {size}, {nwords}, {nlabels}, {pruneidx_size} are inconsistent")
    if size * 10 > reader.left():  # each entry takes at least 10 bytes
        raise reader.fail(f"the dictionary claims {size} entries, more than the file holds")
    starts, ends = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    counts, types = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int8)
    end = scan_dictionary(reader.data, reader.at, size, starts, ends, counts, types) if size else reader.at
    if end < 0:
        raise reader.fail(f"the file ends inside dictionary entry {-end} of {size}")
    if (types[:nwords] != 0).any() or (types[nwords:] != 1).any():
        raise reader.fail("the dictionary's entry types do not match its word and label counts")
    if (counts < 0).any():
        raise reader.fail("a dictionary entry has a negative count")
    if pruneidx_size >= 0:
        raise reader.fail("it is a pruned (quantised) model, which embedkit does not read")
    keep = nwords if limit is None else min(limit, nwords)
    raw = bytes(reader.data[reader.at : int(ends[keep - 1])]) if keep else b""
    base = reader.at
    try:
        bounds = zip((starts[:keep] - base).tolist(), (ends[:keep] - base).tolist())
        words = [raw[s:e].decode("utf-8", unicode_errors) for s, e in bounds]
    except UnicodeDecodeError as exc:
        raise reader.fail(f"a word is not UTF-8 ({exc.reason}); try unicode_errors='replace'") from None
    reader.at = end
    return words, counts[:keep], nwords, nlabels


def load_fasttext(
    path: str | os.PathLike[str], limit: int | None = None, unicode_errors: str = "strict"
) -> VectorData:
    """Read a fastText ``.bin`` model: the vocabulary's full vectors, and its n-gram half.

    ``limit`` keeps the first words (fastText sorts them by frequency) and drops the output
    matrix. Unknown words get the mean of their n-gram rows, as ``fasttext print-word-vectors``.
    """
    path = Path(path)
    reader = _Reader(path)
    args = _read_args(reader)
    words, counts, nwords, nlabels = _read_dictionary(reader, limit, unicode_errors)
    dim, buckets = args["dim"], args["bucket"]
    if reader.flag("quantisation flag"):
        raise reader.fail("it is a quantised model (.ftz), which embedkit does not read")
    matrix = reader.matrix(nwords + buckets, dim, "input matrix")
    reader.flag("output quantisation flag")
    supervised = MODELS[args["model"]] == "supervised"
    output = reader.matrix(nlabels if supervised else nwords, dim, "output matrix")
    if reader.left():
        raise reader.fail(f"{reader.left()} bytes follow the output matrix")
    index = first_rows(words)
    word_input, ngrams = matrix[: len(words)], matrix[nwords:]
    minn, maxn = args["minn"], args["maxn"]
    if len(index) != len(words):  # two words alike once decoded: keep the first, as gensim does
        keep = np.fromiter(index.values(), dtype=np.int64, count=len(index))
        words, counts, word_input = list(index), counts[keep], word_input[keep]
        index = first_rows(words)
    offsets, ids = vocabulary_ngrams(words, minn, maxn, buckets)
    sub = SubwordVectors(minn, maxn, buckets, word_input, ngrams, offsets, ids)
    state = {}
    if limit is None and not supervised and LOSSES[args["loss"]] == "ns" and len(words) == nwords:
        state = {"syn1neg": output, "syn0": word_input, "ngrams": ngrams}
    meta = {"fasttext": args, "training": _training_meta(args)}
    return VectorData(words, sub.word_vectors(), counts, meta, index=index, state=state, subwords=sub)


def _training_meta(args: dict[str, Any]) -> dict[str, Any]:
    """fastText's arguments under embedkit's names (what ``embedkit info`` shows)."""
    return {
        "algorithm": f"fastText {MODELS[args['model']]}, {LOSSES[args['loss']]}",
        "dim": args["dim"], "window": args["ws"], "epochs": args["epoch"], "min_count": args["minCount"],
        "negative": args["neg"], "sample": args["t"], "cbow": args["model"] == 1,
        "minn": args["minn"], "maxn": args["maxn"], "bucket": args["bucket"],
    }  # fmt: skip


def _arguments(vectors: VectorsLike, sub: SubwordVectors | None) -> bytes:
    training = (vectors.meta or {}).get("training", {})
    if not isinstance(training, dict):
        training = {}

    def setting(name: str, default: Any, kind: type) -> Any:
        value = training.get(name, default)
        return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default

    return _ARGS.pack(
        vectors.dim,
        setting("window", 5, int),
        setting("epochs", 5, int),
        setting("min_count", 5, int),
        setting("negative", 5, int),
        1,  # wordNgrams
        2,  # loss: negative sampling
        1 if training.get("cbow") else 2,  # model: cbow or skipgram
        0 if sub is None else sub.buckets,
        0 if sub is None else sub.minn,
        0 if sub is None else sub.maxn,
        100,  # lrUpdateRate
        setting("sample", 1e-4, float),
    )


def _write_matrix(out: Any, matrix: np.ndarray) -> None:
    rows = max(1, _BLOCK // max(1, matrix.shape[1] * 4))
    for start in range(0, matrix.shape[0], rows):
        out.write(np.ascontiguousarray(matrix[start : start + rows], dtype="<f4").tobytes())


def save_fasttext(vectors: VectorsLike, path: str | os.PathLike[str]) -> None:
    """Write a fastText ``.bin`` model (version 12) that ``fasttext`` and gensim load.

    A subword model writes its word rows and bucket rows; plain vectors are written as a
    model without n-grams (``maxn`` 0, no buckets), each word's row its vector. The output
    matrix is the ``syn1neg`` training state when there is one, else zeros (as fastText
    starts it). Counts default to 1 when unknown.
    """
    sub = getattr(vectors, "subwords", None)
    words = vectors.words
    encoded = [w.encode("utf-8") for w in words]
    if any(not w or b"\0" in w for w in encoded):
        bad = next(w for w in words if not w or "\0" in w)
        raise FormatError(f"word {bad!r} cannot be stored in a fastText .bin (empty or has a NUL byte)")
    counts = np.ones(len(words), np.int64) if vectors.counts is None else np.asarray(vectors.counts, np.int64)
    dim = vectors.dim
    word_input = vectors.vectors if sub is None else sub.word_input
    buckets = 0 if sub is None else sub.buckets
    output = (vectors.state or {}).get("syn1neg")
    if output is not None and output.shape != (len(words), dim):
        output = None
    entry_tail = struct.Struct("<qb")
    with atomic_file(path) as tmp, open(tmp, "wb") as out:
        out.write(_HEAD.pack(MAGIC, VERSION))
        out.write(_arguments(vectors, sub))
        out.write(_DICT.pack(len(words), len(words), 0, int(counts.sum()), -1))
        out.write(b"".join(w + b"\0" + entry_tail.pack(int(c), 0) for w, c in zip(encoded, counts.tolist())))
        out.write(b"\0")  # input matrix not quantised
        out.write(_SHAPE.pack(len(words) + buckets, dim))
        _write_matrix(out, word_input)
        if sub is not None:
            _write_matrix(out, sub.ngrams)
        out.write(b"\0")
        out.write(_SHAPE.pack(len(words), dim))
        if output is not None:
            _write_matrix(out, output)
        else:
            zeros = np.zeros((max(1, _BLOCK // (dim * 4)), dim), dtype="<f4")
            for start in range(0, len(words), zeros.shape[0]):
                out.write(zeros[: min(zeros.shape[0], len(words) - start)].tobytes())


__all__ = ["EOS", "MAGIC", "is_fasttext_bin", "load_fasttext", "save_fasttext"]
