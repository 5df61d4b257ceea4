"""What the fraud system serves: a payment → its fraud score and approve / review / block."""

from __future__ import annotations

from typing import Any

import numpy as np

from case_studies.fraud import pipeline as p
from case_studies.fraud.features import WINDOWS
from case_studies.fraud.world import DAY, RULE_LIMIT
from engine.serving import Predictor
from engine.serving.predictor import field, in_range, require_object

MAX_AMOUNT = 1_000_000.0


class FraudPredictor(Predictor):
    study = "fraud"

    def __init__(self, system: p.System):
        log, deployment = system.log, system.deployments[0]  # the model in production on the first test day
        self.store = system.store
        self.columns = system.columns
        self.deployment = deployment
        self.known_customers = np.unique(log.customer)
        self.known_terminals = np.unique(log.terminal)
        self.end_time = float(log.time.max())
        self.log_days = max(float(log.time.max() - log.time.min()) / DAY, 1.0)
        test = log.day >= log.test_start
        self.test = {k: getattr(log, k)[test] for k in ("time", "customer", "terminal", "amount")}
        yesterday = log.day == log.day.max()
        self.yesterday = {k: getattr(log, k)[yesterday] for k in ("time", "customer", "terminal", "amount")}

    def parse(self, body: Any) -> dict[str, Any]:
        body = require_object(body)
        return {
            "customer": int(field(body, "customer_id", int)),
            "terminal": int(field(body, "terminal_id", int)),
            "amount": float(in_range("amount", field(body, "amount", (int, float)), 0.0, MAX_AMOUNT)),
            "time": float(
                in_range("timestamp", field(body, "timestamp", (int, float), self.end_time), 0, 1e12)
            ),
            "transaction_id": field(body, "transaction_id", (int, str), None),
        }

    def predict(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        column = {k: np.array([r[k] for r in requests]) for k in ("time", "customer", "terminal", "amount")}
        x = self.store.features(
            column["time"], column["customer"], column["terminal"], column["amount"], self.columns
        )
        dep = self.deployment
        scores = dep.probability(x)
        decisions = p.decide(column["amount"], scores, dep.review_at, dep.block_at)
        new_customer = ~np.isin(column["customer"], self.known_customers)
        new_terminal = ~np.isin(column["terminal"], self.known_terminals)
        answers = []
        for i, request in enumerate(requests):
            fallback = [
                reason
                for reason, new in (("new customer", new_customer[i]), ("new terminal", new_terminal[i]))
                if new
            ]
            answers.append(
                {
                    "transaction_id": request["transaction_id"],
                    "score": round(float(scores[i]), 6),
                    "decision": str(decisions[i]),
                    "rule": f"amount over ${RULE_LIMIT:.0f}" if request["amount"] > RULE_LIMIT else None,
                    "review_at": round(dep.review_at, 6),
                    "block_at": round(dep.block_at, 6),
                    "fallback": " and ".join(fallback) + ": no history, zero velocity features"
                    if fallback
                    else None,
                }
            )
        return answers

    def traffic(self, n: int, seed: int) -> list[dict[str, Any]]:
        """Payments of the test period, as they would arrive."""
        rows = np.random.default_rng(seed).integers(self.test["time"].size, size=n)
        return [payment_body(self.test, r) for r in rows.tolist()]

    def batch_requests(self) -> list[dict[str, Any]]:
        return [self.parse(payment_body(self.yesterday, r)) for r in range(self.yesterday["time"].size)]

    def batch_key(self, request) -> None:
        return None  # a payment's score depends on the payment: nothing to precompute

    def batch_rows(self, dau: int, requests_per_user: float) -> int:
        return int(dau * requests_per_user)  # every request is a payment

    def sizes(self) -> dict[str, int]:
        import pickle

        # The windows need a payment's history for their longest span only (30 days), not the log's.
        kept = max(WINDOWS) / self.log_days
        customers, terminals = (_bytes(i) * kept for i in (self.store.customers, self.store.terminals))
        return {
            "model": len(pickle.dumps(self.deployment)),
            "features_fixed": int(terminals),  # every terminal's risk, whatever the audience
            "features_per_user": customers / max(self.known_customers.size, 1),
        }


def _bytes(index) -> int:
    return index.keys.nbytes + index.count.nbytes + sum(v.nbytes for v in index.sums.values())


def payment_body(table: dict[str, np.ndarray], row: int) -> dict[str, Any]:
    """Row `row` of a column table (time, customer, terminal, amount) as a request body."""
    return {
        "customer_id": int(table["customer"][row]),
        "terminal_id": int(table["terminal"][row]),
        "amount": float(table["amount"][row]),
        "timestamp": float(table["time"][row]),
    }


def build(config: dict[str, Any], seed: int, data) -> FraudPredictor:
    return FraudPredictor(p.assemble(config, seed, data))
