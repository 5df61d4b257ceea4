"""What the recommender serves: `{user_id, k}` → a slate of videos with scores."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from case_studies.recommendation import pipeline as p
from engine.serving import Predictor
from engine.threads import one_thread
from engine.timing import StageClock

NEW_USER_SHARE = 0.05  # of live traffic: users who signed up after the models were trained


class RecommendationPredictor(Predictor):
    study = "recommendation"

    def __init__(self, prep: p.Prepared, trained, ranker, config: dict[str, Any], item_labels: np.ndarray):
        self.prep = dataclasses.replace(prep, world=None, test=prep.test[:0])  # serving needs neither
        self.trained = trained
        self.ranker = ranker
        self.config = config
        self.item_labels = item_labels
        self.popular = np.argsort(-trained.item_counts, kind="stable")

    def parse(self, body: Any):
        return p.parse_request(self.prep, body)

    def predict(self, requests: list) -> list[dict[str, Any]]:
        with one_thread():  # one core per request (and per batch row): what a capacity plan counts
            return self._predict(requests)

    def _predict(self, requests: list) -> list[dict[str, Any]]:
        known = [i for i, (user, _, _) in enumerate(requests) if user is not None]
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        if known:
            users = np.array([requests[i][0] for i in known], np.int64)
            slate = max(requests[i][2] for i in known)  # greedy MMR: a shorter slate is a prefix
            cands, final, boosted = p.rank_users(
                self.prep, self.trained, self.ranker, self.config, StageClock(), users, slate
            )
            position = (cands[:, :, None] == final[:, None, :]).argmax(axis=1)
            scores = np.take_along_axis(boosted, position, axis=1)
            for row, i in enumerate(known):
                k = requests[i][2]
                answers[i] = self._answer(requests[i][1], final[row, :k], scores[row, :k], None)
        for i, (user, user_id, k) in enumerate(requests):
            if user is None:  # cold start: nothing known about this user yet
                items = self.popular[:k]
                counts = np.log1p(self.trained.item_counts[items])
                answers[i] = self._answer(
                    user_id, items, counts / max(counts.max(), 1e-12), "popular: unknown user"
                )
        return answers

    def _answer(self, user_id, items, scores, fallback) -> dict[str, Any]:
        return {
            "user_id": user_id,
            "items": [
                {"item_id": _plain(self.item_labels[i]), "score": round(float(s), 6)}
                for i, s in zip(items.tolist(), scores.tolist(), strict=True)
            ],
            "fallback": fallback,
        }

    def traffic(self, n: int, seed: int) -> list[dict[str, Any]]:
        """Users drawn by activity (heavy watchers open the app more), plus new users."""
        rng = np.random.default_rng(seed)
        activity = np.diff(self.prep.train.indptr).astype(float)
        labels = list(self.prep.user_index)
        users = rng.choice(len(labels), n, p=activity / activity.sum())
        new = rng.random(n) < NEW_USER_SHARE
        return [
            {"user_id": f"new-{rng.integers(1_000_000)}" if is_new else _plain(labels[u]), "k": p.SLATE}
            for u, is_new in zip(users.tolist(), new.tolist(), strict=True)
        ]

    def batch_requests(self) -> list:
        return [(index, _plain(user_id), p.SLATE) for user_id, index in self.prep.user_index.items()]

    def batch_key(self, request):
        return request[1]

    def miss_reason(self, request) -> str:
        return "new users" if request[0] is None else "not in the batch"

    def sizes(self) -> dict[str, int]:
        train = self.prep.train
        history = train.data.nbytes + train.indices.nbytes + train.indptr.nbytes
        return {
            "model": p.memory_bytes(self.prep, self.trained, self.ranker)
            - history
            - self.prep.item_age.nbytes,
            "features_fixed": self.prep.item_age.nbytes,
            "features_per_user": history / train.shape[0],
        }


def _plain(value):
    """numpy scalars as JSON-ready Python values."""
    return value.item() if hasattr(value, "item") else value


def build(config: dict[str, Any], seed: int, data) -> RecommendationPredictor:
    prep, trained, ranker = p.assemble(config, seed, data)
    labels = data.item_labels if data is not None else np.arange(prep.n_items)
    return RecommendationPredictor(prep, trained, ranker, config, labels)
