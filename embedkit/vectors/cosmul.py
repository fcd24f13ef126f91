"""3CosMul (Levy and Goldberg 2014) re-ranked exactly over candidates from an index.

The score of a word ``x`` for positive words ``p_i`` and negative words ``n_j`` is, as in
gensim's ``most_similar_cosmul``::

    Π_i (1 + cos(x, p_i)) / 2  /  (Π_j (1 + cos(x, n_j)) / 2 + 1e-6)

Candidates come from one FAISS search holding, for every query, the additive direction
Σp_i − Σn_j, each positive word and each negated negative word: the nearest words of each.
Their scores are computed exactly. With at most one negative word (analogies), a bound
proves the answer exact: a word in none of the lists has its additive score, its cosine
with each p_i and its cosine with -n no higher than the last word of the list, and the
largest 3CosMul such a word could reach is found in closed form (:func:`bound`). When the
k-th best candidate reaches that bound the answer is exact; otherwise, on an exact index,
the query is answered by a full scan (as gensim does), and on an approximate index the
candidates' answer stands.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .index import IndexConfig

EPS = 1e-6
CANDIDATES = 100
_CHUNK = 128
_SLACK = 1e-4  # float32 rounding of FAISS's scores and of the norms


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


def _waterfill(total: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Largest Π P_i with Σ P_i ≤ total and 0 ≤ P_i ≤ caps_i (caps sorted ascending per row)."""
    n = caps.shape[1]
    product = np.ones(total.shape)
    remaining = np.maximum(total, 0).astype(np.float64)
    for i in range(n):
        level = np.minimum(caps[:, i], remaining / (n - i))  # equal shares, or the cap
        product *= level
        remaining = remaining - level
    return product


def bound(
    add_threshold: np.ndarray, norms: np.ndarray, cos_caps: np.ndarray, r_min: np.ndarray | None
) -> np.ndarray:
    """Largest 3CosMul of a word outside every candidate list (no or one negative word).

    Such a word has P_i = 1 + cos(x, p_i) ≤ 1 + ``cos_caps_i``, R = 1 + cos(x, n) ≥
    ``r_min`` and ΣP_i − R ≤ T (its additive score is at most the list's last). For a
    fixed R the best P_i fill the sum up to their caps (water-filling); between the points
    where a cap is reached the quotient first falls then rises with R (or only falls), so
    its maximum over R is at r_min, 2 or one of those points.
    """
    n_pos = cos_caps.shape[1]
    caps = np.sort(np.clip(1 + cos_caps.astype(np.float64) + _SLACK, 0, 2), axis=1)
    scale = 2.0**n_pos
    if r_min is None:
        total = add_threshold * norms + n_pos + _SLACK
        return _waterfill(total, caps) / scale / (1 + EPS)
    base = add_threshold * norms + n_pos - 1 + _SLACK  # ΣP_i ≤ base + R
    low = np.clip(r_min - _SLACK, 0, 2)
    points = [low, np.full_like(low, 2.0)]
    for j in range(n_pos):  # ΣP at which the j-th smallest cap is reached
        reach = caps[:, :j].sum(axis=1) + (n_pos - j) * caps[:, j]
        points.append(np.clip(reach - base, low, 2))
    best = np.zeros_like(low)
    for r in points:
        best = np.maximum(best, _waterfill(base + r, caps) / scale / (r / 2 + EPS))
    return best


def _full_scan(
    unit: np.ndarray, rows: int, pos: np.ndarray, neg: np.ndarray, exclude: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """3CosMul over the first ``rows`` words for each query, as gensim computes it (one
    matrix product per chunk of queries)."""
    searchable = unit[:rows]
    k = min(k, rows)
    nq, n_pos = pos.shape[0], pos.shape[1]
    terms = np.concatenate([pos, neg], axis=1)
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    ids = np.full((nq, k), -1, dtype=np.int64)
    chunk = max(1, (1 << 24) // max(1, rows * terms.shape[1]))
    for start in range(0, nq, chunk):
        part = terms[start : start + chunk]
        cosines = searchable @ unit[part.ravel()].T  # rows × (queries · terms)
        cosines = (1 + cosines.reshape(rows, part.shape[0], part.shape[1])) / 2
        num = cosines[:, :, :n_pos].prod(axis=2)
        den = cosines[:, :, n_pos:].prod(axis=2) if part.shape[1] > n_pos else np.float32(1)
        dists = (num / (den + np.float32(EPS))).T  # queries × rows
        for q in range(part.shape[0]):
            row = dists[q]
            skip = exclude[start + q]
            row[skip[(skip >= 0) & (skip < rows)]] = -np.inf
            best = np.argpartition(-row, k - 1)[:k] if k < rows else np.arange(rows)
            best = best[np.argsort(-row[best], kind="stable")]
            keep = np.isfinite(row[best])
            scores[start + q, : keep.sum()] = row[best][keep]
            ids[start + q, : keep.sum()] = best[keep]
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
    nq, n_pos, n_neg = pos.shape[0], pos.shape[1], neg.shape[1]
    rows = limit if limit is not None else searcher.size
    exclude = np.concatenate([pos, neg], axis=1)
    if nq == 0 or rows == 0:
        return np.zeros((nq, 0), dtype=np.float32), np.zeros((nq, 0), dtype=np.int64)
    direction = unit[pos].sum(axis=1) - unit[neg].sum(axis=1)
    norms = np.linalg.norm(direction, axis=1)
    lists = [direction / np.where(norms > 0, norms, 1)[:, None]]
    lists += [unit[pos[:, i]] for i in range(n_pos)]
    lists += [-unit[neg[:, j]] for j in range(n_neg)]
    want = min(rows, max(CANDIDATES, 10 * k) + exclude.shape[1])
    queries = np.ascontiguousarray(np.concatenate(lists), dtype=np.float32)
    found_scores, found = searcher.search_arrays(queries, want, config, limit)
    found_scores = found_scores.reshape(len(lists), nq, want)
    cand = found.reshape(len(lists), nq, want).transpose(1, 0, 2).reshape(nq, -1)
    cand = np.sort(cand, axis=1)
    cand[:, 1:][cand[:, 1:] == cand[:, :-1]] = -1  # each candidate once
    scores = _scores(unit, cand, pos, neg)
    bad = (cand < 0) | (cand[:, :, None] == exclude[:, None, :]).any(axis=2)
    scores[bad] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top_scores = np.take_along_axis(scores, order, axis=1)
    top_ids = np.take_along_axis(cand, order, axis=1)
    top_ids[~np.isfinite(top_scores)] = -1
    if want >= rows:  # every word was a candidate
        return top_scores, top_ids
    if n_neg <= 1:
        last = found_scores[:, :, -1].astype(np.float64)
        r_min = 1 - last[1 + n_pos] if n_neg else None  # cos(x, n) ≥ -(last cosine with -n)
        limit_ = bound(last[0], norms, last[1 : 1 + n_pos].T, r_min)
        kth = top_scores[:, -1] if top_scores.shape[1] == k else np.full(nq, -np.inf)
        unproven = np.flatnonzero(~(kth >= limit_))
    else:
        unproven = np.arange(nq)
    if getattr(searcher, "kind", "exact") == "exact" and unproven.size:
        full_scores, full_ids = _full_scan(unit, rows, pos[unproven], neg[unproven], exclude[unproven], k)
        top_scores[unproven, : full_scores.shape[1]] = full_scores
        top_ids[unproven, : full_ids.shape[1]] = full_ids
    return top_scores, top_ids
