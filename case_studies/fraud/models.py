"""Classifiers, imbalance handling and the cost-based decision threshold."""

from __future__ import annotations

import numpy as np
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


def cost_threshold(
    scores: np.ndarray, fraud: np.ndarray, amount: np.ndarray, false_alarm_cost: float
) -> float:
    """The score cut-off that minimises cost on labelled data: a missed fraud costs its amount, a
    false alarm costs `false_alarm_cost` (analyst time and customer friction)."""
    order = np.argsort(-scores, kind="stable")
    s, y, a = scores[order], fraud[order], amount[order]
    missed = (a * y).sum() - np.concatenate([[0.0], np.cumsum(a * y)])  # flag the top i, i = 0..n
    false_alarms = np.concatenate([[0.0], np.cumsum(~y)])
    cost = missed + false_alarm_cost * false_alarms
    cost[1:-1][s[:-1] == s[1:]] = np.inf  # a cut inside a run of tied scores is not a threshold
    flagged = int(np.argmin(cost))
    return 1.0 + 1e-9 if flagged == 0 else float(s[flagged - 1])
