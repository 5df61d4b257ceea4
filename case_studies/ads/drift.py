"""The ad system's serving period: the days after the test day, served by the registered model, with
a drift scenario from a chosen day: a new advertiser's burst of campaigns (ids the model has never
seen) or a holiday (interest and slots move to two categories). Clicks are known the next day; a
retrain fits on the newest days."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from case_studies.ads import pipeline as p
from case_studies.ads.source import WorldSource
from case_studies.ads.world import DAYS, generate
from engine.data import DataError
from engine.memo import Memo
from engine.monitoring.period import DAYS as PERIOD_DAYS
from engine.monitoring.period import Feature, Period, Window

FEATURES = (
    Feature("category", "categorical", "Category of the ad shown"),
    Feature("position", "categorical", "Slot"),
    Feature("device", "categorical", "Device"),
    Feature("hour", "numeric", "Hour of the request"),
    Feature("ad_age_days", "numeric", "Days since the ad's campaign started"),
)

_worlds = Memo(max_entries=2)


def build_period(config: dict, seed: int, data, scenario: str, drift_day: int = 14, days: int = PERIOD_DAYS):
    if not 2 <= days <= PERIOD_DAYS:
        raise DataError(f"The ad world serves up to {PERIOD_DAYS} days: ask for 2 to {PERIOD_DAYS}.")
    return AdsPeriod(dict(config, model_age=0), seed, scenario, drift_day, days)


class AdsPeriod(Period):
    study = "ads"
    metric_label = "NE"
    metric_fmt = ".3f"
    higher_is_better = False
    label_delay_days = 1  # a click comes within the hour; the day's log is ready the next day
    metric_days = 3  # a day's window holds a few dozen clicks: too few for a steady NE
    drop_share = 0.03  # NE moves by a few per cent between quiet days

    def __init__(self, config: dict[str, Any], seed: int, scenario: str, drift_day: int, days: int):
        super().__init__(config, seed, scenario, drift_day, days)
        key = (config["scale"], config["base_ctr"], config["drift"], seed, scenario, drift_day, days)
        log = _worlds.get(key, lambda: generate(
            config["scale"], config["base_ctr"], config["drift"], seed, DAYS + days - 1, scenario,
            DAYS - 1 + (drift_day if scenario != "none" else 0),
        ))  # fmt: skip
        self.source = WorldSource(log)
        self.system = p.assemble(config, seed, self.source)
        self.features = FEATURES

    def initial_model(self) -> p.Trained:
        return self.system.trained

    def reference(self, model: p.Trained, n: int, rng) -> Window:
        """Impressions of the model's train window, as its training saw them."""
        end = DAYS - 1 if model.end is None else model.end
        days = self.source.day
        rows = np.flatnonzero((days >= end - self.config["train_days"]) & (days < end))
        return self._window(rng.choice(rows, min(n, rows.size), replace=False), model)

    def serve(self, day: int, model: p.Trained, n: int, rng) -> Window:
        rows = np.flatnonzero(self.source.day == DAYS - 1 + day)
        return self._window(np.sort(rng.choice(rows, min(n, rows.size), replace=False)), model)

    def retrain(self, day: int) -> tuple[p.Trained, float]:
        system, end = self.system, DAYS - 1 + day
        trained = p.train(self.source, system.hashed, system.counts, self.config, self.seed, end)
        trained = p.calibrated(
            self.source, system.hashed, system.counts, trained, self.config, self.seed, end
        )
        return dataclasses.replace(trained, end=end), trained.train_ms

    def metric(self, window: Window) -> float:
        """Normalized entropy of the window: its log loss over the entropy of its own CTR."""
        y, score = window.outcome.astype(bool), np.clip(window.score, 1e-6, 1 - 1e-6)
        ctr = float(np.clip(y.mean(), 1e-6, 1 - 1e-6)) if y.size else float("nan")
        entropy = -(ctr * np.log(ctr) + (1 - ctr) * np.log(1 - ctr))
        return float(-(y * np.log(score) + (~y) * np.log(1 - score)).mean() / entropy)

    def predictor(self, model: p.Trained):
        from case_studies.ads.serving import AdsPredictor

        return AdsPredictor(dataclasses.replace(self.system, trained=model))

    def _window(self, rows: np.ndarray, model: p.Trained) -> Window:
        log, inv = self.source.log, self.source.log.inventory
        counts = None if self.system.counts is None else self.system.counts.matrix[rows]
        return Window(
            features=pd.DataFrame(
                {
                    "category": inv.category[log.ad[rows]],
                    "position": log.position[rows],
                    "device": inv.device[log.user[rows]],
                    "hour": log.hour[rows],
                    "ad_age_days": log.day[rows] - inv.born[log.ad[rows]],
                }
            ),
            score=model.model.probability(self.system.hashed.x[rows], counts),
            outcome=log.click[rows],
        )
