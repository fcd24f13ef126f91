"""The vocabulary: words kept for training (most frequent first) and their corpus counts."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from ..errors import CorpusError
from .reader import ReadStats, iter_token_pieces


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
    path: str | os.PathLike[str],
    *,
    min_count: int = 5,
    stats: ReadStats | None = None,
    known: Collection[str] = (),
) -> Vocabulary:
    """Count the words of a corpus and keep those seen at least ``min_count`` times.

    Words are sorted by descending count, ties in order of first appearance (as gensim).
    Words in ``known`` (a model's vocabulary, when training continues on new text) are kept
    with whatever count they have here, zero included, so that their counts can be added up.
    """
    stats = stats if stats is not None else ReadStats()
    counter: Counter[str] = Counter()
    for tokens, _ in iter_token_pieces(path, stats):
        counter.update(tokens)
    if stats.tokens == 0:
        raise CorpusError(f"corpus {str(path)!r} is empty (no tokens)")
    kept = [(word, count) for word, count in counter.items() if count >= min_count or word in known]
    kept += [(word, 0) for word in known if word not in counter]
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
