"""The PYMK runner: build the graph snapshots, train the ranker, rank every evaluation user's
candidates (online, or as last night's batch job did), post-process and measure; then time requests
one at a time on the request path.

Expensive steps are memoised on only the knobs they declare: the world on the world knobs, the
graph views on the high-degree cap, the ranker and the scored candidate lists on the candidate and
ranker knobs. Moving the community spread therefore reuses every ranked list."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from case_studies.pymk import candidates as cg
from case_studies.pymk import ego, ranking
from case_studies.pymk.choices import HEURISTICS, LEARNED
from case_studies.pymk.evaluation import SLATE, funnel, per_user_scores
from case_studies.pymk.network import Prepared, adjacency_bytes, not_to_suggest, prepare
from case_studies.pymk.spec import STUDY
from case_studies.pymk.upload import Friendships
from case_studies.pymk.world import generate_world
from engine.memo import Step
from engine.result import Measured, Uncertainty
from engine.serving.predictor import field, in_range, require_object
from engine.threads import one_thread
from engine.timing import StageClock, time_requests, timed

BATCH_DEPTH = 3 * SLATE  # suggestions the batch job stores per user, so filtering leaves a slate
FAMOUS = 200  # friends above which post-processing counts an account as famous
MAX_K = 50

PREPARED = Step(STUDY.id, "graph snapshots", ("scale", "triadic", "homophily", "new_users"), max_entries=4)
VIEWS = Step(STUDY.id, "graph views", ("hub_cap",), after=(PREPARED,))
CANDIDATES = ("sources", "fof_cap")
RANKER = Step(STUDY.id, "ranker", (*CANDIDATES, "ranker", "features"), after=(VIEWS,), max_entries=16)
SCORED = Step(STUDY.id, "ranked pools", ("serving",), after=(RANKER,), max_entries=16)


@dataclass(frozen=True)
class System:
    prep: Prepared
    live: cg.GraphView
    snapshot: cg.GraphView
    model: Any  # a fitted scikit-learn classifier, or None for a heuristic ranker
    user_index: dict[Any, int]
    training_ms: float
    snapshot_ms: float  # building the world (or reading the upload) and both graph snapshots


def run(config: dict[str, Any], seed: int, data: Friendships | None) -> Measured:
    system = assemble(config, seed, data)
    scored = SCORED.get(config, seed, data, lambda knobs: _scoring(system, knobs, seed))
    slates = _slates(system, config, scored)
    latency = _latency(system, config, scored, seed)
    per_user = _per_user(system.prep, scored, slates)
    metrics = {**_metrics(system, config, scored, per_user), **latency.metrics()}
    stage_ms = {**latency.stage_ms, "Graph_Snapshot": system.snapshot_ms}
    stage_ms["Batch_Job"] = metrics["batch_job_s"] * 1000
    if config["ranker"] in LEARNED:
        stage_ms["Training"] = system.training_ms
    uncertainty = Uncertainty.resampled(
        per_user,
        seed,
        f"{int(system.prep.in_sample.sum()):,} evaluation users",
        repr(PREPARED.key(config, seed, data)),  # the same users, in the same order
        noise=latency.noise(),
    )
    return Measured(metrics, stage_ms, uncertainty)


def _per_user(prep: Prepared, scored: Scored, slates: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Each metric's value per user: the random sample for the averages, every cold-start user
    scored (sampled ones and the extra ones) for new-user recall."""
    scores = per_user_scores(prep, scored.pools, slates)
    if prep.world is not None:
        scores.update(funnel(prep, slates))
    per_user = {key: values[prep.in_sample] for key, values in scores.items()}
    per_user["new_user_recall@10"] = scores["recall@10"][prep.is_new]
    return per_user


def assemble(config: dict[str, Any], seed: int, data: Friendships | None) -> System:
    """The serving system for `config`: snapshots, graph views and the ranker (None: a heuristic)."""
    prep, snapshot_ms = _timed_prepare(config, seed, data)
    live, snapshot = VIEWS.get(config, seed, data, lambda knobs: _graph_views(prep, knobs, seed))
    model, training_ms = None, 0.0
    if config["ranker"] in LEARNED:
        model, training_ms = RANKER.get(
            config, seed, data, lambda knobs: timed(lambda: _train(prep, snapshot, knobs, seed))
        )
    user_index = {label: i for i, label in enumerate(prep.labels.tolist())}
    return System(prep, live, snapshot, model, user_index, training_ms, snapshot_ms)


