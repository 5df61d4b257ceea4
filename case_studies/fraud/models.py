"""Classifiers, imbalance handling, calibration and the cost-tuned decision policy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

UNDERSAMPLE_RATIO = 20  # legitimate transactions kept per fraud


def make_model(kind: str, imbalance: str, seed: int):
    weight = "balanced" if imbalance == "class_weight" else None
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight=weight))
    if kind == "random_forest":
        return RandomForestClassifier(
            n_estimators=50, max_depth=20, n_jobs=2, class_weight=weight, random_state=seed
        )
    return HistGradientBoostingClassifier(  # slow and shallow: a few hundred frauds overfit easily
        max_iter=200,
        learning_rate=0.05,
        max_depth=4,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        class_weight=weight,
        random_state=seed,
    )


def fit(kind: str, imbalance: str, seed: int, x: np.ndarray, y: np.ndarray):
    if imbalance == "undersample":
        rng = np.random.default_rng(seed)
        legit = np.flatnonzero(~y)
        keep = rng.choice(legit, min(legit.size, UNDERSAMPLE_RATIO * int(y.sum())), replace=False)
        rows = np.sort(np.concatenate([np.flatnonzero(y), keep]))
        x, y = x[rows], y[rows]
    # One BLAS/OpenMP thread: on a few thousand rows, threads cost more than they save, and on a
    # busy server they stall (gradient boosting: 0.24 s alone, 2 s with two threads under load).
    with threadpool_limits(1):
        model = make_model(kind, imbalance, seed).fit(x, y)
    if kind == "random_forest":
        model.set_params(n_jobs=1)  # serving scores one transaction at a time: no thread pool
    return model


class Calibrator:
    """Platt scaling: a logistic curve from a model's score to the probability of fraud, fitted on
    labelled payments the model never saw. Class weights and undersampling inflate scores (a mean
    score of .27 where 0.5 % are fraud); a cost is only right on calibrated probabilities.

    The curve keeps the model's order: on a week where a new fraud pattern makes the scores rank
    backwards, a fitted slope below zero would turn the model upside down, so the calibration then
    only moves the base rate (slope 1, the intercept refitted)."""

    def __init__(self, scores: np.ndarray, fraud: np.ndarray):
        z = _logit(scores)
        curve = LogisticRegression(C=1e4).fit(z[:, None], fraud)
        self.slope, self.intercept = float(curve.coef_[0, 0]), float(curve.intercept_[0])
        if self.slope <= 0:
            self.slope = 1.0
            loss = lambda b: -np.mean(fraud * -np.logaddexp(0, -(z + b)) + ~fraud * -np.logaddexp(0, z + b))  # noqa: E731
            self.intercept = float(minimize_scalar(loss, bounds=(-30, 30), method="bounded").x)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.slope * _logit(scores) + self.intercept)))


def _logit(scores: np.ndarray) -> np.ndarray:
    clipped = np.clip(scores, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class Costs:
    """What each outcome costs: a missed fraud its amount; a legitimate payment sent to review
    `review` (analyst time, a delayed customer); one declined outright `decline` (a lost sale, and
    often the customer)."""

    review: float
    decline: float
    capacity: int  # alerts the analysts can review a day; the rest are approved unread


def tune_policy(p: np.ndarray, fraud: np.ndarray, amount: np.ndarray, day: np.ndarray, costs: Costs):
    """The review and block thresholds on calibrated probabilities `p` that minimise the cost of
    labelled days: each day the `capacity` riskiest alerts are reviewed (fraud caught, a legitimate
    one costs `costs.review`), the rest approved; payments above the block threshold are declined
    (a legitimate one costs `costs.decline`). Returns (review threshold, block threshold)."""
    top = np.sort(p)[-max(50, p.size // 10) :]  # alerts are rare: thresholds live among the riskiest
    grid = np.unique(np.concatenate([np.quantile(top, np.linspace(0, 1, 40)), [1.0 + 1e-9]]))
    risky = p >= grid[0]  # below the lowest threshold every policy approves: a constant cost
    p, fraud, amount, day = p[risky], fraud[risky], amount[risky], day[risky]
    order = np.lexsort((-p, day))
    rank = np.empty(p.size, int)
    rank[order] = np.arange(p.size) - np.searchsorted(day[order], day[order], side="left")
    days = np.unique(day, return_inverse=True)[1]
    best = (np.inf, 1.0 + 1e-9, 1.0 + 1e-9)
    # Highest thresholds first, and only a strictly cheaper policy replaces the best: on a tie the
    # policy that intervenes least (reviews rather than declines, approves rather than reviews) wins.
    grid = grid[::-1]
    for block_at in grid:
        blocked = p >= block_at
        ahead = np.bincount(days, weights=blocked, minlength=days.max(initial=0) + 1)[days]
        within = (rank - ahead) < costs.capacity  # among the day's unblocked, the riskiest
        decline_cost = costs.decline * (blocked & ~fraud).sum()
        for review_at in grid[grid <= block_at]:
            reviewed = (p >= review_at) & ~blocked & within
            stopped = blocked | reviewed
            cost = amount[fraud & ~stopped].sum() + costs.review * (reviewed & ~fraud).sum() + decline_cost
            if cost < best[0]:
                best = (cost, float(review_at), float(block_at))
    return best[1], best[2]
