"""The fraud system's runner: build features, train on delayed labels, decide, review, measure.

Time is respected everywhere. A model deployed on day D was trained on the labels known then
(transactions before D − delay), minus the latest two labelled weeks, on which a model fitted before
them is calibrated and the decision policy (review and block thresholds, within the analysts'
capacity) is tuned by cost. With a retraining cadence, each test period gets the model the team
would have had on its first day.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np

from case_studies.fraud import evaluation as ev
from case_studies.fraud.features import FeatureStore, columns_for
from case_studies.fraud.models import Calibrator, Costs, fit, tune_policy
from case_studies.fraud.spec import STUDY
from case_studies.fraud.world import RULE_LIMIT, VALIDATION_DAYS, Log, generate_world
from engine.data import DataError
from engine.memo import Step
from engine.result import Measured, Uncertainty
from engine.timing import StageClock, time_requests, timed

CADENCE_DAYS = {"never": None, "biweekly": 14, "weekly": 7}
HANDBOOK_TEST_DAYS = 7
# The scored population: payments whose card was not yet confirmed compromised this many days before
# (the lab protocol). Fixed, so label delays compare on one population.
KNOWN_CARD_DAYS = 7
MATURITY_STREAM = 7  # the random stream of gradual labels' confirmation times
WAIT_FOR_MATURITY = 2  # "wait": train on days two mean delays old, when 86 % of labels are in
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
    (*FEATURE_GROUPS, "model", "imbalance", "train_window", "label_maturity"),
    after=(STORE,),
    max_entries=48,
)


@dataclass(frozen=True)
class Deployment:
    """A model serving test days [start, end), with its calibration and decision policy."""

    start: int
    end: int
    model: Any
    calibrate: Calibrator
    review_at: float  # calibrated probability from which a payment goes to review
    block_at: float  # and from which it is declined outright
    train_ms: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated P(fraud) of payments' features."""
        return self.calibrate(self.model.predict_proba(x)[:, 1])


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