def prepared(config: dict[str, Any], seed: int, data: Friendships | None) -> Prepared:
    """The graph snapshots of `config`'s world (memoised), without training anything."""
    return _timed_prepare(config, seed, data)[0]


def _timed_prepare(config: dict[str, Any], seed: int, data: Friendships | None) -> tuple[Prepared, float]:
    return PREPARED.get(config, seed, data, lambda knobs: timed(lambda: _prepare(knobs, seed, data)))


def _prepare(config, seed: int, data: Friendships | None) -> Prepared:
    if data is not None:
        return prepare(data, seed)
    world = generate_world(config["scale"], config["triadic"], config["homophily"], config["new_users"], seed)
    return prepare(world, seed)


def _graph_views(prep: Prepared, config, seed: int):
    return (
        cg.graph_view(prep.live, prep.attributes, config["hub_cap"], seed),
        cg.graph_view(prep.snapshot, prep.attributes, config["hub_cap"], seed),
    )


def _train(prep: Prepared, snapshot: cg.GraphView, config, seed: int):
    """Fit on the previous period: candidates and features from the batch snapshot, labelled by
    whether the pair became friends between the snapshot and the cut."""
    tables, labels = [], []
    for user in prep.ranker_users.tolist():
        cands = cg.generate(snapshot, user, config["sources"], config["fof_cap"], prep.attributes)
        tables.append(ranking.features(snapshot, user, cands, prep.attributes))
        labels.append(np.isin(cands.ids, list(prep.recent[user])))
    target = np.concatenate(labels) if labels else np.zeros(0, bool)
    if target.sum() in (0, target.size):  # nothing (or everything) befriended: nothing to learn
        return None
    inputs = ranking.model_inputs(np.concatenate(tables), config["features"])
    model = ranking.make_model(config["ranker"], seed)
    with one_thread():  # OpenMP threads fighting other work took 36.8 s here, one thread 3.3 s
        return model.fit(inputs, target)


@dataclass(frozen=True)
class Scored:
    """Every evaluation user's candidate pool, ranked, and what the batch job spends per user."""

    pools: list[np.ndarray]
    ranked: list[np.ndarray]
    sizes: np.ndarray  # candidates per user
    job_ms_per_user: float  # candidate generation and ranking for every user, as one batch


def _scoring(system: System, config, seed: int) -> Scored:
    """Generate and rank candidates for every evaluation user in one batch: on the live graph
    (online), or on the snapshot (the nightly job). Its time per user is the batch job's."""
    users = system.prep.eval_users
    view = system.snapshot if config["serving"] == "batch" else system.live
    rng = np.random.default_rng(seed)
    (pools, ranked), ms = timed(lambda: _score_users(system, view, config, users, StageClock(), rng))
    sizes = np.array([p.size for p in pools])
    return Scored(pools, ranked, sizes, ms / max(users.size, 1))


def _score_users(system: System, view: cg.GraphView, config, users: np.ndarray, clock: StageClock, rng):
    attributes = system.prep.attributes
    with clock.stage("Candidate_Generation"):
        pools = [
            cg.generate(view, u, config["sources"], config["fof_cap"], attributes) for u in users.tolist()
        ]
    with clock.stage("Ranking"), one_thread():
        ranked = rank_pools(system, view, users, pools, config, rng)
    return [c.ids for c in pools], ranked


def rank_pools(system: System, view: cg.GraphView, users: np.ndarray, pools, config, rng) -> list[np.ndarray]:
    """Each pool in score order (best first)."""
    scores = score_pools(system, view, users, pools, config, rng)
    return [in_order(c, s, config)[0] for c, s in zip(pools, scores, strict=True)]


