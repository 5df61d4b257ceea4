"""The fraud system's runner: build features, train on delayed labels, decide, review, measure.

Time is respected everywhere. A model deployed on day D was trained on the labels known then
(transactions before D − delay), minus the most recent labelled week, which tunes its cost threshold.
With a retraining cadence, each test period gets the model the team would have had on its first day.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np

from case_studies.fraud import evaluation as ev
from case_studies.fraud.features import FeatureStore, columns_for
from case_studies.fraud.models import cost_threshold, fit
from case_studies.fraud.spec import STUDY
from case_studies.fraud.world import RULE_LIMIT, VALIDATION_DAYS, Log, generate_world
from engine.data import DataError
from engine.memo import Step
from engine.result import Measured, Uncertainty
from engine.timing import StageClock, time_requests, timed

CADENCE_DAYS = {"never": None, "biweekly": 14, "weekly": 7}
HANDBOOK_TEST_DAYS = 7
BLOCK_SCORE = 0.9  # above this the model declines outright; below, alerts go to analysts
CARDS_PER_CUSTOMER = 100 / 5000  # the Handbook's investigators check 100 cards a day per 5,000 customers
TIMED_REQUESTS = 400  # test payments sampled as live requests, each served alone
FEATURE_GROUPS = ("time_flags", "customer_windows", "terminal_windows")
ALL_COLUMNS = columns_for(dict.fromkeys(FEATURE_GROUPS, True))

WORLD = Step(STUDY.id, "world", ("scale", "drift", "drift_day"), max_entries=6)
# A store and its feature matrix per label delay: ~40 MB each.
STORE = Step(STUDY.id, "feature store", ("label_delay",), after=(WORLD,), max_entries=3)
MODEL = Step(
    STUDY.id,
    "model",
    (*FEATURE_GROUPS, "model", "imbalance", "train_window"),
    after=(STORE,),
    max_entries=48,
)


@dataclass(frozen=True)
class Deployment:
    """A model serving test days [start, end), with the threshold tuned for it."""

    start: int
    end: int
    model: Any
    threshold: float
    train_ms: float


@dataclass(frozen=True)
class System:
    """A configuration's serving system: the log, its feature store, and the models deployed."""

    log: Log
    store: FeatureStore
    labels_ms: float
    columns: tuple[str, ...]
    x: np.ndarray  # every logged payment's features, the configured columns
    deployments: list[Deployment]


def assemble(config: dict[str, Any], seed: int, data) -> System:
    log = world_log(config, seed, data)
    (store, features), labels_ms = STORE.get(
        config, seed, data, lambda knobs: timed(lambda: _feature_store(log, knobs["label_delay"]))
    )
    columns = columns_for({group: config[group] for group in FEATURE_GROUPS})
    x = features[:, [ALL_COLUMNS.index(c) for c in columns]]
    deployments = [
        _deploy(log, x, config, seed, data, start, end)
        for start, end in _periods(log, config["retraining"], test_days(log, config))
    ]
    return System(log, store, labels_ms, columns, x, deployments)


def world_log(config: dict[str, Any], seed: int, data) -> Log:
    """The payment log of `config`'s world (or the upload), without building features or models."""
    if data is not None:
        return data.log
    return WORLD.get(
        config, seed, data, lambda k: generate_world(k["scale"], k["drift"], k["drift_day"], seed)
    )


def test_days(log: Log, config: dict[str, Any]) -> int:
    """The days scored: the Handbook's week or the whole test period (an upload's may be shorter)."""
    return min(HANDBOOK_TEST_DAYS if config["protocol"] == "handbook" else log.test_days, log.test_days)


def _scored(log: Log, config: dict[str, Any], test: np.ndarray) -> np.ndarray:
    """Test rows whose card is not yet known to be compromised. The lab knows every card confirmed
    since the log began; the Handbook's code knows those confirmed since its train window began, one
    day later than the delay (it adds the day before each test day minus the delay)."""
    delay = config["label_delay"]
    if config["protocol"] == "handbook":
        since = log.test_start - delay - config["train_window"]
        return ev.known_card_mask(log.day, log.customer, log.fraud, delay + 1, test, since=since)
    return ev.known_card_mask(log.day, log.customer, log.fraud, delay, test)


def decide(amount: np.ndarray, scores: np.ndarray, threshold) -> np.ndarray:
    """The policy: 'block' above the $220 rule or a confident score, 'review' above the threshold."""
    blocked = (amount > RULE_LIMIT) | (scores >= np.maximum(BLOCK_SCORE, threshold))
    return np.where(blocked, "block", np.where(scores >= threshold, "review", "approve"))


