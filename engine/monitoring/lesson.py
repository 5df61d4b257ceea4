"""The window-size lesson, measured on a study's own prediction score: at small windows PSI and
distance thresholds fire on pure noise, at large ones Kolmogorov-Smirnov flags shifts too small to
matter (domains.md §4.4 reproduces it on normal samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from engine.monitoring import stats
from engine.monitoring.period import Period

SIZES = (100, 1000, 10_000)
SHIFTS = (0.0, 0.1, 0.5)  # mean shifts of the current window's score, in its σ
REPEATS = 40


def window_lesson(
    period: Period, sizes=SIZES, shifts=SHIFTS, repeats: int = REPEATS, seed: int = 0
) -> pd.DataFrame:
    """Per window size and shift: the median PSI, the share of windows over 0.1, the share where KS
    rejects at 0.05, and the same for Wasserstein/σ over 0.1, on the model's score before any drift."""
    rng = np.random.default_rng(seed)
    model = period.initial_model()
    normal_days = period.drift_day or period.days
    rows = []
    for n in sizes:
        pairs = [
            (period.reference(model, n, rng).score, _current(period, model, n, normal_days, rng))
            for _ in range(repeats)
        ]
        for shift in shifts:
            psi, ks, distance = [], [], []
            for reference, current in pairs:
                moved = _tilted(current, shift, rng)
                psi.append(stats.psi(reference, moved))
                ks.append(stats.ks_pvalue(reference, moved))
                distance.append(stats.wasserstein_sigma(reference, moved))
            psi, ks, distance = np.array(psi), np.array(ks), np.array(distance)
            rows.append(
                {
                    "window": n,
                    "shift (σ)": shift,
                    "median PSI": float(np.median(psi)),
                    "PSI > 0.1": float((psi > 0.1).mean()),
                    "KS p < 0.05": float((ks < 0.05).mean()),
                    "median Wasserstein/σ": float(np.median(distance)),
                    "Wasserstein/σ > 0.1": float((distance > 0.1).mean()),
                }
            )
    return pd.DataFrame(rows)


def _current(period: Period, model, n: int, normal_days: int, rng) -> np.ndarray:
    """`n` served scores from days before the drift; a small world's day may hold fewer, so the
    window spans as many days as it needs."""
    scores, have = [], 0
    for day in rng.permutation(normal_days):
        scores.append(period.serve(int(day), model, n - have, rng).score)
        have += scores[-1].size
        if have >= n:
            break
    return np.concatenate(scores)


def _tilted(scores: np.ndarray, shift: float, rng) -> np.ndarray:
    """The window resampled with weights exp(λ · z), λ chosen so that its mean moves by `shift` σ
    while the scores keep their support (adding shift · σ would push the point masses of a skewed,
    tied score across every bin edge and exaggerate PSI)."""
    if shift == 0:
        return scores
    z = (scores - scores.mean()) / max(scores.std(), 1e-12)

    def weights(tilt: float) -> np.ndarray:
        w = np.exp(tilt * z - np.max(tilt * z))
        return w / w.sum()

    tilt = optimize.brentq(lambda t: weights(t) @ z - shift, 0.0, 20.0) if z.max() > shift else 20.0
    return rng.choice(scores, scores.size, p=weights(tilt))