def score_pools(system: System, view: cg.GraphView, users, pools, config, rng) -> list[np.ndarray]:
    """Each candidate's score, pool by pool. A learned ranker scores the whole batch of requests in
    one call: scikit-learn's per-call overhead is milliseconds, more than one user's features."""
    pairs = list(zip(users.tolist(), pools, strict=True))
    if system.model is None:  # a heuristic, or a learned ranker whose labels held a single class
        name = config["ranker"] if config["ranker"] in HEURISTICS else "adamic_adar"
        return [ranking.heuristic_scores(name, view, u, c, rng) for u, c in pairs]
    tables = [ranking.features(view, u, c, system.prep.attributes) for u, c in pairs]
    return learned_scores(system.model, config, tables)


def learned_scores(model, config, tables: list[np.ndarray]) -> list[np.ndarray]:
    """A learned ranker's score of every row of each pool's feature table."""
    if not tables:
        return []
    inputs = ranking.model_inputs(np.concatenate(tables), config["features"])
    flat = model.predict_proba(inputs)[:, 1] if len(inputs) else np.empty(0)
    return np.split(flat, np.cumsum([len(t) for t in tables])[:-1])


def in_order(cands: cg.Candidates, scores: np.ndarray, config) -> tuple[np.ndarray, np.ndarray]:
    """The pool's ids and scores, best first; in batch mode only the BATCH_DEPTH the job stores."""
    depth = BATCH_DEPTH if config["serving"] == "batch" else None
    order = np.argsort(-scores, kind="stable")[:depth]
    return cands.ids[order], scores[order]


def parse_request(system: System, body: Any) -> tuple[int | None, int]:
    """A validated `{user_id, k}` request as (internal user index or None when unknown, k)."""
    body = require_object(body)
    user_id = field(body, "user_id", (int, str))
    k = int(in_range("k", field(body, "k", int, SLATE), 1, MAX_K))
    return system.user_index.get(user_id), k


def _slates(system: System, config, scored: Scored) -> list[np.ndarray]:
    """Every evaluation user's row: their ranked list, post-processed."""
    prep = system.prep
    return [
        post_process(prep, ranked, not_to_suggest(prep, u), config)
        for u, ranked in zip(prep.eval_users.tolist(), scored.ranked, strict=True)
    ]


def _latency(system: System, config, scored: Scored, seed: int):
    """Requests from evaluation users, each served alone: the gateway, the feature store's reads (the
    friend list; in batch mode the row last night's job stored), candidates and ranking (online
    only), post-processing."""
    prep = system.prep
    bodies = [json.dumps({"user_id": u, "k": SLATE}).encode() for u in prep.labels[prep.eval_users].tolist()]
    online = config["serving"] == "online"
    stored = {} if online else dict(zip(prep.eval_users.tolist(), scored.ranked, strict=True))
    rng = np.random.default_rng(seed)

    def serve(body: bytes, clock: StageClock) -> np.ndarray:
        with clock.stage("API_Gateway"):
            user = parse_request(system, json.loads(body))[0]
        with clock.stage("Feature_Store"):
            excluded, row = not_to_suggest(prep, user), stored.get(user)
        if online:
            row = _score_users(system, system.live, config, np.array([user]), clock, rng)[1][0]
        with clock.stage("Post_Processing"):
            return post_process(prep, row, excluded, config)

    return time_requests(serve, bodies, STUDY.latency_floor, seed)


def post_process(prep: Prepared, ranked: np.ndarray, excluded, config, slate: int = SLATE) -> np.ndarray:
    """Drop people already friends (a batch list can be a day old) or with a request pending (the
    `excluded` of network.not_to_suggest), show at most `famous_per_row` accounts with more than
    FAMOUS friends, and at most `spread` from one community."""
    shown: list[int] = []
    high_degree = 0
    per_community: Counter = Counter()
    for v in ranked.tolist():
        if v in excluded:
            continue
        if prep.live.degree(v) > FAMOUS:
            if high_degree >= config["famous_per_row"]:
                continue
            high_degree += 1
        community = prep.community[v]
        if per_community[community] >= config["spread"]:
            continue
        per_community[community] += 1
        shown.append(v)
        if len(shown) == slate:
            break
    return np.array(shown, int)


