"""What people-you-may-know serves: `{user_id, k}` → people the user may know, with scores.

The predictor is the pipeline's system (graph views and ranker) behind the request path the
pipeline times: candidates, scores, post-processing. A user the graph has never seen (who signed up
after the snapshot) gets the most-befriended accounts, post-processed like any row and flagged."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import numpy as np

from case_studies.pymk import candidates as cg
from case_studies.pymk import pipeline as p
from case_studies.pymk.evaluation import SLATE
from case_studies.pymk.network import adjacency_bytes, not_to_suggest
from engine.serving import Predictor
from engine.threads import one_thread

NEW_USER_SHARE = 0.05  # of live traffic: people who signed up after the graph snapshot
UNKNOWN_USER = "popular: unknown user"
NO_CANDIDATES = "popular: no friends of friends or classmates yet"


class PymkPredictor(Predictor):
    study = "pymk"

    def __init__(self, system: p.System, config: dict[str, Any], seed: int):
        prep = dataclasses.replace(system.prep, world=None, targets={}, recent={})  # serving needs neither
        self.system = dataclasses.replace(system, prep=prep)
        self.config, self.seed = config, seed
        self.view = self.system.snapshot if config["serving"] == "batch" else self.system.live
        degree = np.diff(prep.adjacency.indptr)
        self.activity = degree + 1.0  # people with more friends open the app more
        self.popular = np.argsort(-degree, kind="stable")
        self.popularity = np.log1p(degree) / max(np.log1p(degree.max()), 1e-12)

    def parse(self, body: Any) -> tuple[int | None, Any, int]:
        user, k = p.parse_request(self.system, body)
        return user, body["user_id"], k

    def predict(self, requests: list) -> list[dict[str, Any]]:
        with one_thread():  # one core per request (and per batch row): what a capacity plan counts
            return self._predict(requests)

    def _predict(self, requests: list) -> list[dict[str, Any]]:
        known = [i for i, (user, _, _) in enumerate(requests) if user is not None]
        users = np.array([requests[i][0] for i in known], int)
        pools = self.pools(users)
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        for i, pool, scores in zip(known, pools, self.scores(users, pools), strict=True):
            answers[i] = self.row(*requests[i], pool, scores)
        for i, (user, user_id, k) in enumerate(requests):
            if user is None:  # cold start: nobody in the graph yet
                answers[i] = self.popular_row(None, user_id, k, UNKNOWN_USER)
        return answers

    def pools(self, users: np.ndarray) -> list[cg.Candidates]:
        config, attributes = self.config, self.system.prep.attributes
        return [
            cg.generate(self.view, u, config["sources"], config["fof_cap"], attributes)
            for u in users.tolist()
        ]

    def scores(self, users: np.ndarray, pools: list[cg.Candidates]) -> list[np.ndarray]:
        if self.config["ranker"] != "random":
            return p.score_pools(self.system, self.view, users, pools, self.config, None)
        # A random order seeded per user, so an answer does not depend on the batch it came in.
        return [
            p.score_pools(self.system, self.view, users[j : j + 1], [pool], self.config, _rng(self.seed, u))[
                0
            ]
            for j, (u, pool) in enumerate(zip(users.tolist(), pools, strict=True))
        ]

    def row(self, user: int, user_id, k: int, pool: cg.Candidates, scores: np.ndarray) -> dict[str, Any]:
        """A known user's answer from their scored pool: ranked, then post-processed as the pipeline
        does; the popular fallback when nothing is left to suggest."""
        prep = self.system.prep
        ranked, ordered = p.in_order(pool, scores, self.config)
        shown = p.post_process(prep, ranked, not_to_suggest(prep, user), self.config, k)
        if shown.size == 0:
            return self.popular_row(user, user_id, k, NO_CANDIDATES)
        score = dict(zip(ranked.tolist(), ordered.tolist(), strict=True))
        mutual = dict(zip(pool.ids.tolist(), pool.mutual.tolist(), strict=True))
        return self._answer(
            user_id, shown, [score[v] for v in shown.tolist()], [mutual[v] for v in shown.tolist()]
        )

    def popular_row(self, user: int | None, user_id, k: int, reason: str) -> dict[str, Any]:
        """The most-befriended accounts, through the same post-processing (one high-degree account,
        a cap per community), scored by their log friend count over the largest."""
        prep = self.system.prep
        ranked = self.popular[self.popular != user] if user is not None else self.popular
        shown = p.post_process(prep, ranked, not_to_suggest(prep, user), self.config, k)
        return self._answer(user_id, shown, self.popularity[shown].tolist(), [0] * shown.size, reason)

    def _answer(
        self, user_id, shown: np.ndarray, scores, mutual, fallback: str | None = None
    ) -> dict[str, Any]:
        labels = self.system.prep.labels[shown].tolist()
        return {
            "user_id": user_id,
            "suggestions": [
                {"user_id": label, "score": round(float(s), 6), "mutual_friends": int(m)}
                for label, s, m in zip(labels, scores, mutual, strict=True)
            ],
            "fallback": fallback,
        }

    def traffic(self, n: int, seed: int) -> list[dict[str, Any]]:
        """Users drawn by activity (people with more friends open the app more), plus new users."""
        rng = np.random.default_rng(seed)
        labels = self.system.prep.labels.tolist()
        users = rng.choice(len(labels), n, p=self.activity / self.activity.sum())
        new = rng.random(n) < NEW_USER_SHARE
        return [
            {"user_id": f"new-{rng.integers(1_000_000)}" if is_new else labels[u], "k": SLATE}
            for u, is_new in zip(users.tolist(), new.tolist(), strict=True)
        ]

    def batch_requests(self) -> list:
        """Everyone's row: the daily batch job this study's production design precomputes."""
        return [(user, label, SLATE) for user, label in enumerate(self.system.prep.labels.tolist())]

    def batch_key(self, request):
        return request[1]

    def miss_reason(self, request) -> str:
        return "new users" if request[0] is None else "not in the batch"

    def sizes(self) -> dict[str, int]:
        """The ranker; the sampled friend lists of high-degree accounts (a few, whatever the users);
        per user, the friend lists (CSR), attributes, community and, with PageRank, the walk matrix."""
        prep, view = self.system.prep, self.view
        per_user = adjacency_bytes(prep) + prep.community.nbytes
        per_user += prep.attributes.nbytes if prep.attributes is not None else 0
        if "ppr" in self.config["sources"]:
            walk = view.transition
            per_user += walk.data.nbytes + walk.indices.nbytes + walk.indptr.nbytes
        return {
            "model": len(pickle.dumps(self.system.model)) if self.system.model is not None else 0,
            "features_fixed": 8 * sum(len(friends) for friends in view.expand.values()),
            "features_per_user": per_user / prep.n_users,
        }


def _rng(seed: int, user: int) -> np.random.Generator:
    return np.random.default_rng([seed, user])


def build(config: dict[str, Any], seed: int, data) -> PymkPredictor:
    return PymkPredictor(p.assemble(config, seed, data), config, seed)
