"""Built-in epoch callbacks (see :data:`embedkit.training.core.EpochCallback`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from ..vectors.evaluation import evaluate_analogies, evaluate_similarity, gensim_test_file
from ..vectors.store import Vectors


@dataclass
class EvaluateEachEpoch:
    """After each epoch, score Google analogies and WordSim-353 and print one line
    (``embedkit train ... --eval-every-epoch``); the scores are kept in :attr:`history`.

    ``restrict`` limits both to the most frequent words, as the benchmarks do.
    """

    restrict: int = 30_000
    write: Callable[[str], object] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    history: list[dict[str, float]] = field(default_factory=list)

    def __call__(self, epoch: int, loss: float, vectors: Vectors) -> None:
        analogies = evaluate_analogies(vectors, restrict=self.restrict)
        ws353 = evaluate_similarity(vectors, gensim_test_file("wordsim353.tsv"), restrict=self.restrict)
        scores = {"epoch": epoch, "loss": loss, "analogy": analogies.accuracy, "ws353": ws353.spearman}
        self.history.append(scores)
        self.write(
            f"epoch {epoch}: loss {loss:.4f}, analogies {analogies.accuracy:.1%} (semantic "
            f"{analogies.semantic:.1%}, syntactic {analogies.syntactic:.1%}), WS353 {ws353.spearman:.3f}"
        )
