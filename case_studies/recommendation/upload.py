"""Bring-your-own interactions: `user_id,item_id[,timestamp][,weight]` as CSV."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data import Column, DataError, read_table

COLUMNS = (
    Column("user_id", "id"),
    Column("item_id", "id"),
    Column("timestamp", "number", required=False),
    Column("weight", "number", required=False, positive=True),
)
FORMAT = (
    "CSV with a header `user_id,item_id[,timestamp][,weight]`: one row per interaction. "
    "Timestamps are days or Unix seconds; weights are positive numbers (default 1)."
)
MIN_USERS, MIN_ITEMS, MIN_ROWS = 10, 30, 100
UNIX_SECONDS = 1e8  # timestamps above this are read as seconds, not days


@dataclass(frozen=True)
class Interactions:
    frame: pd.DataFrame  # user_id, item_id as 0-based indices, [timestamp (days)], [weight]
    user_labels: np.ndarray
    item_labels: np.ndarray
    item_age_days: np.ndarray
    token: str
    summary: str
    pool_limit: int  # the unwatched items of the user who has watched most: the largest pool

    @property
    def n_users(self) -> int:
        return self.user_labels.size

    @property
    def limits(self) -> dict[str, tuple[int, str]]:
        """Knob values past which this data changes nothing (engine.study.data_limits)."""
        reason = (
            f"the user who has watched most has {self.pool_limit:,} of your {self.n_items:,} items left, "
            "and every user's pool is that size at most"
        )
        return {"candidates": (self.pool_limit, reason)}

    @property
    def n_items(self) -> int:
        return self.item_labels.size


def load_interactions(raw: bytes) -> Interactions:
    table = read_table(raw, COLUMNS)
    table = table.drop_duplicates(subset=["user_id", "item_id"], keep="last")
    users, user_labels = pd.factorize(table["user_id"], sort=True)
    items, item_labels = pd.factorize(table["item_id"], sort=True)
    if len(table) < MIN_ROWS or user_labels.size < MIN_USERS or item_labels.size < MIN_ITEMS:
        raise DataError(
            f"Too little data to split and evaluate: {len(table)} distinct interactions, "
            f"{user_labels.size} users, {item_labels.size} items; at least {MIN_ROWS} "
            f"interactions, {MIN_USERS} users and {MIN_ITEMS} items are needed."
        )
    most_seen = int(np.bincount(users).max())
    if most_seen > item_labels.size - 20:
        raise DataError(
            f"One user has interacted with {most_seen} of the {item_labels.size} items, which "
            "leaves nothing new to recommend; add items or drop that user."
        )
    frame = pd.DataFrame({"user_id": users, "item_id": items})
    if "timestamp" in table:
        frame["timestamp"] = _days(table["timestamp"])
    if "weight" in table:
        frame["weight"] = table["weight"].to_numpy(float)
    return Interactions(
        frame=frame,
        user_labels=np.asarray(user_labels),
        item_labels=np.asarray(item_labels),
        item_age_days=_item_age(table.get("timestamp"), items, item_labels.size),
        token=hashlib.sha256(raw).hexdigest()[:16],
        pool_limit=item_labels.size - most_seen,
        summary=f"{len(frame):,} interactions, {user_labels.size:,} users, {item_labels.size:,} items"
        + ("" if "timestamp" in frame else "; no timestamps, so the held-out watches are a random 20 %"),
    )


def _item_age(timestamps: pd.Series | None, items: np.ndarray, n_items: int) -> np.ndarray:
    """Days since each item's first interaction, relative to the newest event; 0 without timestamps."""
    if timestamps is None:
        return np.zeros(n_items)
    days = _days(timestamps)
    first_seen = pd.Series(days).groupby(items).min().reindex(range(n_items)).to_numpy()
    return days.max() - first_seen


def _days(timestamps: pd.Series) -> np.ndarray:
    days = timestamps.to_numpy(float)
    return days / 86400 if days.max() > UNIX_SECONDS else days
