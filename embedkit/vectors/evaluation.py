"""Standard evaluations: Google analogies and word-pair similarity (Spearman).

Both follow gensim's ``evaluate_word_analogies`` and ``evaluate_word_pairs`` (same
restriction to the most frequent words, same case folding, same handling of questions
with unknown words), but analogies are answered in batches of matrix products, so the
whole Google set takes seconds. Default data: the files shipped in gensim's wheel.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import EmbedkitError, FormatError
from .index import ExactIndex
from .store import Vectors

BATCH = 2048


def gensim_test_file(name: str) -> Path:
    """Path of an evaluation file shipped in the installed gensim package."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedkitError(
            f"no evaluation file given and gensim (which ships {name}) is not installed: "
            "pass a file or `pip install gensim`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data" / name
    if not path.is_file():
        raise EmbedkitError(f"gensim is installed but {name} is not in {path.parent}")
    return path


def _read_lines(path: str | os.PathLike[str]) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise FormatError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc


def _ok_vocab(vectors: Vectors, restrict: int, case_insensitive: bool) -> dict[str, int]:
    """Word (upper-cased if asked) → row among the ``restrict`` most frequent words."""
    words = vectors.words[:restrict]
    fold = str.upper if case_insensitive else (lambda w: w)
    return {fold(w): i for i, w in reversed(list(enumerate(words)))}


@dataclass
class AnalogyResult:
    """Accuracy overall, semantic/syntactic and per section, and questions skipped."""

    correct: int
    total: int
    skipped: int
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def _part(self, syntactic: bool) -> float:
        parts = [v for k, v in self.sections.items() if k.startswith("gram") == syntactic]
        total = sum(t for _, t in parts)
        return sum(c for c, _ in parts) / total if total else 0.0

    @property
    def semantic(self) -> float:
        return self._part(False)

    @property
    def syntactic(self) -> float:
        return self._part(True)

    def section_accuracy(self, name: str) -> float:
        correct, total = self.sections.get(name, (0, 0))
        return correct / total if total else 0.0


def evaluate_analogies(
    vectors: Vectors,
    path: str | os.PathLike[str] | None = None,
    *,
    restrict: int = 300_000,
    case_insensitive: bool = True,
) -> AnalogyResult:
    """Accuracy on a ``questions-words.txt``-style file (3CosAdd, as gensim).

    Questions with a word outside the ``restrict`` most frequent words are skipped and
    counted in ``skipped``. Default file: gensim's ``questions-words.txt``.
    """
    path = path or gensim_test_file("questions-words.txt")
    ok_vocab = _ok_vocab(vectors, restrict, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)
    questions: list[tuple[str, int, int, int, str]] = []
    sections: dict[str, tuple[int, int]] = {}
    section = None
    skipped = 0
    for line_no, line in enumerate(_read_lines(path), start=1):
        if line.startswith(": "):
            section = line[2:].strip()
            sections.setdefault(section, (0, 0))
            continue
        parts = [fold(w) for w in line.split()]
        if len(parts) != 4:
            continue
        if section is None:
            raise FormatError(f"{str(path)!r}, line {line_no}: question before any ': section' line")
        if any(w not in ok_vocab for w in parts):
            skipped += 1
            continue
        a, b, c, expected = parts
        questions.append((section, ok_vocab[a], ok_vocab[b], ok_vocab[c], expected))

    unit = vectors.unit_vectors[: len(vectors.words[:restrict])]
    index = ExactIndex(unit)  # FAISS's blocked GEMM + heap top-k: far faster than argpartition
    top = min(5, unit.shape[0])  # gensim looks at the 5 best answers, query words excluded
    counts = {name: [0, 0] for name in sections}
    for start in range(0, len(questions), BATCH):
        batch = questions[start : start + BATCH]
        ids = np.array([q[1:4] for q in batch], dtype=np.int64)
        query = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]
        _, found = index.search_arrays(query, min(top + 3, unit.shape[0]))
        for (name, a, b, c, expected), row in zip(batch, found):
            candidates = [int(i) for i in row if i >= 0 and i not in (a, b, c)][:top]
            ignore = {fold(vectors.words[a]), fold(vectors.words[b]), fold(vectors.words[c])}
            predicted = None
            for cand in candidates:
                predicted = fold(vectors.words[cand])
                if predicted not in ignore:
                    break
            counts[name][1] += 1
            counts[name][0] += predicted == expected
    result_sections = {name: (c, t) for name, (c, t) in counts.items()}
    return AnalogyResult(
        correct=sum(c for c, _ in result_sections.values()),
        total=sum(t for _, t in result_sections.values()),
        skipped=skipped,
        sections=result_sections,
    )


def _rank(values: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (as scipy's ``rankdata``)."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two equally long samples."""
    rx, ry = _rank(np.asarray(x, dtype=np.float64)), _rank(np.asarray(y, dtype=np.float64))
    if len(rx) < 2 or rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


@dataclass
class SimilarityResult:
    """Correlation of model cosines with human scores, and the pairs out of vocabulary."""

    spearman: float
    pearson: float
    pairs: int
    oov: int

    @property
    def oov_ratio(self) -> float:
        total = self.pairs + self.oov
        return self.oov / total if total else 0.0


def evaluate_similarity(
    vectors: Vectors,
    path: str | os.PathLike[str] | None = None,
    *,
    restrict: int = 300_000,
    case_insensitive: bool = True,
) -> SimilarityResult:
    """Spearman and Pearson correlation on a tab-separated ``word1 word2 score`` file.

    Lines starting with ``#`` are comments; pairs with an unknown word are skipped and
    counted. Default file: gensim's ``wordsim353.tsv``.
    """
    path = path or gensim_test_file("wordsim353.tsv")
    ok_vocab = _ok_vocab(vectors, restrict, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)
    gold, model = [], []
    oov = 0
    unit = vectors.unit_vectors
    for line in _read_lines(path):
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        try:
            score = float(parts[2])
        except ValueError:
            continue
        a, b = fold(parts[0]), fold(parts[1])
        if a not in ok_vocab or b not in ok_vocab:
            oov += 1
            continue
        gold.append(score)
        model.append(float(unit[ok_vocab[a]] @ unit[ok_vocab[b]]))
    if len(gold) < 2:
        nan = float("nan")
        return SimilarityResult(spearman=nan, pearson=nan, pairs=len(gold), oov=oov)
    pearson = float(np.corrcoef(gold, model)[0, 1])
    return SimilarityResult(spearman=spearman(gold, model), pearson=pearson, pairs=len(gold), oov=oov)
