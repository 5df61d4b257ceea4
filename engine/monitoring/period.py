"""A study's serving period: several weeks of simulated days, in which a drift scenario may start.

A study implements `Period`; the engine's monitors, label-delayed performance and retraining policies
(`engine.monitoring.simulate`) work on any of them. Days count from the first serving day (0)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.data import DataError

DAYS = 28  # the default serving period: four weeks


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Literal["numeric", "categorical"]
    label: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str  # "none", "taste_shift", ...
    label: str  # "Taste shift"
    what: str  # one sentence: what changes in the world from the drift day on
    strong: bool = True  # a strong scenario moves the score's PSI past 0.25 after the drift day


@dataclass(frozen=True)
class Window:
    """One window of served traffic as the monitors see it: a row per request."""

    features: pd.DataFrame  # columns: the period's feature names
    score: np.ndarray  # the model's prediction score per request
    outcome: np.ndarray  # per request, what arrives later: the fraud label, the clicks


class Period(ABC):
    """The live world of one registered design over a serving period, under one scenario.

    `model` arguments are opaque to the engine: whatever `initial_model` and `retrain` return."""

    def __init__(self, config: dict[str, Any], seed: int, scenario: str, drift_day: int, days: int):
        self.config, self.seed, self.scenario, self.days = config, seed, scenario, days
        self.drift_day = None if scenario == "none" else drift_day

    study: str
    features: tuple[Feature, ...]
    metric_label: str  # the quality metric measured once labels arrive, e.g. "AP", "CTR"
    metric_fmt: str  # format spec for it, e.g. ".3f" or ".2%"
    higher_is_better: bool = True
    label_delay_days: int  # outcomes of day d are known on day d + label_delay_days
    metric_days: int = 3  # the metric of day d pools days d - metric_days + 1 .. d
    drop_share: float = 0.05  # a measured drop: the metric below its normal level by this share
    days: int
    scenario: str
    drift_day: int | None  # first day the scenario acts, None for "none"

    @abstractmethod
    def initial_model(self) -> Any:
        """The model in service on day 0 (the registered design)."""

    @abstractmethod
    def reference(self, model: Any, n: int, rng: np.random.Generator) -> Window:
        """`n` requests from the training period: what the monitors compare each window with."""

    @abstractmethod
    def serve(self, day: int, model: Any, n: int, rng: np.random.Generator) -> Window:
        """`n` requests of `day`, answered by `model`, with the outcomes the world gives them."""

    @abstractmethod
    def retrain(self, day: int) -> tuple[Any, float]:
        """A model trained on what is labelled on `day` (outcomes up to day - label delay), and the
        measured training time in milliseconds."""

    @abstractmethod
    def metric(self, window: Window) -> float:
        """The study's quality metric on a window's scores and outcomes (AP, CTR)."""

    @abstractmethod
    def predictor(self, model: Any):
        """The study's servable Predictor for a model of this period (a retrain's registry artifact)."""


def check_request(scenarios: Sequence[Scenario], scenario: str, drift_day: int, days: int, data) -> None:
    """The checks every study's serving period needs, as clear messages (DataError); see
    engine.monitoring.lab.build."""
    if data is not None:
        raise DataError(
            "Drift scenarios need the simulated world: uploaded data has no live world to change."
        )
    names = [s.name for s in scenarios]
    if scenario not in names:
        raise DataError(f"Unknown drift scenario {scenario!r}: use one of {', '.join(names)}.")
    if not 1 <= drift_day <= days - 1:
        raise DataError(f"Drift day {drift_day} is outside the serving period: choose 1 to {days - 1}.")


class ClickPeriod(Period):
    """A period measured by click-through: each request's outcome is its share of shown items clicked,
    and clicks are known the next day."""

    metric_label = "CTR"
    metric_fmt = ".2%"
    label_delay_days = 1

    def metric(self, window: Window) -> float:
        return float(np.mean(window.outcome)) if window.outcome.size else float("nan")
