"""Where impressions come from: the simulated world's log, or the learner's file in the Criteo
format (upload.py). Both give the pipeline the same things: clicks, a day per impression, each
field's ids for hashing, and the feature store's counts for the trees. Only the world has ads, bids
and requests, so only the world runs the auction."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from case_studies.ads import features as f
from case_studies.ads.world import Log


@dataclass(frozen=True)
class CountColumns:
    matrix: np.ndarray
    categorical: list[int]


@dataclass(eq=False)
class WorldSource:
    log: Log
    requests: f.Requests = field(init=False)
    _stores: dict = field(default_factory=dict, init=False)

    auction = True

    def __post_init__(self):
        log = self.log
        self.requests = f.Requests(log.day, log.hour, log.user, log.placement, log.position, log.ad, log.seen)

    @property
    def y(self) -> np.ndarray:
        return self.log.click

    @property
    def day(self) -> np.ndarray:
        return self.log.day

    @property
    def token(self) -> str:
        return self.log.token

    @property
    def days(self) -> int:
        return self.log.days

    @property
    def test_day(self) -> int:
        return self.log.test_day

    @property
    def summary(self) -> str:
        return f"{len(self.log):,} simulated impressions over {self.days} days"

    def ids(self, crosses: bool, position: bool, pairs: f.Requests | None = None) -> dict[str, np.ndarray]:
        """Every field's ids, of the log's impressions or of candidate `pairs`."""
        return f.world_ids(self.log.inventory, self.requests if pairs is None else pairs, crosses, position)

    def counts(self, position: bool, pairs: f.Requests | None = None) -> CountColumns:
        """The trees' columns: past CTRs and impressions of the ad, the user… from the store, then the
        slot, hour, device, region, category and showings today."""
        inv, r = self.log.inventory, self.requests if pairs is None else pairs
        store = self.store(position)
        columns = store.features(f.world_count_keys(inv, r, position), r.day)
        raw, categorical = f.world_raw(inv, r, position)
        offset = len(columns)
        return CountColumns(
            np.column_stack(columns + raw).astype(np.float32),
            [offset + i for i, is_category in enumerate(categorical) if is_category],
        )

    def store(self, position: bool) -> f.CountStore:
        if position not in self._stores:
            keys = f.world_count_keys(self.log.inventory, self.requests, position)
            self._stores[position] = f.CountStore.build(keys, self.log.day, self.log.click, self.days)
        return self._stores[position]
