"""Re-ranking for diversity: maximal marginal relevance over candidate lists, vectorised over users."""

from __future__ import annotations

import numpy as np


def mmr(
    candidates: np.ndarray, scores: np.ndarray, item_vectors: np.ndarray, lam: float, k: int
) -> np.ndarray:
    """Pick k items per row maximising lam * relevance - (1 - lam) * max similarity to items picked.

    `candidates` and `scores` are users x N; scores are rescaled to [0, 1] per user so lam means the
    same thing whatever the ranker's scale. lam = 1 keeps the ranking order.
    """
    n_users, n = candidates.shape
    k = min(k, n)
    order = np.argsort(-scores, axis=1, kind="stable")
    if lam >= 1.0:
        return np.take_along_axis(candidates, order[:, :k], axis=1)
    low = scores.min(axis=1, keepdims=True)
    span = np.maximum(scores.max(axis=1, keepdims=True) - low, 1e-12)
    relevance = (scores - low) / span
    unit = item_vectors / np.maximum(np.linalg.norm(item_vectors, axis=1, keepdims=True), 1e-12)
    vecs = unit[candidates]  # users x N x d
    rows = np.arange(n_users)
    max_sim = np.zeros((n_users, n))
    taken = np.zeros((n_users, n), dtype=bool)
    picks = np.empty((n_users, k), dtype=candidates.dtype)
    for step in range(k):
        gain = np.where(taken, -np.inf, lam * relevance - (1 - lam) * max_sim)
        best = gain.argmax(axis=1)
        picks[:, step] = candidates[rows, best]
        taken[rows, best] = True
        sim_to_best = np.einsum("und,ud->un", vecs, vecs[rows, best])
        max_sim = np.maximum(max_sim, sim_to_best)
    return picks
