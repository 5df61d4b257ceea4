"""Measured numbers with their noise band, so a difference inside the noise reads as "≈"."""

from __future__ import annotations

import math

import numpy as np


def quantile_band(samples: np.ndarray, q: float) -> tuple[float, float]:
    """The q-quantile of `samples` and the half-width of its distribution-free 95 % interval: the
    order statistics at ranks n·q ± 1.96·√(n·q·(1−q))."""
    values = np.sort(np.asarray(samples, float))
    n = values.size
    spread = 1.96 * math.sqrt(n * q * (1 - q))
    low = values[max(0, math.floor(n * q - spread))]
    high = values[min(n - 1, math.ceil(n * q + spread))]
    return float(np.quantile(values, q)), float(high - low) / 2


def noise_band(value: float, within_run: float, run_to_run: float) -> float:
    """Half-width of a latency's noise band: the larger of the spread inside one run and the share
    by which the same design's latency moves between runs in one process (`run_to_run`, measured per
    study by `python bench/production.py --only-noise`; a spread inside one run misses caches,
    frequency scaling and the other core's work)."""
    return max(within_run, run_to_run * value)


BOOTSTRAP_SAMPLES = 200


NORMAL_FROM = 5000  # units from which the mean's range is the normal one the bootstrap converges to


def bootstrap_range(values: np.ndarray, seed: int, samples: int = BOOTSTRAP_SAMPLES) -> tuple[float, float]:
    """95 % bootstrap range of the mean of `values` (one per user, query or day), resampling them.

    From NORMAL_FROM units on, the range is mean ± 1.96 standard errors, which the bootstrap's
    converges to: resampling ads' 40,000 impressions 200 times took 150 ms of every repaint."""
    values = np.asarray(values, float)
    if values.size >= NORMAL_FROM:
        mean, error = values.mean(), 1.96 * values.std() / np.sqrt(values.size)
        return float(mean - error), float(mean + error)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(values.size, size=(samples, values.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def half_width(interval: tuple[float, float]) -> float:
    return (interval[1] - interval[0]) / 2
