"""Drift monitors: each column of a window against the reference, under one of two presets.

- "evidently": Evidently's default rule. With at most 1,000 reference rows: Kolmogorov-Smirnov for
  numeric columns, chi-squared for categorical ones, drift at p < 0.05; with more: Wasserstein
  distance over the reference's standard deviation and Jensen-Shannon distance, drift above 0.1.
  The window (the dataset) drifts when at least half of its columns do.
- "psi": the credit-scoring rule of thumb on every column: PSI above 0.1 is a warning, above 0.25
  needs action; the window drifts when any column (the prediction score included) needs action.

Every column's verdict is also a "drift score": the statistic over its threshold (for p-values,
-log10 p over -log10 0.05), so 1 is the line on any column and a heatmap can share one scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.monitoring import stats
from engine.monitoring.period import Feature

PRESETS = ("evidently", "psi")
EVIDENTLY_SMALL_REFERENCE = 1000  # rows: at most this many, statistical tests; above, distances
P_VALUE = 0.05
DISTANCE = 0.1
PSI_WARNING, PSI_ACTION = 0.1, 0.25
DATASET_SHARE = 0.5
SCORE = "score"


@dataclass(frozen=True)
class Verdict:
    method: str  # "KS p", "chi² p", "Wasserstein/σ", "Jensen-Shannon", "PSI"
    value: float
    drift_score: float  # value over its threshold: ≥ 1 drifts
    psi: float  # always computed: the one statistic comparable across presets
    p_value: float  # always computed: KS for numeric columns, chi-squared for categorical ones

    @property
    def drifted(self) -> bool:
        return self.drift_score >= 1


def judge(reference, current, kind: str, preset: str, reference_rows: int) -> Verdict:
    categorical = kind == "categorical"
    psi = stats.psi_categorical(reference, current) if categorical else stats.psi(reference, current)
    test = "chi² p" if categorical else "KS p"
    p = stats.chi2_pvalue(reference, current) if categorical else stats.ks_pvalue(reference, current)
    if preset == "psi":
        return Verdict("PSI", psi, psi / PSI_ACTION, psi, p)
    if reference_rows <= EVIDENTLY_SMALL_REFERENCE:
        return Verdict(test, p, _p_score(p), psi, p)
    if categorical:
        distance = stats.jensen_shannon(reference, current)
        return Verdict("Jensen-Shannon", distance, distance / DISTANCE, psi, p)
    distance = stats.wasserstein_sigma(reference, current)
    return Verdict("Wasserstein/σ", distance, distance / DISTANCE, psi, p)


def _p_score(p: float) -> float:
    return -math.log10(max(p, 1e-300)) / -math.log10(P_VALUE)


def columns(features: tuple[Feature, ...]) -> list[tuple[str, str]]:
    """(name, kind) of every monitored column: the features, then the prediction score."""
    return [(f.name, f.kind) for f in features] + [(SCORE, "numeric")]


def window_drifts(verdicts: dict[str, Verdict], preset: str) -> bool:
    """The dataset-level alert of a window."""
    if preset == "psi":
        return any(v.psi > PSI_ACTION for v in verdicts.values())
    return np.mean([v.drifted for v in verdicts.values()]) >= DATASET_SHARE
