"""What the ad system serves: an ad request → the winning ad, its pCTR and what it pays."""

from __future__ import annotations

import dataclasses
import pickle
import zlib
from typing import Any

import numpy as np

from case_studies.ads import auction as au
from case_studies.ads import pipeline as p
from case_studies.ads.world import PLACEMENTS, POSITIONS, USERS
from engine.serving import Predictor
from engine.serving.predictor import BadRequest, field, in_range, require_object


class AdsPredictor(Predictor):
    study = "ads"

    def __init__(self, system: p.System):
        if not system.source.auction:
            raise BadRequest("data", "an uploaded file has no ads to auction: serve a design of the world")
        self.system = dataclasses.replace(system, hashed=None, counts=None)  # the log's matrices stay behind
        self.inventory = system.source.log.inventory
        self.day = system.source.test_day
        self.cap = system.config["frequency_cap"]

    def parse(self, body: Any) -> dict[str, int]:
        body = require_object(body)
        request = {
            "user": field(body, "user_id", int),
            "placement": field(body, "placement_id", int, 0),
            "position": field(body, "position", int, 1),
            "hour": field(body, "hour", int, 12),
            "seen": field(body, "seen_today", dict, {}),
        }
        in_range("user_id", request["user"], 0, USERS - 1)
        in_range("placement_id", request["placement"], 0, PLACEMENTS - 1)
        in_range("position", request["position"], 1, POSITIONS)
        in_range("hour", request["hour"], 0, 23)
        try:
            request["seen"] = {int(ad): int(n) for ad, n in request["seen"].items()}
        except ValueError:
            raise BadRequest("seen_today", 'must map ad ids to today\'s showings, e.g. {"17": 2}') from None
        return request

    def predict(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self._auction(r) for r in requests]

    def _auction(self, r: dict[str, Any]) -> dict[str, Any]:
        inv = self.inventory
        # The pacing throttle is random; seeded by the request, the same request gets the same answer.
        rng = np.random.default_rng(zlib.crc32(repr(sorted(r.items())).encode()))
        ads = au.pace(inv, r["user"], self.day, rng)
        seen = np.array([r["seen"].get(int(a), 0) for a in ads])
        pairs = au.one_request(self.day, r["hour"], r["user"], r["placement"], r["position"] - 1, ads, seen)
        pctr = self.system.score_pairs(pairs)
        ecpm, order = au.rank(inv, ads, pctr)
        best, price = au.settle(ecpm, order, seen >= self.cap)
        if best < 0:
            return {"ad_id": None, "candidates": int(ads.size), "reason": "no candidate above the reserve"}
        ad = int(ads[best])
        pays = "impression" if inv.cpm[ad] else "click"
        charge = price / 1000 if pays == "impression" else min(inv.bid[ad], price / 1000 / pctr[best])
        return {
            "ad_id": ad,
            "advertiser_id": int(inv.advertiser[ad]),
            "p_ctr": round(float(pctr[best]), 6),
            "ecpm": round(float(ecpm[best]), 4),
            "pays_per": pays,
            "price": round(float(charge), 4),
            "candidates": int(ads.size),
        }

    def traffic(self, n: int, seed: int) -> list[dict[str, Any]]:
        """Ad requests of the test day, as they would arrive."""
        requests = au.sample_requests(self.inventory, self.day, n, np.random.default_rng([seed, 31]))
        return [
            {"user_id": int(u), "placement_id": int(pl), "position": int(pos) + 1, "hour": int(h)}
            for u, pl, pos, h in zip(
                requests["user"], requests["placement"], requests["position"], requests["hour"], strict=True
            )  # fmt: skip
        ]

    def batch_requests(self) -> list[dict[str, Any]]:
        return [self.parse(body) for body in self.traffic(2000, seed=1)]

    def batch_key(self, request) -> None:
        return None  # the winner depends on the slot, the hour and today's showings: nothing to precompute

    def batch_rows(self, dau: int, requests_per_user: float) -> int:
        return int(dau * requests_per_user)  # every ad request is an auction

    def sizes(self) -> dict[str, int]:
        store = (
            self.system.source.store(self.system.config["position"])
            if self.system.model.kind != "logistic"
            else None
        )
        counts = sum(a.nbytes for d in (store.impressions, store.clicks) for a in d.values()) if store else 0
        return {
            "model": len(pickle.dumps(self.system.model)),
            "features_fixed": int(counts + self.inventory.appeal.nbytes),
            "features_per_user": 0,
        }


def build(config: dict[str, Any], seed: int, data) -> AdsPredictor:
    return AdsPredictor(p.assemble(config, seed, data))
