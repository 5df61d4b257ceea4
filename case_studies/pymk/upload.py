"""Bring-your-own friendships: an edge list `source,target[,timestamp]` as CSV.

Friendships are undirected. With timestamps the newest 10 % are the targets and the 10 % before them
play the part of "formed since the last batch snapshot"; without timestamps a seeded 10 % is held out
for each instead, and the summary says so. Self-loops and repeated pairs are common in exported edge
lists, so they are counted and dropped rather than rejected."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from case_studies.pymk.world import OLD, RECENT, TARGET
from engine.data import Column, DataError, read_table

COLUMNS = (
    Column("source", "id"),
    Column("target", "id"),
    Column("timestamp", "time", required=False),
)
FORMAT = (
    "CSV with a header `source,target[,timestamp]`: one row per friendship (undirected). Timestamps "
    "are Unix seconds or dates; with them the newest 10 % of friendships are the targets, without "
    "them a seeded 10 % is held out."
)
MIN_EDGES, MIN_USERS = 100, 20
HELD_OUT = 0.1  # share of friendships that are targets, and again the share since the snapshot
HOLDOUT_SEED = 0


@dataclass(frozen=True)
class Friendships:
    """An uploaded graph in the same shape as the simulated world's: edges tagged by period."""

    n_users: int
    edges: np.ndarray  # m x 2 user indices, u < v
    period: np.ndarray  # OLD, RECENT or TARGET per edge
    labels: np.ndarray  # the file's user ids, by index
    token: str
    summary: str


def load_friendships(raw: bytes) -> Friendships:
    table = read_table(raw, COLUMNS)
    loops = table["source"] == table["target"]
    table = table[~loops]
    ids, labels = pd.factorize(pd.concat([table["source"], table["target"]]), sort=True)
    pairs = np.sort(ids.reshape(2, -1).T, axis=1)
    times = table["timestamp"].to_numpy(float) if "timestamp" in table else None
    if times is not None:  # a repeated pair keeps its earliest timestamp
        order = np.argsort(times, kind="stable")
        pairs, times = pairs[order], times[order]
    first = ~pd.DataFrame(pairs).duplicated().to_numpy()
    pairs, times = pairs[first], times[first] if times is not None else None
    if len(pairs) < MIN_EDGES or labels.size < MIN_USERS:
        raise DataError(
            f"Too little data to split and evaluate: {len(pairs)} distinct friendships between "
            f"{labels.size} users; at least {MIN_EDGES} friendships and {MIN_USERS} users are needed."
        )
    period, split = _periods(times, len(pairs))
    dropped = f"; dropped {int(loops.sum())} self-loops and {int((~first).sum())} repeated pairs"
    return Friendships(
        n_users=labels.size,
        edges=pairs,
        period=period,
        labels=np.asarray(labels),
        token=hashlib.sha256(raw).hexdigest()[:16],
        summary=f"{len(pairs):,} friendships between {labels.size:,} users{dropped}; {split}",
    )


def _periods(times: np.ndarray | None, m: int) -> tuple[np.ndarray, str]:
    """Each edge's period, by time when there are timestamps, else by a seeded shuffle."""
    if times is None:
        order = np.random.default_rng(HOLDOUT_SEED).permutation(m)
        how = "no timestamps, so a seeded 10 % of friendships is held out as the targets"
    else:
        order = np.argsort(times, kind="stable")
        how = "split by time: the newest 10 % of friendships are the targets"
    rank = np.empty(m, int)
    rank[order] = np.arange(m)
    held = max(int(round(m * HELD_OUT)), 1)
    period = np.full(m, OLD)
    period[rank >= m - 2 * held] = RECENT
    period[rank >= m - held] = TARGET
    return period, how
