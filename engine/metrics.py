"""Top-K ranking metrics: over recommendation lists (vectorised over users), and over search results
with graded judgments (per query).

Recommendation metrics follow implicit's evaluation: binary relevance, and the ideal DCG counts
min(K, number of relevant items), so a user with 3 held-out items can still reach nDCG 1. Search
metrics take graded judgments per query."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hits(lists: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Boolean users x positions: is the item at each position in that user's held-out set?"""
    dense = truth.toarray().astype(bool)
    return np.take_along_axis(dense, lists, axis=1)


def precision_at(hit: np.ndarray, k: int) -> float:
    return float(hit[:, :k].sum(axis=1).mean() / k)


def recall_at(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    return float((hit[:, :k].sum(axis=1) / n_relevant).mean())


def ndcg_at(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    return float(ndcg_per_row(hit, n_relevant, k).mean())


def ndcg_per_row(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """nDCG@k of each user's list (binary gains)."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hit[:, :k] * discount).sum(axis=1)
    ideal = np.cumsum(discount)[np.minimum(n_relevant, k) - 1]
    return dcg / ideal


def coverage(lists: np.ndarray, n_items: int) -> float:
    """Share of the catalogue recommended to at least one user."""
    return np.unique(lists).size / n_items


def intra_list_diversity(lists: np.ndarray, item_vectors: np.ndarray) -> float:
    """1 - mean pairwise cosine similarity inside each list, averaged over lists."""
    unit = item_vectors / np.maximum(np.linalg.norm(item_vectors, axis=1, keepdims=True), 1e-12)
    vecs = unit[lists]  # users x k x d
    sims = np.einsum("ukd,ujd->ukj", vecs, vecs)
    k = lists.shape[1]
    off_diagonal = (sims.sum(axis=(1, 2)) - k) / (k * (k - 1))
    return float(1.0 - off_diagonal.mean())


def novelty(lists: np.ndarray, item_counts: np.ndarray) -> float:
    """Mean self-information, -log2 p(item), of recommended items: higher means less mainstream."""
    share = (item_counts + 1) / (item_counts.sum() + item_counts.size)
    return float(-np.log2(share[lists]).mean())


def graded_ndcg(ranked: list[np.ndarray], judged: list[dict[int, int]], k: int) -> np.ndarray:
    """Per query: nDCG@k with graded (linear) gains; the ideal ranks every judged document.

    Hand-written rather than scikit-learn's ndcg_score, which averages tied scores and so would
    credit a query that retrieved nothing with the gains of documents it never returned."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    values = np.zeros(len(ranked))
    for q, (docs, grades) in enumerate(zip(ranked, judged, strict=True)):
        if not grades:
            continue
        gains = np.array([grades.get(int(d), 0) for d in docs[:k]], float)
        ideal = np.sort(np.fromiter(grades.values(), float))[::-1][:k]
        values[q] = (gains * discount[: gains.size]).sum() / (ideal * discount[: ideal.size]).sum()
    return values


def reciprocal_rank(ranked: list[np.ndarray], judged: list[dict[int, int]]) -> np.ndarray:
    """Per query: 1 / rank of the first relevant document in the list (0 if none)."""
    values = np.zeros(len(ranked))
    for q, (docs, grades) in enumerate(zip(ranked, judged, strict=True)):
        hit = next((rank for rank, d in enumerate(docs, start=1) if grades.get(int(d), 0) > 0), None)
        values[q] = 1.0 / hit if hit else 0.0
    return values


def recall_of_judged(ranked: list[np.ndarray], judged: list[dict[int, int]], k: int) -> np.ndarray:
    """Per query: share of the relevant documents within the first k."""
    return np.array(
        [
            sum(grades.get(int(d), 0) > 0 for d in docs[:k]) / max(len(grades), 1)
            for docs, grades in zip(ranked, judged, strict=True)
        ]
    )
