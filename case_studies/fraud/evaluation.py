"""The Handbook's evaluation protocol: known cards removed, card precision@k, ranges over test days."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from engine.measure import bootstrap_range

BOOTSTRAP_SAMPLES = 200


def known_card_mask(
    day, customer, fraud, delay_days: int, test_rows: np.ndarray, since: int | None = None
) -> np.ndarray:
    """True for test rows whose card was not yet known to be compromised that day: a fraud's label
    arrives `delay_days` after it, and from then on the card is blocked, not scored. With `since`,
    only frauds from that day on are known (the Handbook forgets those before its train window)."""
    known_from = np.full(customer.max() + 1, np.iinfo(np.int64).max)
    counted = fraud if since is None else fraud & (day >= since)
    np.minimum.at(known_from, customer[counted], day[counted] + delay_days)
    return known_from[customer[test_rows]] > day[test_rows]


def auc(scores: np.ndarray, fraud: np.ndarray) -> float:
    """AUC-ROC; undefined (NaN) without both classes."""
    return float(roc_auc_score(fraud, scores)) if 0 < fraud.sum() < fraud.size else float("nan")


def average_precision(scores: np.ndarray, fraud: np.ndarray) -> float:
    return float(average_precision_score(fraud, scores)) if 0 < fraud.sum() < fraud.size else float("nan")


def card_precision_daily(day, customer, scores, fraud, k: int) -> np.ndarray:
    """Per test day: of the k cards with the highest score (a card's score is its highest
    transaction's), the share truly compromised. Cards found on earlier days are not counted again."""
    found: set[int] = set()
    daily = []
    for d in np.unique(day):
        rows = day == d
        cards, inverse = np.unique(customer[rows], return_inverse=True)
        card_score = np.full(cards.size, -np.inf)
        np.maximum.at(card_score, inverse, scores[rows])
        card_fraud = np.zeros(cards.size, bool)
        np.logical_or.at(card_fraud, inverse, fraud[rows])
        fresh = ~np.isin(cards, list(found))
        cards, card_score, card_fraud = cards[fresh], card_score[fresh], card_fraud[fresh]
        top = np.argsort(-card_score, kind="stable")[:k]
        daily.append(card_fraud[top].sum() / k)
        found.update(cards[top][card_fraud[top]].tolist())
    return np.array(daily)


def ap_range(day, scores, fraud, seed: int) -> tuple[float, float]:
    """A 95 % bootstrap range of average precision, resampling whole test days (frauds cluster by
    day, so resampling rows would understate the noise)."""
    order = np.argsort(-scores, kind="stable")
    day, fraud = day[order], fraud[order].astype(float)
    days, position = np.unique(day, return_inverse=True)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_SAMPLES):
        weight = np.bincount(rng.integers(days.size, size=days.size), minlength=days.size)[position]
        hits = weight * fraud
        if hits.sum() == 0:
            continue
        precision = np.cumsum(hits) / np.maximum(np.cumsum(weight), 1)
        values.append(float((precision * hits).sum() / hits.sum()))
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def mean_range(values: np.ndarray, seed: int) -> tuple[float, float]:
    """95 % bootstrap range of a mean over days."""
    return bootstrap_range(values, seed, BOOTSTRAP_SAMPLES)
