"""What one run of a study returns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.measure import bootstrap_range, half_width


@dataclass(frozen=True)
class StageTiming:
    """Measured latency of one pipeline stage: per request for online stages, per run for offline ones."""

    name: str
    ms: float


@dataclass
class RunResult:
    study: str
    config: dict[str, Any]
    seed: int
    metrics: dict[str, float]
    stages: list[StageTiming]
    artifacts: dict[str, Any] = field(default_factory=dict)

    def noise(self, key: str) -> float:
        """Half-width of a measured metric's noise band (0 for deterministic metrics)."""
        return self.artifacts.get("noise", {}).get(key, 0.0)

    def noise_against(self, other: RunResult, key: str) -> float:
        """Half-width of the band for `self - other` on `key`. Two runs scored on the same users,
        queries or days (same world and seed) are compared pairwise, unit by unit, which is what a
        candidate would defend; otherwise the two runs' bands add."""
        mine, theirs = (
            self.artifacts.get("per_unit", {}).get(key),
            other.artifacts.get("per_unit", {}).get(key),
        )
        units = self.artifacts.get("units")
        if (
            mine is not None
            and theirs is not None
            and units is not None
            and units == other.artifacts.get("units")
        ):
            return half_width(bootstrap_range(np.asarray(mine) - np.asarray(theirs), self.seed))
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
