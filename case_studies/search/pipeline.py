"""The search system's runner: build the indexes, train the re-ranker, serve every test query one at
a time through query understanding → retrieval → ranking → post-processing, and measure.

Indexes and the re-ranker are memoised on just the knobs they depend on, so moving the hybrid weight
reuses both indexes and moving k1 reuses the dense one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from case_studies.search import index as ix
from case_studies.search import learning
from case_studies.search.spec import STUDY
from case_studies.search.text import QueryUnderstanding, tokenize
from case_studies.search.world import Catalogue, generate_catalogue
from engine import metrics as m
from engine.memo import Step
from engine.result import Measured, Uncertainty
from engine.threads import one_thread
from engine.timing import StageClock, serve_and_time, timed

FIRST_STAGE_DEPTH = 100  # retrieved per query: recall@100 is the ceiling of everything after
SHOWN = 10
MAX_QUERY_CHARS = 200
SYNONYM, TYPO, NAVIGATIONAL = 1, 2, 4  # query kinds (bits)
# What a query's first stage depends on: the re-ranker is trained on its candidates.
RETRIEVAL = ("retriever", "k1", "b", "dims", "hybrid_weight", "dense_index", "ann_ef", "spelling", "synonyms")

CATALOGUE = Step(STUDY.id, "catalogue", ("scale",), max_entries=4)
LEXICAL = Step(STUDY.id, "BM25 index", ("k1", "b"), after=(CATALOGUE,))
DENSE = Step(STUDY.id, "dense index", ("dims",), after=(CATALOGUE,))
LEARNING = ("rerank_depth", "ranker_loss", "labels")
RANKER = Step(STUDY.id, "re-ranker", (*RETRIEVAL, *LEARNING), after=(CATALOGUE,), max_entries=16)


@dataclass(frozen=True)
class Prepared:
    """A catalogue with its analysed text: what every index and feature is built from."""

    catalogue: Catalogue
    doc_tokens: list[list[str]]
    title_sets: list[frozenset[str]]
    text_sets: list[frozenset[str]]
    understanding: QueryUnderstanding


@dataclass
class System:
    """Everything a query needs at serving time for one configuration."""

    prep: Prepared
    lexical: ix.Lexical
    dense: ix.Dense
    ann: Any  # index.HNSW, or None for exact search
    ranker: Any  # fitted regressor, or None
    config: Mapping[str, Any]
    _recent: dict = field(default_factory=dict, repr=False)

    def _signal(self, kind: str, tokens: list[str], compute):
        """A query's BM25 scores or dense vector: retrieval and ranking both need them, so each
        query computes them once (only the current query's are kept)."""
        key = (kind, tuple(tokens))
        if key not in self._recent:
            if len(self._recent) >= 2:
                self._recent.clear()
            self._recent[key] = compute()
        return self._recent[key]

    def bm25_scores(self, tokens: list[str]) -> np.ndarray:
        return self._signal("bm25", tokens, lambda: self.lexical.scores(tokens))

    def query_vector(self, tokens: list[str]) -> np.ndarray:
        return self._signal("dense", tokens, lambda: self.dense.embed(tokens))

    def understand(self, text: str) -> list[str]:
        return self.prep.understanding.understand(text, self.config["spelling"], self.config["synonyms"])

    def retrieve(self, tokens: list[str], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Candidates in first-stage order, with their first-stage scores."""
        if not self.prep.understanding.vocabulary.intersection(tokens):
            # A relevance floor: no word the catalogue uses (only stop words, punctuation or words
            # no listing has) gets an empty page, not the nearest vectors at similarity zero.
            return np.zeros(0, np.int64), np.zeros(0)
        retriever = self.config["retriever"]
        if retriever != "dense":
            lexical = self.bm25_scores(tokens)
            matched = np.flatnonzero(lexical > 0)
            lexical_top = matched[np.argsort(-lexical[matched], kind="stable")][:depth]
            if retriever == "bm25":
                return lexical_top, lexical[lexical_top]
        query = self.query_vector(tokens)
        docs, dense = ix.nearest(self.dense, self.ann, query, depth, self.config["ann_ef"])
        if retriever == "dense":
            return docs, dense
        pool = np.union1d(docs, lexical_top)  # hybrid: fuse both lists, scored on a common scale
        weight = self.config["hybrid_weight"]
        fused = weight * _unit_range(lexical[pool]) + (1 - weight) * _unit_range(
            self.dense.vectors[pool] @ query
        )
        order = np.argsort(-fused, kind="stable")[:depth]
        return pool[order], fused[order]

    def features(self, tokens: list[str], docs: np.ndarray, first: np.ndarray) -> np.ndarray:
        """What the re-ranker sees per candidate: both retrievers' scores, the first stage's score and
        position, and how much of the query the title and the whole listing contain."""
        query = set(tokens)
        size = max(len(query), 1)
        bm25 = self.bm25_scores(tokens)[docs]
        dense = self.dense.vectors[docs] @ self.query_vector(tokens)
        title = [len(query & self.prep.title_sets[d]) / size for d in docs]
        text = [len(query & self.prep.text_sets[d]) / size for d in docs]
        length = [len(self.prep.doc_tokens[d]) for d in docs]
        position = np.arange(len(docs)) / FIRST_STAGE_DEPTH
        return np.column_stack([bm25, dense, first, position, title, text, length])

    def rank(self, tokens: list[str], docs: np.ndarray, first: np.ndarray) -> np.ndarray:
        depth = min(self.config["rerank_depth"], len(docs))
        if self.ranker is None or depth == 0:
            return docs
        order = np.argsort(
            -self.ranker.predict(self.features(tokens, docs[:depth], first[:depth])), kind="stable"
        )
        return np.concatenate([docs[:depth][order], docs[depth:]])

    def search(self, text: str, clock: StageClock | None = None) -> dict[str, Any]:
        """One query end to end, every stage timed on `clock`; also what each stage produced."""
        clock = clock or StageClock()
        with clock.stage("API_Gateway"):
            text = " ".join(text.split())[:MAX_QUERY_CHARS]  # the gateway normalises and bounds it
        with clock.stage("Query_Understanding"):
            tokens = self.understand(text)
        with clock.stage("Retrieval"):
            docs, first = self.retrieve(tokens, FIRST_STAGE_DEPTH)
        with clock.stage("Ranking"):
            ranked = self.rank(tokens, docs, first)
        with clock.stage("Post_Processing"):
            shown = ranked[:SHOWN]
        return {
            "tokens": tokens,
            "candidates": docs,
            "first_stage": first,
            "ranked": ranked,
            "shown": shown,
            "ms": clock.ms,
        }


def run(config: dict[str, Any], seed: int, data) -> Measured:
    system, build = assemble(config, seed, data)
    catalogue = system.prep.catalogue
    test = catalogue.test_queries
    answers, latency = serve_and_time(
        lambda q, clock: system.search(catalogue.queries[q], clock), test.tolist(), STUDY.latency_floor, seed
    )
    ranked = [a["ranked"] for a in answers]
    judged = [catalogue.qrels[q] for q in test]
    ndcg = m.graded_ndcg(ranked, judged, SHOWN)
    kind = catalogue.query_kind[test]
    stage_ms = {**latency.stage_ms, "Catalogue_Index": build["index_ms"]}
    if system.ranker is not None:  # no re-ranker, no training job to time
        stage_ms["Ranker_Training"] = build["ranker_ms"]
    metrics = {
        "ndcg@10": float(ndcg.mean()),
        "mrr": float(np.mean(m.reciprocal_rank(ranked, judged))),
        "recall@100": float(m.recall_of_judged(ranked, judged, FIRST_STAGE_DEPTH).mean()),
        "ndcg@10_synonyms": _segment(ndcg, kind & SYNONYM > 0),
        "ndcg@10_typos": _segment(ndcg, kind & TYPO > 0),
        "ndcg@10_navigational": _segment(ndcg, kind & NAVIGATIONAL > 0),
        "ndcg@10_plain": _segment(ndcg, kind == 0),
        "zero_result_rate": float(np.mean([a["candidates"].size == 0 for a in answers])),
        "ann_recall@100": _ann_recall(system, answers),
        **latency.metrics(),
        "index_mb": build["index_bytes"] / 1e6,
        "build_s": build["index_ms"] / 1000,
        "documents": float(len(catalogue)),
        "test_queries": float(test.size),
    }
    uncertainty = Uncertainty.resampled(
        {"ndcg@10": ndcg, "mrr": m.reciprocal_rank(ranked, judged)},
        seed,
        f"{test.size:,} test queries",
        repr(CATALOGUE.key(config, seed, data)),  # the same test queries, in the same order
        noise=latency.noise(),
    )
    return Measured(metrics, stage_ms, uncertainty)


def prepared(config: dict[str, Any], seed: int, data) -> Prepared:
    """The catalogue (generated or uploaded) and its tokens, without building any index."""
    return CATALOGUE.get(
        config,
        seed,
        data,
        lambda knobs: _prepare(data.catalogue if data else generate_catalogue(knobs["scale"], seed)),
    )


def assemble(config: dict[str, Any], seed: int, data) -> tuple[System, dict[str, float]]:
    """The serving system for `config`: indexes and ranker from the memos, built when missing."""
    prep = prepared(config, seed, data)
    lexical = LEXICAL.get(
        config, seed, data, lambda knobs: ix.build_lexical(prep.doc_tokens, knobs["k1"], knobs["b"])
    )
    dense, ann, ann_ms, ann_bytes = DENSE.get(
        config, seed, data, lambda knobs: _dense_indexes(prep, knobs["dims"], seed)
    )
    ann = ann if config["dense_index"] == "hnsw" else None
    system = System(prep, lexical, dense, ann, None, config)
    ranker_ms = 0.0
    if config["rerank_depth"] > 0:
        # Trained through a system that sees only the re-ranker's declared knobs.
        system.ranker, ranker_ms = RANKER.get(
            config,
            seed,
            data,
            lambda knobs: timed(lambda: _train_ranker(System(prep, lexical, dense, ann, None, knobs), seed)),
        )
    # Count what this configuration holds: the re-ranker reads both BM25 and dense scores.
    lexical_used = config["retriever"] != "dense" or system.ranker is not None
    dense_used = config["retriever"] != "bm25" or system.ranker is not None
    ann_used = system.ann is not None and config["retriever"] != "bm25"
    index_ms = lexical.build_ms * lexical_used + dense.build_ms * dense_used + ann_ms * ann_used
    index_bytes = lexical.bytes * lexical_used + dense.vectors.nbytes * dense_used + ann_bytes * ann_used
    return system, {"index_ms": index_ms, "index_bytes": index_bytes, "ranker_ms": ranker_ms}


def _prepare(catalogue: Catalogue) -> Prepared:
    doc_tokens = [tokenize(t) for t in catalogue.texts]
    text_sets = [frozenset(d) for d in doc_tokens]
    frequency = Counter(t for words in text_sets for t in words)
    return Prepared(
        catalogue=catalogue,
        doc_tokens=doc_tokens,
        title_sets=[frozenset(tokenize(t)) for t in catalogue.titles],
        text_sets=text_sets,
        understanding=QueryUnderstanding(frozenset(frequency), catalogue.synonyms, frequency),
    )


def _dense_indexes(prep: Prepared, dims: int, seed: int):
    dense = ix.build_dense(prep.doc_tokens, dims, seed)
    ann, ann_ms, ann_bytes = ix.build_hnsw(dense.vectors, seed)
    return dense, ann, ann_ms, ann_bytes


def _train_ranker(system: System, seed: int):
    """Learning to rank on the training queries' candidates at the configured depth, from graded
    judgments, or from a position-biased click log of listing pages in the first stage's order
    (learning.py)."""
    catalogue, config = system.prep.catalogue, system.config
    depth, from_clicks = config["rerank_depth"], config["labels"] != "judgments"
    max_grade = max(max(judged.values()) for judged in catalogue.qrels if judged)
    rng = np.random.default_rng([seed, 5])  # the click log's own stream
    tables, labels = [], []
    with one_thread():
        for q in catalogue.train_queries:
            tokens = system.understand(catalogue.queries[q])
            docs, first = system.retrieve(tokens, FIRST_STAGE_DEPTH)
            if docs.size == 0:  # nothing matched (an uploaded query of stop words): nothing to learn
                continue
            docs, first = docs[:depth], first[:depth]
            if from_clicks:
                ipw = config["labels"] == "clicks_ipw"
                relevance = learning.click_labels(docs, catalogue.qrels[q], max_grade, ipw, rng)
            else:
                relevance = np.array([catalogue.qrels[q].get(int(d), 0) for d in docs], float)
            tables.append(system.features(tokens, docs, first))
            labels.append(relevance)
        return learning.fit(config["ranker_loss"], tables, labels, max_grade, seed)


def _unit_range(values: np.ndarray) -> np.ndarray:
    low, high = values.min(initial=0.0), values.max(initial=0.0)
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _segment(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else float("nan")


def _ann_recall(system: System, answers) -> float:
    """Share of the exact dense top 100 that the HNSW search also returns (1 for exact search)."""
    if system.ann is None:
        return 1.0
    overlaps = []
    for answer in answers[:50]:
        query = system.dense.embed(answer["tokens"])
        exact, _ = ix.nearest(system.dense, None, query, FIRST_STAGE_DEPTH, 0)
        approx, _ = ix.nearest(system.dense, system.ann, query, FIRST_STAGE_DEPTH, system.config["ann_ef"])
        overlaps.append(np.intersect1d(exact, approx).size / exact.size)
    return float(np.mean(overlaps))


def probe(config: dict[str, Any], seed: int, data, text: str) -> list[tuple[str, Any]]:
    """One typed query through the live system, with what every stage made of it."""
    import pandas as pd

    system, _ = assemble(config, seed, data)
    with one_thread():
        answer = system.search(text)
    titles = system.prep.catalogue.titles
    docs, first = answer["candidates"], answer["first_stage"]
    if docs.size == 0:
        return [
            ("Query understanding", " ".join(answer["tokens"]) or "(nothing left)"),
            ("Retrieval", "No results."),
        ]
    features = system.features(answer["tokens"], docs[:SHOWN], first[:SHOWN])
    retrieved = pd.DataFrame(
        {
            "product": [titles[d] for d in docs[:SHOWN]],
            "first stage": first[:SHOWN],
            "BM25": features[:, 0],
            "dense": features[:, 1],
        },
        index=pd.RangeIndex(1, min(SHOWN, docs.size) + 1, name="rank"),
    )
    before = {int(d): rank for rank, d in enumerate(docs, start=1)}
    shown = answer["shown"]
    ranked = pd.DataFrame(
        {"product": [titles[d] for d in shown], "was": [before[int(d)] for d in shown]},
        index=pd.RangeIndex(1, len(shown) + 1, name="rank"),
    )
    typed = text.replace("`", "'")  # shown inside a code span
    timing = " · ".join(f"{name.replace('_', ' ').lower()} {ms:.2f} ms" for name, ms in answer["ms"].items())
    return [
        ("Query understanding", f"`{typed}` → `{' '.join(answer['tokens'])}`"),
        (f"Retrieval: top {SHOWN} of {docs.size} candidates ({config['retriever']})", retrieved),
        (
            "Ranking and post-processing: the results page"
            + (" (no re-ranker)" if system.ranker is None else ""),
            ranked,
        ),
        (f"Server time {sum(answer['ms'].values()):.2f} ms", timing),
    ]