def _scored(log: Log, config: dict[str, Any], test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The test rows counted, and among them those the model's quality is scored on. The lab counts
    payments whose card investigators had not confirmed compromised KNOWN_CARD_DAYS before, whatever
    the label delay, so delays compare on one population, and scores the model on those it decides
    (under the $220 rule). The Handbook's code scores every payment and knows the cards confirmed
    since its train window began, one day later than the delay (it adds the day before each test day
    minus the delay)."""
    delay = config["label_delay"]
    if config["protocol"] == "handbook":
        since = log.test_start - delay - config["train_window"]
        counted = ev.known_card_mask(log.day, log.customer, log.fraud, delay + 1, test, since=since)
        return counted, np.ones(counted.sum(), bool)
    counted = ev.known_card_mask(log.day, log.customer, log.fraud, KNOWN_CARD_DAYS, test)
    return counted, log.amount[test[counted]] <= RULE_LIMIT


def decide(amount: np.ndarray, p: np.ndarray, review_at, block_at) -> np.ndarray:
    """The policy: 'block' above the $220 rule or the block threshold, 'review' above the review one."""
    blocked = (amount > RULE_LIMIT) | (p >= block_at)
    return np.where(blocked, "block", np.where(p >= review_at, "review", "approve"))


def run(config: dict[str, Any], seed: int, data) -> Measured:
    system = assemble(config, seed, data)
    log, deployments = system.log, system.deployments
    days = test_days(log, config)
    test = np.flatnonzero((log.day >= log.test_start) & (log.day < log.test_start + days))
    scores, review_at, block_at = np.empty(test.size), np.empty(test.size), np.empty(test.size)
    for dep in deployments:
        rows = (log.day[test] >= dep.start) & (log.day[test] < dep.end)
        scores[rows] = dep.probability(system.x[test[rows]])
        review_at[rows], block_at[rows] = dep.review_at, dep.block_at
    latency = _latency(system, test, seed)
    stage_ms = {**latency.stage_ms, "Labels": system.labels_ms}
    stage_ms["Retraining"] = sum(d.train_ms for d in deployments)

    counted, modelled = _scored(log, config, test)
    metrics, per_day, artifacts = _evaluate(
        log, test[counted], scores[counted], review_at[counted], block_at[counted], modelled, config
    )
    metrics.update(
        latency.metrics(),
        train_s=stage_ms["Retraining"] / 1000,
        threshold=deployments[0].review_at,
        block_threshold=deployments[0].block_at,
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
    """The model in production from day `start`, fitted on the newest labelled days. Its calibration
    and decision policy come from the latest two labelled weeks, scored by the model fitted before
    them (which never saw them): they transfer, the overfit in-sample scores would not. The
    policy sees only what the rules let through."""
    waits = WAIT_FOR_MATURITY if config["label_maturity"] == "wait" else 1
    labelled_until = start - config["label_delay"] * waits
    validation_from = labelled_until - VALIDATION_DAYS
    if validation_from - config["train_window"] < 0:
        raise DataError(
            f"Not enough history before day {start}: a {config['train_window']}-day train window, "
            f"{VALIDATION_DAYS} validation days and a {config['label_delay']}-day label delay need "
            f"{config['train_window'] + VALIDATION_DAYS + config['label_delay']} days. Shorten the train "
            "window or the label delay."
        )
    model, train_ms = _fitted(log, x, config, seed, data, labelled_until, start)
    earlier, _ = _fitted(log, x, config, seed, data, validation_from, start)
    weeks = (log.day >= validation_from) & (log.day < labelled_until) & (log.amount <= RULE_LIMIT)
    fraud = confirmed(log, config, seed, start)[weeks]
    if not fraud.any():
        raise DataError(f"No fraud is labelled in the {VALIDATION_DAYS} days before day {labelled_until}.")
    calibrate = Calibrator(earlier.predict_proba(x[weeks])[:, 1], fraud)
    costs = Costs(config["false_alarm_cost"], config["false_decline_cost"], config["review_capacity"])
    review_at, block_at = tune_policy(
        calibrate(earlier.predict_proba(x[weeks])[:, 1]), fraud, log.amount[weeks], log.day[weeks], costs
    )
    return Deployment(start, end, model, calibrate, review_at, block_at, train_ms)


def confirmed(log: Log, config, seed: int, on_day: int) -> np.ndarray:
    """Which payments are known to be fraud on `on_day`. With complete labels every fraud is confirmed
    exactly `label_delay` days after it happened; with gradual ones (chargebacks trickle in) each
    takes an exponential time with that mean, so on any day the newest frauds are partly unknown and
    train as legitimate payments: recent data looks cleaner than it is."""
    if config["label_maturity"] == "complete":
        return log.fraud & (log.day + config["label_delay"] <= on_day)
    lag = np.random.default_rng([seed, MATURITY_STREAM]).exponential(config["label_delay"], len(log))
    return log.fraud & (log.day + lag <= on_day)


def _fitted(log: Log, x, config, seed: int, data, until: int, known_on: int):
    """A model fitted on the `train_window` days before day `until`, with the labels known on day
    `known_on`, and its fit time."""
    rows = (log.day >= until - config["train_window"]) & (log.day < until)
    labels = confirmed(log, config, seed, known_on)[rows]
    if not labels.any():
        raise DataError(f"No fraud is labelled in the train window ending on day {until - 1}.")

    def train(knobs):
        return timed(lambda: fit(knobs["model"], knobs["imbalance"], seed, x[rows], labels))

    return MODEL.get(config, seed, data, train, extra=(until, known_on))


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
            score = float(deployment.probability(x)[0])
        with clock.stage("Decision"):
            if not blocked_by_rule and deployment.review_at <= score < deployment.block_at:
                heapq.heappush(queue, (-score, row))  # analysts take the riskiest first

    return time_requests(serve, rows.tolist(), STUDY.latency_floor, seed)


def _evaluate(log: Log, rows, scores, review_at, block_at, modelled, config):
    """Quality of the scores on the `modelled` rows, then what the rules, the decision policy and the
    review team make of every row, in payments and in money; and the per-day values the ranges
    resample."""
    day, fraud, amount = log.day[rows], log.fraud[rows], log.amount[rows]
    drift_day = log.test_start + config["drift_day"] if log.drift_day is None else log.drift_day
    q_day, q_fraud, q_scores = day[modelled], fraud[modelled], scores[modelled]
    late = q_day >= drift_day
    ap_late = ev.average_precision(q_scores[late], q_fraud[late])
    k = max(1, round(CARDS_PER_CUSTOMER * log.n_customers))
    card_precision = ev.card_precision_daily(q_day, log.customer[rows][modelled], q_scores, q_fraud, k)

    ruled = amount > RULE_LIMIT
    decision = decide(amount, scores, review_at, block_at)
    blocked, alerted = decision == "block", decision == "review"
    reviewed = alerted & _within_capacity(day, scores, alerted, config["review_capacity"])
    stopped = blocked | reviewed
    days = test_days(log, config)
    alerts_per_day = np.bincount(day[alerted] - log.test_start, minlength=days)
    loss = amount[fraud & ~stopped].sum()
    review_cost = config["false_alarm_cost"] * (reviewed & ~fraud).sum()
    decline_cost = config["false_decline_cost"] * (blocked & ~fraud).sum()
    metrics = {
        "auc": ev.auc(q_scores, q_fraud),
        "average_precision": ev.average_precision(q_scores, q_fraud),
        "card_precision@100": float(card_precision.mean()),
        "ap_after_drift": ap_late,
        "recall@threshold": float((fraud & (blocked | alerted)).sum() / max(fraud.sum(), 1)),
        "fraud_stopped": float((fraud & stopped).sum() / max(fraud.sum(), 1)),
        "fraud_dollars_stopped": float(amount[fraud & stopped].sum() / max(amount[fraud].sum(), 1e-9)),
        "false_decline_rate": float((blocked & ~fraud).sum() / max((~fraud).sum(), 1)),
        "alerts_per_day": float(alerts_per_day.mean()),
        "unreviewed_per_day": float((alerted & ~reviewed).sum() / days),
        "fraud_loss_per_day": float(loss / days),
        "review_cost_per_day": float(review_cost / days),
        "decline_cost_per_day": float(decline_cost / days),
        "total_cost_per_day": float((loss + review_cost + decline_cost) / days),
        "rules_only_loss_per_day": float(amount[fraud & ~ruled].sum() / days),
        "test_frauds": float(q_fraud.sum()),
    }
    per_day = {"day": q_day, "scores": q_scores, "fraud": q_fraud, "card_precision": card_precision}
    artifacts = {
        "daily": _daily_series(log.test_start, q_day, q_scores, q_fraud, alerts_per_day),
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
