"""Offline scores of suggestion lists against the friendships formed after the cut, per user, and the
simulated online acceptance rate from the world's own formation rule."""

from __future__ import annotations

import numpy as np

from case_studies.pymk.network import Prepared

SLATE = 10
DISCOUNT = 1.0 / np.log2(np.arange(2, SLATE + 2))


def per_user_scores(
    prep: Prepared, pools: list[np.ndarray], slates: list[np.ndarray]
) -> dict[str, np.ndarray]:
    """recall@10, precision@10, nDCG@10 and candidate recall of each evaluation user (binary
    relevance; the ideal DCG counts min(10, new friendships), as in the recommendation study)."""
    rows = {"recall@10": [], "precision@10": [], "ndcg@10": [], "candidate_recall": []}
    for user, pool, slate in zip(prep.eval_users.tolist(), pools, slates, strict=True):
        truth = prep.targets[user]
        hit = np.array([v in truth for v in slate.tolist()], float)
        found = int(hit.sum())
        rows["recall@10"].append(found / len(truth))
        rows["precision@10"].append(found / SLATE)
        ideal = DISCOUNT[: min(len(truth), SLATE)].sum()
        rows["ndcg@10"].append(float((hit * DISCOUNT[: hit.size]).sum() / ideal))
        rows["candidate_recall"].append(sum(v in truth for v in pool.tolist()) / len(truth))
    return {key: np.array(values) for key, values in rows.items()}


def acceptance(prep: Prepared, slates: list[np.ndarray]) -> np.ndarray:
    """Per evaluation user: the mean chance the suggestions shown are accepted (0 for an empty list),
    by the rule that formed the world's friendships, on the graph as of the cut."""
    sizes = np.array([s.size for s in slates])
    chances = acceptance_chances(prep.world.rule, prep.adjacency, prep.eval_users, slates)
    return chances.sum(axis=1) / np.maximum(sizes, 1)


def acceptance_chances(rule, adjacency, users: np.ndarray, slates: list[np.ndarray]) -> np.ndarray:
    """(users, SLATE): the chance `rule` gives each shown suggestion of being accepted by `users[i]`
    on the graph `adjacency`, 0 past the end of a short row."""
    sizes = np.array([s.size for s in slates], int)
    owner = np.repeat(np.arange(sizes.size), sizes)
    slot = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    shown = np.concatenate([np.asarray(s, int) for s in slates]) if slates else np.zeros(0, int)
    table = np.zeros((sizes.size, max(SLATE, sizes.max(initial=0))))
    table[owner, slot] = rule.probability(adjacency, np.asarray(users)[owner], shown)
    return table
