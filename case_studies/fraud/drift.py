"""The fraud system's serving period: the test period's 28 days, served by the registered model,
with the world's new fraud patterns (card testing, amounts split under the $220 rule) from a
chosen day. Labels arrive after the configured label delay; a retrain fits on what is labelled."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from case_studies.fraud import evaluation as ev
from case_studies.fraud import pipeline as p
from case_studies.fraud.features import GROUPS
from case_studies.fraud.spec import WAVE
from case_studies.fraud.world import TEST_DAYS, Log, generate_world
from engine.data import DataError
from engine.memo import Memo
from engine.monitoring.period import Feature, Period, Window

# A day's window is all weekend or none of it: the flag drifts daily by construction, so it is not
# monitored; the night flag is a 0/1 column compared as categories.
UNMONITORED = {"weekend"}
CATEGORICAL = set(GROUPS["time_flags"])


@dataclass(frozen=True)
class _WorldLog:
    """The period's generated log, handed to the pipeline the way an upload is."""

    log: Log
    token: tuple


def build_period(config: dict, seed: int, data, scenario: str, drift_day: int = 14, days: int = TEST_DAYS):
    if not 2 <= days <= TEST_DAYS:
        raise DataError(f"The fraud world serves {TEST_DAYS} test days: ask for 2 to {TEST_DAYS}.")
    world = dict(config, drift=scenario, drift_day=drift_day, retraining="never")
    return FraudPeriod(world, seed, scenario, drift_day, days)


_logs = Memo(max_entries=4)


def _world(config: dict, seed: int) -> _WorldLog:
    key = (config["scale"], config["drift"], config["drift_day"], seed, WAVE)
    return _logs.get(key, lambda: _WorldLog(generate_world(*key), ("drift period",) + key))


class FraudPeriod(Period):
    study = "fraud"
    metric_label = "AP"
    metric_fmt = ".3f"
    higher_is_better = True
    metric_days = 7  # a day holds a dozen frauds at the default scale: too few for a steady AP
    drop_share = 0.4  # AP of a few dozen frauds moves by a third from week to week with no drift

    def __init__(self, config: dict[str, Any], seed: int, scenario: str, drift_day: int, days: int):
        super().__init__(config, seed, scenario, drift_day, days)
        self.data = _world(config, seed)
        self.system = p.assemble(config, seed, self.data)
        log = self.system.log
        self.features = tuple(
            Feature(c, "categorical" if c in CATEGORICAL else "numeric")
            for c in self.system.columns
            if c not in UNMONITORED
        )
        self.label_delay_days = config["label_delay"]
        # Every payment is scored in production, cards already known to be compromised included.
        self._rows = [np.flatnonzero(log.day == log.test_start + d) for d in range(days)]

    def initial_model(self) -> p.Deployment:
        return self.system.deployments[0]

    def reference(self, model: p.Deployment, n: int, rng) -> Window:
        """Payments of the model's train window, as its training saw them."""
        log, until = self.system.log, model.start - self.label_delay_days
        rows = np.flatnonzero((log.day >= until - self.config["train_window"]) & (log.day < until))
        return self._window(rng.choice(rows, min(n, rows.size), replace=False), model)

    def serve(self, day: int, model: p.Deployment, n: int, rng) -> Window:
        rows = self._rows[day]
        return self._window(np.sort(rng.choice(rows, min(n, rows.size), replace=False)), model)

    def retrain(self, day: int) -> tuple[p.Deployment, float]:
        log = self.system.log
        start = log.test_start + day
        deployment = p.deploy(
            self.system, self.config, self.seed, self.data, start, log.test_start + self.days
        )
        return deployment, deployment.train_ms

    def metric(self, window: Window) -> float:
        return ev.average_precision(window.score, window.outcome)

    def predictor(self, model: p.Deployment):
        """The registry's artifact for a retrained model: the serving system with it deployed."""
        from case_studies.fraud.serving import FraudPredictor

        return FraudPredictor(dataclasses.replace(self.system, deployments=[model]))

    def _window(self, rows: np.ndarray, model: p.Deployment) -> Window:
        x = self.system.x[rows]
        return Window(
            features=pd.DataFrame(x, columns=list(self.system.columns))[[f.name for f in self.features]],
            score=model.probability(x),
            outcome=self.system.log.fraud[rows],
        )