def run(config: dict[str, Any], seed: int, data) -> Measured:
    system = assemble(config, seed, data)
    log, deployments = system.log, system.deployments
    days = test_days(log, config)
    test = np.flatnonzero((log.day >= log.test_start) & (log.day < log.test_start + days))
    scores = np.empty(test.size)
    thresholds = np.empty(test.size)
    for dep in deployments:
        rows = (log.day[test] >= dep.start) & (log.day[test] < dep.end)
        scores[rows] = dep.model.predict_proba(system.x[test[rows]])[:, 1]
        thresholds[rows] = dep.threshold
    latency = _latency(system, test, seed)
    stage_ms = {**latency.stage_ms, "Labels": system.labels_ms}
    stage_ms["Retraining"] = sum(d.train_ms for d in deployments)

    scored = _scored(log, config, test)
    metrics, per_day, artifacts = _evaluate(log, test[scored], scores[scored], thresholds[scored], config)
    metrics.update(
        latency.metrics(),
        train_s=stage_ms["Retraining"] / 1000,
        threshold=deployments[0].threshold,
        transactions=float(len(log)),
        fraud_rate=float(log.fraud.mean()),
    )
    artifacts["retrain_days"] = [d.start - log.test_start for d in deployments[1:]]
    intervals = {
        "average_precision": ev.ap_range(per_day["day"], per_day["scores"], per_day["fraud"], seed),
        "card_precision@100": ev.mean_range(per_day["card_precision"], seed),
    }
    noise = {key: (high - low) / 2 for key, (low, high) in intervals.items()}
    uncertainty = Uncertainty({**noise, **latency.noise()}, intervals, f"{days} test days")
    return Measured(metrics, stage_ms, uncertainty, artifacts)


def _feature_store(log: Log, delay: int) -> tuple[FeatureStore, np.ndarray]:
    """The store for a label delay and every feature of every logged payment, from which each run
    picks its feature groups' columns; the time to index the (delayed) labels is the store's."""
    store = FeatureStore.build(log, delay)
    return store, store.features(log.time, log.customer, log.terminal, log.amount, ALL_COLUMNS)


def _periods(log: Log, retraining: str, days: int) -> list[tuple[int, int]]:
    every = CADENCE_DAYS[retraining] or days
    end = log.test_start + days
    return [(d, min(d + every, end)) for d in range(log.test_start, end, every)]


def deploy(system: System, config: dict[str, Any], seed: int, data, start: int, end: int) -> Deployment:
    """A model for `system` deployed on day `start` (a retrain), trained on what is labelled then."""
    return _deploy(system.log, system.x, config, seed, data, start, end)


def _deploy(log: Log, x, config, seed: int, data, start: int, end: int) -> Deployment:
    """The model in production from day `start`, fitted on the newest labelled days. Its threshold
    is tuned by cost on the newest labelled week, scored by the model fitted a week earlier (which
    never saw that week): the threshold transfers, the overfit in-sample scores would not."""
    labelled_until = start - config["label_delay"]
    validation_from = labelled_until - VALIDATION_DAYS
    if validation_from - config["train_window"] < 0:
        raise DataError(
            f"Not enough history before day {start}: a {config['train_window']}-day train window, "
            f"{VALIDATION_DAYS} validation days and a {config['label_delay']}-day label delay need "
            f"{config['train_window'] + VALIDATION_DAYS + config['label_delay']} days. Shorten the train "
            "window or the label delay."
        )
    model, train_ms = _fitted(log, x, config, seed, data, labelled_until)
    earlier, _ = _fitted(log, x, config, seed, data, validation_from)
    week = (log.day >= validation_from) & (log.day < labelled_until) & (log.amount <= RULE_LIMIT)
    threshold = cost_threshold(
        earlier.predict_proba(x[week])[:, 1], log.fraud[week], log.amount[week], config["false_alarm_cost"]
    )
    return Deployment(start, end, model, threshold, train_ms)


def _fitted(log: Log, x, config, seed: int, data, until: int):
    """A model fitted on the `train_window` labelled days before day `until`, and its fit time."""
    rows = (log.day >= until - config["train_window"]) & (log.day < until)
    if not log.fraud[rows].any():
        raise DataError(f"No fraud is labelled in the train window ending on day {until - 1}.")

    def train(knobs):
        return timed(lambda: fit(knobs["model"], knobs["imbalance"], seed, x[rows], log.fraud[rows]))

    return MODEL.get(config, seed, data, train, extra=(until,))


