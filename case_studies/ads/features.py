"""Features of an impression: hashed one-hot ids and crosses for the linear model, and the feature
store's click counts over past days for the trees.

The hashing trick: each (field, value) is hashed (MurmurHash3, scikit-learn's) into one of 2^bits
columns, so a model over hundreds of millions of ids has a fixed size; two ids that land in the same
column share a weight (a collision). Crosses (user × category, device × category, …) are hashed the
same way, and multiply the ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from case_studies.ads.world import CATEGORIES, POSITIONS, Inventory

HISTORY_DAYS = 7  # the feature store's click counts cover the past week
PRIOR_STRENGTH = 200  # impressions' worth of the average CTR a rare id's CTR is shrunk towards


@dataclass(frozen=True)
class Requests:
    """Impressions, or candidate (request, ad) pairs, as columns of ids."""

    day: np.ndarray
    hour: np.ndarray
    user: np.ndarray
    placement: np.ndarray
    position: np.ndarray
    ad: np.ndarray
    seen: np.ndarray

    def __len__(self) -> int:
        return self.ad.size

    def take(self, rows) -> Requests:
        return Requests(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


# -- hashing -------------------------------------------------------------------------------------------
def hashed(fields: dict[str, np.ndarray], bits: int) -> sp.csr_matrix:
    """One column per (field, value), hashed into 2^bits columns: a row has one 1 per field."""
    columns = np.column_stack([bucket(name, values, bits) for name, values in fields.items()])
    n, k = columns.shape
    return sp.csr_matrix(
        (np.ones(n * k, np.float32), columns.ravel(), np.arange(0, n * k + 1, k)), shape=(n, 2**bits)
    )


def bucket(field: str, values: np.ndarray, bits: int) -> np.ndarray:
    seed = murmurhash3_32(field, positive=True)
    return murmurhash3_32(np.asarray(values, np.int32), seed=seed, positive=True) % (2**bits)


def collision_rate(fields: dict[str, np.ndarray], bits: int) -> float:
    """Share of the distinct (field, value) ids that share their column with another id."""
    buckets = np.concatenate([bucket(name, np.unique(values), bits) for name, values in fields.items()])
    _, inverse, counts = np.unique(buckets, return_inverse=True, return_counts=True)
    return float((counts[inverse] > 1).mean())


# -- the feature store: click counts over past days --------------------------------------------------------
@dataclass(frozen=True)
class CountStore:
    """Per counted entity and day, the impressions and clicks of the HISTORY_DAYS before that day:
    only what was logged before the request, as a live store would hold it."""

    impressions: dict[str, np.ndarray]  # name -> (days, entities)
    clicks: dict[str, np.ndarray]
    average_ctr: float

    @classmethod
    def build(cls, keys: dict[str, np.ndarray], day: np.ndarray, clicks: np.ndarray, days: int) -> CountStore:
        impressions, clicked = {}, {}
        start = np.maximum(np.arange(days) - HISTORY_DAYS, 0)
        for name, values in keys.items():
            size = int(values.max()) + 1
            cell = day * size + values
            daily = np.stack(
                [np.bincount(cell, minlength=days * size), np.bincount(cell, clicks, days * size)]
            )
            daily = daily.astype(np.float32)  # counts below 2^24: exact, at half the memory
            daily = daily.reshape(2, days, size)
            before = np.concatenate([np.zeros((2, 1, daily.shape[2])), daily.cumsum(1)], axis=1)  # days < k
            impressions[name], clicked[name] = before[:, np.arange(days)] - before[:, start]
        return cls(impressions, clicked, float(clicks.mean()))

    def features(self, keys: dict[str, np.ndarray], day: np.ndarray) -> list[np.ndarray]:
        """Per entity: its smoothed past CTR and its log impressions."""
        columns = []
        for name, key in keys.items():
            imp, clk = _lookup(self.impressions[name], day, key), _lookup(self.clicks[name], day, key)
            columns += [(clk + PRIOR_STRENGTH * self.average_ctr) / (imp + PRIOR_STRENGTH), np.log1p(imp)]
        return columns


def _lookup(table: np.ndarray, day: np.ndarray, key: np.ndarray) -> np.ndarray:
    """table[day, key], 0 for an entity the store has never seen (a new ad)."""
    inside = (key >= 0) & (key < table.shape[1])
    out = np.zeros(key.size)
    out[inside] = table[day[inside], key[inside]]
    return out


# -- the simulated world's fields ---------------------------------------------------------------------------
def world_ids(inv: Inventory, r: Requests, crosses: bool, position: bool) -> dict[str, np.ndarray]:
    """Each field's integer value per row (a cross combines two fields' values)."""
    category, device, region = inv.category[r.ad], inv.device[r.user], inv.region[r.user]
    fields = {
        "user": r.user,
        "ad": r.ad,
        "advertiser": inv.advertiser[r.ad],
        "category": category,
        "placement": r.placement,
        "device": device,
        "region": region,
        "hour": r.hour,
        "seen today": np.minimum(r.seen, 3),
    }
    if position:
        fields["position"] = r.position
    if crosses:
        fields |= {
            "user x category": r.user * CATEGORIES + category,
            "device x category": device * CATEGORIES + category,
            "region x category": region * CATEGORIES + category,
            "placement x category": r.placement * CATEGORIES + category,
        }
    return fields


def world_count_keys(inv: Inventory, r: Requests, position: bool) -> dict[str, np.ndarray]:
    keys = {
        "ad": r.ad,
        "advertiser": inv.advertiser[r.ad],
        "user": r.user,
        "placement": r.placement,
        "user x category": r.user * CATEGORIES + inv.category[r.ad],
    }
    if position:
        keys["ad x position"] = r.ad * POSITIONS + r.position
    return keys


def world_raw(inv: Inventory, r: Requests, position: bool) -> tuple[list[np.ndarray], list[bool]]:
    """The trees' other columns, and which are categories."""
    columns = [r.hour, inv.device[r.user], inv.region[r.user], inv.category[r.ad], r.seen]
    categorical = [False, True, True, True, False]
    if position:
        columns.append(r.position)
        categorical.append(False)
    return columns, categorical
