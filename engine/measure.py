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


# The same design's latency, re-measured in the same process on the 2-core machine, moves by up to
# about this share between runs (caches, frequency scaling, the other core's work); a spread within
# one run misses that. `python bench/run.py --only-noise` re-measures it.
RUN_TO_RUN = 0.15


def noise_band(value: float, within_run: float) -> float:
    """Half-width of a latency's noise band: the larger of the within-run spread and the
    run-to-run floor."""
    return max(within_run, RUN_TO_RUN * value)
