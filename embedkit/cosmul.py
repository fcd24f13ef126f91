"""3CosMul (Levy and Goldberg 2014) re-ranked exactly over candidates from an index.

The score of a word ``x`` for positive words ``p_i`` and negative words ``n_j`` is, as in
gensim's ``most_similar_cosmul``::

    Π_i (1 + cos(x, p_i)) / 2  /  (Π_j (1 + cos(x, n_j)) / 2 + 1e-6)

Candidates are the nearest words of the additive direction Σp_i − Σn_j (one FAISS search
for all queries); their scores are computed exactly. For one negative word (analogies) or
none, a bound proves the answer exact: a word outside the candidates has
Σcos(x, p_i) − cos(x, n) at most the additive score of the last candidate, and
cos(x, n) at least the lowest cosine of any word with n (found by a second search, for
-n); the largest 3CosMul such a word can reach is computed in closed form. When the k-th
best candidate beats that bound the answer is exact; otherwise, on an exact index, the
query is answered by a full scan (as gensim does), and on an approximate index the
candidates' answer stands.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .index import IndexConfig

EPS = 1e-6
CANDIDATES = 200
_CHUNK = 256


def _scores(unit: np.ndarray, cand: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """3CosMul of the candidate rows ``cand`` (queries × candidates) for each query."""
    out = np.empty(cand.shape, dtype=np.float32)
    for start in range(0, cand.shape[0], _CHUNK):
        part = slice(start, start + _CHUNK)
        rows = unit[np.maximum(cand[part], 0)]
        num = np.ones(rows.shape[:2], dtype=np.float32)
        for col in range(pos.shape[1]):
            num *= (1 + np.einsum("qcd,qd->qc", rows, unit[pos[part, col]])) / 2
        den = np.ones(rows.shape[:2], dtype=np.float32)
        for col in range(neg.shape[1]):
            den *= (1 + np.einsum("qcd,qd->qc", rows, unit[neg[part, col]])) / 2
        out[part] = num / (den + np.float32(EPS))
    return out


def _bound(threshold: np.ndarray, norms: np.ndarray, r_min: np.ndarray | None, n_pos: int) -> np.ndarray:
    """Largest 3CosMul a word outside the candidates can reach (at most one negative word).

    With P_i = 1 + cos(x, p_i) in [0, 2] and R = 1 + cos(x, n) in [r_min, 2], the words
    outside the candidates have ΣP_i − R ≤ T. For a given R the product is largest with
    equal P_i = (T + R) / n_pos (clipped to [0, 2]); as a function of R the quotient first
    falls then rises until the clip, and falls after it, so its maximum over [r_min, 2] is
    at r_min or at the clip point.
    """
    slack = 1e-4  # float32 rounding of FAISS's scores and of the norms
    if r_min is None:
        total = threshold * norms + n_pos + slack
        return (np.clip(total / n_pos, 0, 2) / 2) ** n_pos / (1 + EPS)
    total = threshold * norms + n_pos - 1 + slack
    r_min = np.clip(r_min - slack, 0, 2)

    def quotient(r: np.ndarray) -> np.ndarray:
        return (np.clip((total + r) / n_pos, 0, 2) / 2) ** n_pos / (r / 2 + EPS)

    clip_point = np.clip(2 * n_pos - total, r_min, 2)
    return np.maximum(np.maximum(quotient(r_min), quotient(clip_point)), quotient(np.full_like(r_min, 2)))


def _full_scan(
    unit: np.ndarray, rows: int, pos: np.ndarray, neg: np.ndarray, exclude: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """3CosMul over the first ``rows`` words for each query, as gensim computes it."""
    searchable = unit[:rows]
    k = min(k, rows)
    scores = np.full((pos.shape[0], k), -np.inf, dtype=np.float32)
    ids = np.full((pos.shape[0], k), -1, dtype=np.int64)
    for q in range(pos.shape[0]):
        num = np.ones(rows, dtype=np.float32)
        for p in pos[q]:
            num *= (1 + searchable @ unit[p]) / 2
        den = np.ones(rows, dtype=np.float32)
        for n in neg[q]:
            den *= (1 + searchable @ unit[n]) / 2
        dists = num / (den + np.float32(EPS))
        skip = exclude[q][(exclude[q] >= 0) & (exclude[q] < rows)]
        dists[skip] = -np.inf
        best = np.argpartition(-dists, k - 1)[:k] if k < rows else np.arange(rows)
        best = best[np.argsort(-dists[best], kind="stable")]
        keep = np.isfinite(dists[best])
        scores[q, : keep.sum()] = dists[best][keep]
        ids[q, : keep.sum()] = best[keep]
    return scores, ids


def cosmul_search(
    unit: np.ndarray,
    searcher: Any,
    limit: int | None,
    config: IndexConfig,
    pos: np.ndarray,
    neg: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` 3CosMul ``(scores, ids)`` per query (ids -1 where fewer words exist).

    ``pos`` and ``neg`` hold each query's positive and negative rows (same count per query).
    """
    nq = pos.shape[0]
    rows = limit if limit is not None else searcher.size
    exclude = np.concatenate([pos, neg], axis=1)
    if nq == 0 or rows == 0:
        return np.zeros((nq, 0), dtype=np.float32), np.zeros((nq, 0), dtype=np.int64)
    direction = unit[pos].sum(axis=1) - unit[neg].sum(axis=1)
    norms = np.linalg.norm(direction, axis=1)
    queries = np.ascontiguousarray(direction / np.where(norms > 0, norms, 1)[:, None], dtype=np.float32)
    want = min(rows, max(CANDIDATES, 20 * k) + exclude.shape[1])
    add_scores, cand = searcher.search_arrays(queries, want, config, limit)
    scores = _scores(unit, cand, pos, neg)
    bad = (cand < 0) | (cand[:, :, None] == exclude[:, None, :]).any(axis=2)
    scores[bad] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top_scores = np.take_along_axis(scores, order, axis=1)
    top_ids = np.take_along_axis(cand, order, axis=1)
    top_ids[~np.isfinite(top_scores)] = -1
    if want >= rows:  # every word was a candidate
        return top_scores, top_ids
    exact = getattr(searcher, "kind", "exact") == "exact"
    if neg.shape[1] <= 1:
        r_min = None
        if neg.shape[1] == 1:
            anti = np.ascontiguousarray(-unit[neg[:, 0]])
            far, _ = searcher.search_arrays(anti, 1, config, limit)
            r_min = 1 - far[:, 0].astype(np.float64)
        bound = _bound(add_scores[:, -1].astype(np.float64), norms, r_min, pos.shape[1])
        kth = top_scores[:, -1] if top_scores.shape[1] == k else np.full(nq, -np.inf)
        unproven = np.flatnonzero(~(kth >= bound))
    else:
        unproven = np.arange(nq)
    if exact and unproven.size:
        full_scores, full_ids = _full_scan(unit, rows, pos[unproven], neg[unproven], exclude[unproven], k)
        top_scores[unproven, : full_scores.shape[1]] = full_scores
        top_ids[unproven, : full_ids.shape[1]] = full_ids
    return top_scores, top_ids
