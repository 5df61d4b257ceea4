"""What the search system serves: `{query, k}` → ranked products."""

from __future__ import annotations

from typing import Any

import numpy as np

from case_studies.search import pipeline as p
from engine.serving import Predictor
from engine.serving.predictor import BadRequest, field, in_range, require_object
from engine.threads import one_thread

ZIPF = 1.1  # query frequencies fall as rank^-1.1, as search logs do
HEAD_SHARE = 0.1  # the most frequent tenth of distinct queries is cached by the batch job
MAX_K = p.FIRST_STAGE_DEPTH


class SearchPredictor(Predictor):
    study = "search"

    def __init__(self, system: p.System, seed: int):
        self.system = system
        catalogue = system.prep.catalogue
        self.titles = catalogue.titles
        queries = catalogue.queries
        rank = np.random.default_rng(seed).permutation(len(queries)) + 1
        self.frequency = rank.astype(float) ** -ZIPF
        self.frequency /= self.frequency.sum()
        head = np.argsort(-self.frequency)[: max(1, round(HEAD_SHARE * len(queries)))]
        self.queries = queries
        self.head = [queries[q] for q in head.tolist()]

    def parse(self, body: Any) -> tuple[str, int]:
        body = require_object(body)
        query = field(body, "query", str)
        if not query.strip():
            raise BadRequest("query", "must not be empty")
        if len(query) > p.MAX_QUERY_CHARS:
            raise BadRequest("query", f"must be at most {p.MAX_QUERY_CHARS} characters, got {len(query)}")
        return query, int(in_range("k", field(body, "k", int, p.SHOWN), 1, MAX_K))

    def predict(self, requests: list[tuple[str, int]]) -> list[dict[str, Any]]:
        answers = []
        with one_thread():  # one thread per query, as in the pipeline
            for query, k in requests:
                ranked = self.system.search(query)["ranked"][:k]
                answers.append(
                    {
                        "query": query,
                        "results": [
                            {"product_id": int(d), "title": self.titles[d], "rank": i}
                            for i, d in enumerate(ranked.tolist(), start=1)
                        ],
                        "fallback": None if ranked.size else "no match: nothing to show",
                    }
                )
        return answers

    def traffic(self, n: int, seed: int) -> list[dict[str, Any]]:
        """Queries drawn by their frequency in the log: a few head queries, a long tail."""
        drawn = np.random.default_rng(seed).choice(len(self.queries), n, p=self.frequency)
        return [{"query": self.queries[q], "k": p.SHOWN} for q in drawn.tolist()]

    def batch_requests(self) -> list[tuple[str, int]]:
        return [(query, p.SHOWN) for query in self.head]

    def batch_key(self, request) -> str:
        return " ".join(request[0].lower().split())

    def miss_reason(self, request) -> str:
        return "tail queries (not cached)"

    def batch_rows(self, dau: int, requests_per_user: float) -> int:
        return len(self.head)  # the head is a fixed set of queries, whatever the traffic

    def sizes(self) -> dict[str, int]:
        system = self.system
        ann = system.ann.graph_bytes if system.ann else 0
        return {
            "model": system.dense.vectors.nbytes + ann + system.lexical.bytes,
            "features_fixed": sum(len(t) for t in self.titles) * 2,
            "features_per_user": 0,
        }


def build(config: dict[str, Any], seed: int, data) -> SearchPredictor:
    system, _ = p.assemble(config, seed, data)
    return SearchPredictor(system, seed)
