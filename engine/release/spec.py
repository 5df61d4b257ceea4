"""What a study declares so the Production page can release and monitor it on its simulated world."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.release.pool import Pool


@dataclass(frozen=True)
class Placement:
    """Where the Production page's router and monitor join the study's architecture graph."""

    serving: str  # the stage the router splits traffic into, between the champion and a challenger
    router_pos: tuple[float, float]
    watched: str  # the stage whose requests and answers the monitors read
    retraining: str  # the stage an alert sends a retrain to
    monitor_pos: tuple[float, float]


@dataclass(frozen=True)
class Release:
    """The study's online metric and the world behind it.

    `pools(config, seed, predictors, n, traffic_seed)` answers the same `n` live requests with each
    predictor and returns each one's Pool of outcomes in the world of `config` (the champion's);
    `agreement(champion_answers, challenger_answers)` says how alike two models' answers are, by
    name; `monitoring` names the module with the study's drift `SCENARIOS` and `build_period`."""

    metric_label: str  # e.g. "CTR"
    metric_fmt: str  # format spec, e.g. ".2%"
    higher_is_better: bool
    metric_help: str
    pools: Callable[..., Sequence[Pool]]
    agreement: Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, float]]
    monitoring: str
    placement: Placement
    default_rpm: int = 1000  # requests per minute a canary of this study sees by default

    def format(self, value: float) -> str:
        return format(value, self.metric_fmt)

    @property
    def drift(self):
        """The study's drift module (imported on first use: it needs the study's libraries)."""
        return importlib.import_module(self.monitoring)


def overlap_at_k(first: list[list[Any]], second: list[list[Any]]) -> float:
    """Mean share of the first list's items that the second list also shows, request by request."""
    shares = [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(first, second, strict=True)]
    return float(sum(shares) / max(len(shares), 1))


def same_first(first: list[list[Any]], second: list[list[Any]]) -> float:
    """Share of requests whose top answer is the same for both models."""
    same = [bool(a) and bool(b) and a[0] == b[0] for a, b in zip(first, second, strict=True)]
    return float(sum(same) / max(len(same), 1))
