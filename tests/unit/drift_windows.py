"""What the drift tests read of a serving period: a model's reference window and one window a day."""

import numpy as np

from engine.monitoring.period import DAYS
from engine.monitoring.stats import psi

N = 1000  # requests per window
DRIFT_DAY = 14


def windows_of(period, model, rng_seed=0):
    """The model's reference window, then one window a day, all from one seeded rng."""
    rng = np.random.default_rng(rng_seed)
    return period.reference(model, N, rng), [period.serve(day, model, N, rng) for day in range(DAYS)]


def score_psi(reference, windows) -> np.ndarray:
    return np.array([psi(reference.score, w.score) for w in windows])


def mean_metric(period, windows) -> float:
    """The period's business metric (clicks, acceptance), averaged over the windows."""
    return float(np.mean([period.metric(w) for w in windows]))
