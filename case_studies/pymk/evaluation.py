"""Offline scores of suggestion lists against the friendships formed after the cut, per user, and the
simulated online funnel from the world's own formation rule: a suggestion is seen (the lower in the
row, the less often), a request is sent with the viewer's interest, and accepted with the recipient's.
What the business wants is friendships made per user; the rate per suggestion shown is a diagnostic
(showing fewer, only the surest, raises the rate and lowers the friendships)."""

from __future__ import annotations

import numpy as np

from case_studies.pymk.network import Prepared

SLATE = 10
DISCOUNT = 1.0 / np.log2(np.arange(2, SLATE + 2))
EXAMINE = DISCOUNT  # the chance a viewer looks at the suggestion in each slot of the row
# Of the people a viewer would befriend on meeting, the share they send a request to from a row:
# real rows turn a few per cent of suggestions into requests.
SEND_SHARE = 0.1


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


def funnel(prep: Prepared, slates: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Per evaluation user: requests sent, friendships made (sent and accepted), and friendships per
    suggestion shown (0 for an empty row)."""
    sizes = np.array([s.size for s in slates])
    sent, made = funnel_chances(prep.world.rule, prep.adjacency, prep.eval_users, slates)
    return {
        "requests_per_user": sent.sum(axis=1),
        "friendships_per_user": made.sum(axis=1),
        "acceptance_rate": made.sum(axis=1) / np.maximum(sizes, 1),
    }


def friendship_chances(rule, adjacency, users: np.ndarray, slates: list[np.ndarray]) -> np.ndarray:
    """(users, SLATE): the chance each shown suggestion becomes a friendship (seen, sent, accepted),
    0 past the end of a short row."""
    return funnel_chances(rule, adjacency, users, slates)[1]


def funnel_chances(rule, adjacency, users: np.ndarray, slates: list[np.ndarray]):
    """(users, SLATE) twice: the chance `users[i]` sends a request to each suggestion shown, and the
    chance it becomes a friendship, by `rule` on the graph `adjacency`; 0 past a short row's end."""
    sizes = np.array([s.size for s in slates], int)
    owner = np.repeat(np.arange(sizes.size), sizes)
    slot = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    shown = np.concatenate([np.asarray(s, int) for s in slates]) if slates else np.zeros(0, int)
    viewers = np.asarray(users)[owner]
    send = SEND_SHARE * EXAMINE[np.minimum(slot, SLATE - 1)] * rule.probability(adjacency, viewers, shown)
    width = max(SLATE, sizes.max(initial=0))
    sent, made = np.zeros((sizes.size, width)), np.zeros((sizes.size, width))
    sent[owner, slot] = send
    made[owner, slot] = send * rule.acceptance(adjacency, viewers, shown)
    return sent, made
