"""Nearest-neighbour search over unit-normalised vectors with FAISS.

Cosine similarity of unit vectors is their inner product, so an exact ``IndexFlatIP``
answers "which words are closest to this direction". Query words are excluded by asking
FAISS for a few more neighbours than needed and filtering them out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import faiss
import numpy as np


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Unit-length copy of each row (zero rows stay zero), float32 and C-contiguous."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


class ExactIndex:
    """Exact inner-product search (FAISS ``IndexFlatIP``) over unit vectors."""

    def __init__(self, unit_vectors: np.ndarray) -> None:
        unit_vectors = np.ascontiguousarray(unit_vectors, dtype=np.float32)
        self.size, self.dim = unit_vectors.shape
        self.index = faiss.IndexFlatIP(self.dim)
        self.index.add(unit_vectors)

    def search(
        self, queries: np.ndarray, k: int, exclude: Sequence[Collection[int]] = ()
    ) -> list[list[tuple[int, float]]]:
        """Top-``k`` (row, cosine) pairs for each query row, skipping its ``exclude`` rows."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        extra = max((len(ex) for ex in exclude), default=0)
        want = min(k + extra, self.size)
        if want <= 0:
            return [[] for _ in range(queries.shape[0])]
        scores, ids = self.index.search(queries, want)
        results = []
        for row in range(queries.shape[0]):
            skip = exclude[row] if row < len(exclude) else ()
            hits = [
                (int(i), float(score))
                for i, score in zip(ids[row], scores[row])
                if i >= 0 and int(i) not in skip
            ]
            results.append(hits[:k])
        return results
