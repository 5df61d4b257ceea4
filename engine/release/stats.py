"""The statistics behind a canary's metric guardrail: a z-test on the difference of two means, the
power analysis that sizes a step, and O'Brien-Fleming boundaries for testing at every look.

Testing a fixed-horizon z-test at every analysis interval ("peeking") inflates the false-positive
rate; Lan-DeMets alpha spending with the O'Brien-Fleming-like function spends almost nothing on the
early looks and keeps the whole rollout's false-rollback rate at alpha."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

BOUNDARY_PATHS = 200_000  # Monte Carlo paths behind the sequential boundaries: alpha within ±0.001


def sample_size_per_arm(
    effect: float, sd_base: float, sd_new: float, alpha: float, power: float, sides: int = 2
) -> int:
    """Requests each arm needs to detect a change of `effect` in a mean (normal approximation).

    For a click-through rate pass `sd = sqrt(p (1 - p))` of each arm: 5.0 % → 5.5 % at alpha 0.05
    (two-sided) and power 0.8 needs about 31,230 per arm (statsmodels' arcsine version says 31,217)."""
    if effect == 0:
        raise ValueError("a zero effect needs infinitely many requests")
    z = stats.norm.ppf(1 - alpha / sides) + stats.norm.ppf(power)
    return int(np.ceil(z**2 * (sd_base**2 + sd_new**2) / effect**2))


def detectable_effect(n_base: float, n_new: float, sd: float, alpha: float, power: float) -> float:
    """The smallest drop a one-sided test at `alpha` catches with probability `power`."""
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)
    return float(z * sd * np.sqrt(1 / n_base + 1 / n_new))


def spent_alpha(fraction: np.ndarray, alpha: float) -> np.ndarray:
    """Lan-DeMets O'Brien-Fleming-like spending: the share of alpha used by information `fraction`."""
    fraction = np.asarray(fraction, float)
    return 2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / np.sqrt(fraction))


def sequential_bounds(fractions: tuple[float, ...], alpha: float) -> np.ndarray:
    """One-sided z boundaries at each look (information `fractions`, increasing to 1), so that the
    chance of ever crossing under the null is `alpha`. Infinite where a look may spend nothing."""
    return _bounds(tuple(round(f, 6) for f in fractions), round(alpha, 6)).copy()


@lru_cache(maxsize=64)
def _bounds(fractions: tuple[float, ...], alpha: float) -> np.ndarray:
    t = np.asarray(fractions)
    rng = np.random.default_rng(0)  # fixed: the same schedule always gets the same boundaries
    steps = rng.standard_normal((BOUNDARY_PATHS, t.size)) * np.sqrt(np.diff(t, prepend=0.0))
    z = np.cumsum(steps, axis=1) / np.sqrt(t)  # the z statistic at each look under the null
    allowed = np.round(spent_alpha(t, alpha) * BOUNDARY_PATHS)  # paths that may have crossed by each look
    alive = np.ones(BOUNDARY_PATHS, bool)
    bounds = np.full(t.size, np.inf)
    for look in range(t.size):
        crossings = int(allowed[look]) - int((~alive).sum())
        if crossings >= 1:
            candidates = np.sort(z[alive, look])[::-1]
            bounds[look] = candidates[min(crossings, candidates.size) - 1]
            alive &= z[:, look] < bounds[look]
    return bounds


def fixed_bounds(looks: int, alpha: float) -> np.ndarray:
    """The naive rule: a fixed-horizon one-sided test repeated at every look."""
    return np.full(looks, stats.norm.ppf(1 - alpha))
