"""The CTR models and what turns their scores into probabilities money can be computed from.

- `logistic`: logistic regression on the hashed one-hot ids and crosses (liblinear).
- `gbdt`: LightGBM on the feature store's counts (past CTRs of the ad, the user, the placement…).
- `gbdt_lr`: the trees' leaves as extra one-hot features of the logistic regression (He et al.,
  Facebook, 2014): the trees find interactions among the counts, the linear model keeps the ids.

Negative downsampling keeps every click and a share w of the other impressions: training is faster,
and the model's odds are 1/w too high. `recalibrate` undoes it exactly, q = p / (p + (1 − p) / w).
A calibration method (Platt, isotonic) is fitted on a slice of the train window held out from the
model, never downsampled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

TREES, LEAVES = 60, 15
C = 0.3  # the logistic regression's inverse regularisation, chosen on seed 0's held-out slice
C_STACKED = 0.03  # on ids and leaves: the leaves are strong, and ids beside them overfit


@dataclass(frozen=True)
class Linear:
    """Logistic regression weights over all 2^bits hashed columns (what is served), fitted on the
    columns the train window uses: a column no training row touches keeps weight 0 either way, and
    the fit's time no longer grows with 2^bits."""

    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, x: sp.csr_matrix, y: np.ndarray, c: float) -> Linear:
        used = np.unique(x.indices)
        model = LogisticRegression(C=c, solver="liblinear").fit(x[:, used], y)
        coef = np.zeros(x.shape[1])
        coef[used] = model.coef_[0]
        return cls(coef, float(model.intercept_[0]))

    def probability(self, x: sp.csr_matrix) -> np.ndarray:
        return 1 / (1 + np.exp(-(x @ self.coef + self.intercept)))


@dataclass(frozen=True)
class CtrModel:
    kind: str
    linear: Linear | None
    trees: Any  # a fitted LGBMClassifier, or None
    negative_rate: float
    recalibrate: bool
    calibrator: Any  # maps a score to a probability, or None

    def raw(self, ids: sp.csr_matrix, counts: np.ndarray | None) -> np.ndarray:
        """The model's own probability (as trained: on downsampled data its odds are 1/w too high)."""
        if self.kind == "gbdt":
            return self.trees.predict_proba(counts)[:, 1]
        x = ids if self.kind == "logistic" else sp.hstack([ids, self.leaves(counts)], format="csr")
        return self.linear.probability(x)

    def leaves(self, counts: np.ndarray) -> sp.csr_matrix:
        leaf = self.trees.predict(counts, pred_leaf=True)  # (rows, trees)
        n, k = leaf.shape
        columns = (np.arange(k) * LEAVES + leaf).ravel()
        return sp.csr_matrix((np.ones(n * k, np.float32), columns, np.arange(0, n * k + 1, k)),
                             shape=(n, k * LEAVES))  # fmt: skip

    def probability(self, ids: sp.csr_matrix, counts: np.ndarray | None) -> np.ndarray:
        p = self.raw(ids, counts)
        if self.recalibrate and self.negative_rate < 1:
            p = p / (p + (1 - p) / self.negative_rate)
        if self.calibrator is not None:
            p = self.calibrator(p)
        return np.clip(p, 1e-6, 1 - 1e-6)

    @property
    def memory_bytes(self) -> int:
        """The weights served: the linear model's columns (2^bits float64 and the leaves), the trees'
        nodes (split feature, threshold, children: about 24 bytes each)."""
        linear = self.linear.coef.size * 8 if self.linear is not None else 0
        trees = TREES * (2 * LEAVES - 1) * 24 if self.trees is not None else 0
        return linear + trees


def downsample(y: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """Every click and a share `rate` of the rest."""
    return y | (np.random.default_rng([seed, 11]).random(y.size) < rate)


def fit(
    kind: str, ids, counts, y, seed: int, negative_rate: float, categorical: list[int] | None
) -> CtrModel:
    """`kind` fitted on every click and a share `negative_rate` of the other impressions (rows in
    time order). Trees + LR fits the trees on the older half and the logistic regression, on ids and
    the trees' leaves, on the newer half: leaves of trees fitted on the same rows are too pure, and
    the regression trusts them too much."""
    kept = np.flatnonzero(downsample(y, negative_rate, seed))
    if kind == "logistic":
        return CtrModel(kind, Linear.fit(ids[kept], y[kept], C), None, negative_rate, True, None)
    if kind == "gbdt":
        return CtrModel(
            kind, None, _trees(counts[kept], y[kept], seed, categorical), negative_rate, True, None
        )
    older, newer = kept[: kept.size // 2], kept[kept.size // 2 :]
    model = CtrModel(
        kind, None, _trees(counts[older], y[older], seed, categorical), negative_rate, True, None
    )
    x = sp.hstack([ids[newer], model.leaves(counts[newer])], format="csr")
    return replace(model, linear=Linear.fit(x, y[newer], C_STACKED))


def _trees(counts: np.ndarray, y: np.ndarray, seed: int, categorical: list[int]):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=TREES, num_leaves=LEAVES, learning_rate=0.1, min_child_samples=100,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed, n_jobs=1, verbose=-1,
    ).fit(counts, y, categorical_feature=categorical or "auto")  # fmt: skip


def with_calibration(model: CtrModel, method: str, ids, counts, y) -> CtrModel:
    """`model` with `method` fitted on held-out impressions (ids, counts, y)."""
    if method == "none":
        return model
    scores = model.probability(ids, counts)
    if method == "platt":
        logit = np.log(scores / (1 - scores)).reshape(-1, 1)
        platt = LogisticRegression(C=1e4).fit(logit, y)
        return replace(model, calibrator=_Platt(float(platt.coef_[0, 0]), float(platt.intercept_[0])))
    iso = IsotonicRegression(y_min=1e-6, y_max=1 - 1e-6, out_of_bounds="clip").fit(scores, y)
    return replace(model, calibrator=iso.predict)


@dataclass(frozen=True)
class _Platt:
    slope: float
    intercept: float

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(self.slope * np.log(p / (1 - p)) + self.intercept)))