def _metrics(system: System, config, scored: Scored, per_user: dict[str, np.ndarray]):
    prep = system.prep
    new_users = per_user["new_user_recall@10"]
    return {
        "recall@10": float(per_user["recall@10"].mean()),
        "precision@10": float(per_user["precision@10"].mean()),
        "ndcg@10": float(per_user["ndcg@10"].mean()),
        "candidate_recall": float(per_user["candidate_recall"].mean()),
        **{
            key: float(per_user[key].mean()) if prep.world else float("nan")
            for key in ("friendships_per_user", "requests_per_user", "acceptance_rate")
        },
        "new_user_recall@10": float(new_users.mean()) if new_users.size else 0.0,
        "candidates_per_user": float(scored.sizes[prep.in_sample].mean()),
        "candidates_p99": float(np.percentile(scored.sizes[prep.in_sample], 99)),
        "batch_job_s": scored.job_ms_per_user * prep.n_users / 1000,
        "adjacency_mb": adjacency_bytes(prep) / 1e6,
        "users": float(prep.n_users),
        "friendships": float(prep.live.number_of_edges()),
        "eval_users": float(prep.in_sample.sum()),
        "new_eval_users": float(new_users.size),
    }


def probe(config: dict[str, Any], seed: int, data, text: str) -> list[tuple[str, Any]]:
    """One user's suggestions through the live system: candidates per source with their mutual
    friends and features, then the final ranked list."""
    import pandas as pd

    system = assemble(config, seed, data)
    prep = system.prep
    label = text.strip()
    user = system.user_index.get(int(label) if label.lstrip("-").isdigit() and prep.world else label)
    if user is None:
        return [
            (
                "User",
                f"No user `{label.replace('`', '')}` in this network; try one of 0 to {prep.n_users - 1}.",
            )
        ]
    view = system.snapshot if config["serving"] == "batch" else system.live
    cands = cg.generate(view, user, config["sources"], config["fof_cap"], prep.attributes)
    table = ranking.features(view, user, cands, prep.attributes)
    frame = pd.DataFrame(table, columns=ranking.FEATURES)
    frame.insert(0, "source", [cg.SOURCE_NAMES[s] for s in cands.source])
    frame.insert(0, "candidate", prep.labels[cands.ids])
    ranked = rank_pools(system, view, np.array([user]), [cands], config, np.random.default_rng(seed))[0]
    final = post_process(prep, ranked, not_to_suggest(prep, user), config)
    position = {v: i for i, v in enumerate(cands.ids.tolist())}
    shown = frame.iloc[[position[v] for v in final.tolist()]].reset_index(drop=True)
    shown.index = pd.RangeIndex(1, len(shown) + 1, name="rank")
    shown["became friends"] = [v in prep.targets.get(user, set()) for v in final.tolist()]
    counts = Counter(cg.SOURCE_NAMES[s] for s in cands.source)
    by_source = ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"
    friends = prep.live.degree(user)
    befriended = prep.targets.get(user, set())
    drawn = min(friends, ego.MAX_FRIENDS)
    return [
        (
            "User",
            f"User {prep.labels[user]}: {friends} friends before the cut, {_attributes_line(prep, user)}",
        ),
        (
            f"Neighbourhood: {drawn} of {friends} friends and the {final.size} suggestions, linked by who "
            "knows whom",
            ego.ego_option(prep.live, user, final, befriended, prep.labels),
        ),
        (f"Candidates: {cands.ids.size} ({by_source})", frame.head(50)),
        (f"Suggestions after ranking ({config['ranker']}) and post-processing{_pending(prep, user)}", shown),
    ]


def _pending(prep: Prepared, user: int) -> str:
    """Which of the user's pending requests post-processing kept off the list."""
    pending = sorted(prep.pending.get(user, ()))
    if not pending:
        return ""
    people = ", ".join(str(label) for label in prep.labels[pending].tolist())
    return f" (a request is pending with {people}: never suggested)"


def _attributes_line(prep: Prepared, user: int) -> str:
    if prep.attributes is None:
        return "no attributes (uploaded graph)"
    names = ("school", "company", "city", "age band")
    return ", ".join(
        f"{name} {value}" for name, value in zip(names, prep.attributes[user].tolist(), strict=True)
    )
