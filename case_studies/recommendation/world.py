"""A seeded latent-factor world: users, items and the implicit feedback they produce.

Because the world is simulated, the ground-truth utility of every (user, item) pair is known, which is
what lets the study run an online A/B test next to the offline evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

BASE_USERS = 943  # MovieLens-100k shape
BASE_ITEMS = 1682
DIMS = 16
GENRES = 18
CATALOGUE_DAYS = 365
FRESH_DAYS = 30  # an item counts as "fresh" for about a month
LOG_EXPOSURE_DAYS = 60  # the log holds fewer events for items younger than this
FRESH_TASTE = 0.35  # how much users like fresh items when shown them (the online world)


@dataclass(frozen=True)
class World:
    """The simulated catalogue and population; `interactions` is the logged history."""

    interactions: pd.DataFrame  # user_id, item_id, timestamp (day)
    n_users: int
    n_items: int
    user_vecs: np.ndarray
    item_vecs: np.ndarray
    item_pop: np.ndarray
    item_genre: np.ndarray
    item_age_days: np.ndarray
    pop_weight: float

    def online_utility(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """True utility of showing `items[u, k]` to `users[u]` today, fresh items included."""
        taste = np.einsum("ud,ukd->uk", self.user_vecs[users], self.item_vecs[items])
        return (
            taste
            + 0.5 * self.pop_weight * self.item_pop[items]
            + FRESH_TASTE * freshness(self.item_age_days[items])
        )


def freshness(age_days: np.ndarray) -> np.ndarray:
    """1 for an item released today, decaying over about a month."""
    return np.exp(-np.asarray(age_days, dtype=np.float64) / FRESH_DAYS)


def generate_world(scale: float, pop_weight: float, noise: float, seed: int) -> World:
    """Draw `scale` x 943 users watching a catalogue of 1,682 videos: about 100k x `scale` events.

    Each user draws items without replacement by softmax sampling (temperature `noise`) over
    taste + popularity; items released recently have had less time to collect events.
    """
    rng = np.random.default_rng(seed)
    n_users = max(50, round(BASE_USERS * scale))
    n_items = BASE_ITEMS  # a fixed catalogue, so more data means more evidence per video

    centroids = rng.normal(size=(GENRES, DIMS))
    item_genre = rng.integers(0, GENRES, size=n_items)
    item_vecs = (centroids[item_genre] + 0.6 * rng.normal(size=(n_items, DIMS))) / np.sqrt(DIMS)
    item_pop = rng.normal(size=n_items)
    item_age = rng.integers(0, CATALOGUE_DAYS, size=n_items)

    n_tastes = rng.integers(1, 4, size=n_users)
    user_vecs = np.empty((n_users, DIMS))
    for u in range(n_users):
        picks = rng.choice(GENRES, size=n_tastes[u], replace=False)
        user_vecs[u] = centroids[picks].mean(axis=0) + 0.5 * rng.normal(size=DIMS)
    user_vecs /= np.sqrt(DIMS)

    activity = np.exp(rng.normal(np.log(80), 0.8, size=n_users)).astype(int)
    activity = np.clip(activity, 20, n_items // 2)

    exposure = np.log(np.minimum(1.0, (item_age + 1) / LOG_EXPOSURE_DAYS))
    base = 0.5 * pop_weight * item_pop + noise * exposure
    user_ids, item_ids = sample_watches(user_vecs, item_vecs, base, activity, noise, rng)
    released = CATALOGUE_DAYS - item_age[item_ids]
    timestamp = released + rng.integers(0, CATALOGUE_DAYS, size=item_ids.size) % (
        CATALOGUE_DAYS - released + 1
    )
    interactions = pd.DataFrame({"user_id": user_ids, "item_id": item_ids, "timestamp": timestamp})
    return World(
        interactions=interactions,
        n_users=n_users,
        n_items=n_items,
        user_vecs=user_vecs,
        item_vecs=item_vecs,
        item_pop=item_pop,
        item_genre=item_genre,
        item_age_days=item_age,
        pop_weight=pop_weight,
    )


def sample_watches(
    user_vecs: np.ndarray,
    item_vecs: np.ndarray,
    base: np.ndarray,
    counts: np.ndarray,
    noise: float,
    rng: np.random.Generator,
    seen: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """User u watches `counts[u]` distinct items, drawn by softmax sampling (temperature `noise`) over
    taste + `base` (a per-item utility), never one of its `seen` items: (user ids, item ids)."""
    users, items = [], []
    for start in range(0, user_vecs.shape[0], 512):  # chunks keep memory flat at 10x scale
        block = slice(start, min(start + 512, user_vecs.shape[0]))
        utility = user_vecs[block] @ item_vecs.T + base
        gumbel = rng.gumbel(size=utility.shape)
        keys = utility / noise + gumbel  # Gumbel-top-k = sampling without replacement
        if seen is not None:
            keys[seen[block].nonzero()] = -np.inf
        order = np.argsort(-keys, axis=1)
        for row, u in enumerate(range(block.start, block.stop)):
            chosen = order[row, : counts[u]]
            users.append(np.full(chosen.size, u))
            items.append(chosen)
    return np.concatenate(users), np.concatenate(items)
