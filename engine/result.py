"""What one run of a study returns: its metrics, its stages' timings and how sure each number is.

A study's runner returns a `Measured`; `engine.run` adds the configuration and seed to make a
`RunResult`. Pages, the CLI and the lessons read the uncertainty from one typed place, so no page
guesses a default unit or a missing band."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.measure import bootstrap_range, half_width


@dataclass(frozen=True)
class StageTiming:
    """Measured latency of one pipeline stage: per request for online stages, per run for offline ones."""

    name: str
    ms: float


@dataclass(frozen=True)
class Uncertainty:
    """How sure a run's metrics are.

    `noise` is each metric's half-width of its noise band (a measured latency's, or a quality
    metric's range over resampled units); `intervals` the 95 % ranges shown to the learner, over
    `unit` ("2,000 evaluation users"); `per_unit` each resampled metric's value per unit, and `units`
    names those units (the same users in the same order), so two runs scored on the same units are
    compared pairwise."""

    noise: Mapping[str, float] = field(default_factory=dict)
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    unit: str = ""
    per_unit: Mapping[str, np.ndarray] = field(default_factory=dict)
    units: str | None = None

    @classmethod
    def resampled(
        cls,
        per_unit: Mapping[str, np.ndarray],
        seed: int,
        unit: str,
        units: str | None,
        noise: Mapping[str, float] | None = None,
    ) -> Uncertainty:
        """95 % bootstrap ranges of the mean of each metric's values per unit (users, queries, days),
        and their half-widths as the metrics' noise; `noise` adds measured bands (latency)."""
        per_unit = {key: np.asarray(values, float) for key, values in per_unit.items() if len(values)}
        intervals = {key: bootstrap_range(values, seed) for key, values in per_unit.items()}
        bands = {key: half_width(interval) for key, interval in intervals.items()}
        return cls({**bands, **(noise or {})}, intervals, unit, per_unit, units)

    @property
    def paired(self) -> bool:
        """Whether a change against another run of the same units is judged unit by unit."""
        return bool(self.per_unit) and self.units is not None


@dataclass
class RunResult:
    study: str
    config: dict[str, Any]
    seed: int
    metrics: dict[str, float]
    stages: list[StageTiming]
    uncertainty: Uncertainty = field(default_factory=Uncertainty)
    artifacts: dict[str, Any] = field(default_factory=dict)  # what the study's charts draw

    def noise(self, key: str) -> float:
        """Half-width of a measured metric's noise band (0 for deterministic metrics)."""
        return self.uncertainty.noise.get(key, 0.0)

    def noise_against(self, other: RunResult, key: str) -> float:
        """Half-width of the band for `self - other` on `key`. Two runs scored on the same users,
        queries or days (same world and seed) are compared pairwise, unit by unit, which is what a
        candidate would defend; otherwise the two runs' bands add."""
        mine, theirs = self.uncertainty, other.uncertainty
        if mine.paired and mine.units == theirs.units and key in mine.per_unit and key in theirs.per_unit:
            difference = np.asarray(mine.per_unit[key]) - np.asarray(theirs.per_unit[key])
            return half_width(bootstrap_range(difference, self.seed))
        return self.noise(key) + other.noise(key)

    def stage_ms(self) -> dict[str, float]:
        return {s.name: s.ms for s in self.stages}

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "config": self.config,
            "seed": self.seed,
            "metrics": self.metrics,
            "stages": [{"name": s.name, "ms": s.ms} for s in self.stages],
        }

    def to_json(self) -> str:
        """Strict JSON: a metric the data cannot give (NaN, such as a simulated one on an upload) is null."""
        payload = self.to_dict()
        payload["metrics"] = {k: None if v != v else v for k, v in self.metrics.items()}  # NaN != NaN
        return json.dumps(payload, indent=2, allow_nan=False)


@dataclass(frozen=True)
class Measured:
    """What a study's runner returns for one configuration: `engine.run` checks it against the
    study's declaration and makes the RunResult."""

    metrics: dict[str, float]
    stage_ms: dict[str, float]
    uncertainty: Uncertainty
    artifacts: dict[str, Any] = field(default_factory=dict)
