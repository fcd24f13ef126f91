"""embedkit: train, query and share word embeddings (skip-gram with negative sampling).

>>> import embedkit  # doctest: +SKIP
>>> vectors = embedkit.train("corpus.txt", dim=100, epochs=5)  # doctest: +SKIP
>>> vectors.analogy("spain", "madrid", "france", k=1)  # doctest: +SKIP
[('paris', 0.71...)]
"""

from __future__ import annotations

from .errors import CorpusError, EmbedkitError, FormatError, UnknownWordError, UsageError
from .text.phrases import PhraseModel, detect_phrases
from .training import train
from .training.core import StopTraining
from .vectors.evaluation import evaluate_analogies, evaluate_similarity
from .vectors.index import get_threads, set_threads
from .vectors.store import Vectors, load
from .vectors.subwords import SubwordVectors
from .version import __version__

__all__ = [
    "CorpusError",
    "EmbedkitError",
    "FormatError",
    "PhraseModel",
    "StopTraining",
    "SubwordVectors",
    "UnknownWordError",
    "UsageError",
    "Vectors",
    "__version__",
    "detect_phrases",
    "evaluate_analogies",
    "evaluate_similarity",
    "get_threads",
    "load",
    "set_threads",
    "train",
]
