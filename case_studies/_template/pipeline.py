"""The spam filter's runner: a seeded world of messages, a model trained once per configuration, the
test messages scored and decided, and requests timed one at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from engine.memo import Step
from engine.result import Measured, Uncertainty
from engine.timing import StageClock, time_requests, timed

from .spec import STUDY
from .upload import Emails

MESSAGES = 4000
TEST_SHARE = 0.3

# Each memoised step declares the knobs it reads; its key is derived from them.
WORLD = Step(STUDY.id, "world", ("spam_share",))
MODEL = Step(STUDY.id, "model", ("model",), after=(WORLD,))


def generate(spam_share: float, seed: int) -> Emails:
    """Spam has more links, capitals and exclamation marks, and rarely a known sender."""
    rng = np.random.default_rng(seed)
    y = rng.random(MESSAGES) < spam_share
    x = np.column_stack(
        [
            rng.poisson(np.where(y, 4, 1)),
            rng.beta(np.where(y, 4, 2), 8),
            rng.poisson(np.where(y, 2, 0.5)),
            rng.random(MESSAGES) < np.where(y, 0.1, 0.7),
        ]
    ).astype(float)
    return Emails(x, y, "world", f"{MESSAGES:,} simulated messages")


def run(config: dict[str, Any], seed: int, data: Emails | None) -> Measured:
    emails = data or WORLD.get(config, seed, data, lambda knobs: generate(knobs["spam_share"], seed))
    test = np.random.default_rng([seed, 1]).random(emails.y.size) < TEST_SHARE  # not the world's stream
    model, train_ms = MODEL.get(
        config, seed, data, lambda knobs: timed(lambda: _fit(knobs["model"], seed, emails, ~test))
    )
    scores = model.predict_proba(emails.x[test])[:, 1]
    flagged, spam = scores >= config["threshold"], emails.y[test]

    def serve(row: np.ndarray, clock: StageClock) -> bool:
        with clock.stage("API_Gateway"):
            features = row.reshape(1, -1)
        with clock.stage("Model_Serving"):
            score = model.predict_proba(features)[0, 1]
        with clock.stage("Decision"):
            return score >= config["threshold"]

    latency = time_requests(serve, list(emails.x[test]), STUDY.latency_floor, seed)
    metrics = {
        "precision": float(spam[flagged].mean()) if flagged.any() else 0.0,
        "recall": float(flagged[spam].mean()),
        "average_precision": float(average_precision_score(spam, scores)),
        **latency.metrics(),
        "train_s": train_ms / 1000,
        "messages": float(test.sum()),
    }
    stage_ms = {**latency.stage_ms, "Training": train_ms}
    return Measured(metrics, stage_ms, Uncertainty(noise=latency.noise()))


def _fit(name: str, seed: int, emails: Emails, rows: np.ndarray):
    if name == "logistic":
        return LogisticRegression(max_iter=500).fit(emails.x[rows], emails.y[rows])
    return HistGradientBoostingClassifier(random_state=seed).fit(emails.x[rows], emails.y[rows])