def _latency(system: System, test: np.ndarray, seed: int):
    """Test payments served as live requests, each alone: the message parsed, the $220 rule, the
    live features, the score, the decision."""
    log, store, columns, deployment = system.log, system.store, system.columns, system.deployments[0]
    rows = np.random.default_rng(seed).choice(test, min(TIMED_REQUESTS, test.size), replace=False)
    queue: list[tuple[float, int]] = []

    def serve(row: int, clock: StageClock) -> None:
        with clock.stage("API_Gateway"):
            request = {  # what the gateway parses out of the payment message
                "time": np.array([log.time[row]]),
                "customer": np.array([log.customer[row]]),
                "terminal": np.array([log.terminal[row]]),
                "amount": np.array([float(log.amount[row])]),
            }
        with clock.stage("Rules"):
            blocked_by_rule = request["amount"][0] > RULE_LIMIT
        with clock.stage("Feature_Store"):
            x = store.features(
                request["time"], request["customer"], request["terminal"], request["amount"], columns
            )
        with clock.stage("Model_Serving"):
            score = float(deployment.model.predict_proba(x)[0, 1])
        with clock.stage("Decision"):
            if not blocked_by_rule and deployment.threshold <= score < BLOCK_SCORE:
                heapq.heappush(queue, (-score, row))  # analysts take the riskiest first

    return time_requests(serve, rows.tolist(), STUDY.latency_floor, seed)


def _evaluate(log: Log, rows, scores, thresholds, config):
    """Quality of the scores, then what the decision policy and the review team make of them; and
    the per-day values the ranges resample."""
    day, fraud, amount = log.day[rows], log.fraud[rows], log.amount[rows]
    drift_day = log.test_start + config["drift_day"] if log.drift_day is None else log.drift_day
    late = day >= drift_day
    ap_late = ev.average_precision(scores[late], fraud[late])
    k = max(1, round(CARDS_PER_CUSTOMER * log.n_customers))
    card_precision = ev.card_precision_daily(day, log.customer[rows], scores, fraud, k)

    ruled = amount > RULE_LIMIT
    decision = decide(amount, scores, thresholds)
    blocked, alerted = decision == "block", decision == "review"
    reviewed = alerted & _within_capacity(day, scores, alerted, config["review_capacity"])
    stopped = blocked | reviewed
    days = test_days(log, config)
    alerts_per_day = np.bincount(day[alerted] - log.test_start, minlength=days)
    loss = amount[fraud & ~stopped].sum()
    review_cost = config["false_alarm_cost"] * (stopped & ~fraud).sum()
    metrics = {
        "auc": ev.auc(scores, fraud),
        "average_precision": ev.average_precision(scores, fraud),
        "card_precision@100": float(card_precision.mean()),
        "ap_after_drift": ap_late,
        "recall@threshold": float((fraud & (blocked | alerted)).sum() / max(fraud.sum(), 1)),
        "fraud_stopped": float((fraud & stopped).sum() / max(fraud.sum(), 1)),
        "alerts_per_day": float(alerts_per_day.mean()),
        "unreviewed_per_day": float((alerted & ~reviewed).sum() / days),
        "fraud_loss_per_day": float(loss / days),
        "review_cost_per_day": float(review_cost / days),
        "total_cost_per_day": float((loss + review_cost) / days),
        "rules_only_loss_per_day": float(amount[fraud & ~ruled].sum() / days),
        "test_frauds": float(fraud.sum()),
    }
    per_day = {"day": day, "scores": scores, "fraud": fraud, "card_precision": card_precision}
    artifacts = {
        "daily": _daily_series(log.test_start, day, scores, fraud, alerts_per_day),
        "drift_day": None if log.drift_day is None else log.drift_day - log.test_start,
    }
    return metrics, per_day, artifacts


def _within_capacity(day, scores, alerted, capacity: int) -> np.ndarray:
    """Each day analysts review the `capacity` highest-scored alerts; the rest are approved unread."""
    reviewed = np.zeros(day.size, bool)
    rows = np.flatnonzero(alerted)
    order = rows[np.lexsort((-scores[rows], day[rows]))]  # by day, riskiest first
    rank = np.arange(order.size) - np.searchsorted(day[order], day[order], side="left")
    reviewed[order[rank < capacity]] = True
    return reviewed


def _daily_series(test_start: int, day, scores, fraud, alerts_per_day) -> dict[str, list]:
    """Per test day: average precision over the trailing week (one day is too few frauds), and alerts."""
    trailing = []
    for d in range(test_start, test_start + alerts_per_day.size):
        window = (day > d - 7) & (day <= d)
        trailing.append(ev.average_precision(scores[window], fraud[window]))
    return {"ap_7d": trailing, "alerts": alerts_per_day.tolist()}
