"""The recommender's runner: prepare data, train, serve the evaluation users, measure.

Expensive steps are memoised on just the knobs they declare, so a post-processing knob reruns only
serving and evaluation while a world knob regenerates everything."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from case_studies.recommendation import models as m
from case_studies.recommendation.spec import STUDY
from case_studies.recommendation.upload import Interactions
from case_studies.recommendation.world import FRESH_DAYS, World, freshness, generate_world
from engine import metrics as rank_metrics
from engine.data import DataError
from engine.memo import Step
from engine.rerank import mmr
from engine.result import Measured, Uncertainty
from engine.serving.capacity import serving_cost
from engine.serving.predictor import field, in_range, require_object
from engine.timing import StageClock, time_requests, timed

TEST_SHARE = 0.2
RANKER_USER_SHARE = 0.3  # users whose held-out items label the ranker's training set
MAX_EVAL_USERS = 2000  # larger worlds are evaluated on a seeded sample of users
SLATE = 10
MAX_K = 50  # the largest slate a request may ask for
AUDIENCE_PER_USER = 10_000  # each simulated user stands for this many daily users when costing
CLICK_CENTRE, CLICK_SPREAD = 1.6, 0.35  # click model: P(click | seen) = sigmoid((utility - c) / s)
MAX_POOL = 500  # the largest candidate pool (the knob's high end)
EXAMINE = 1.0 / np.log2(np.arange(2, MAX_POOL + 2))  # a user looks at slot k with this chance
CLICK_SESSIONS = 3  # visits per ranker user in the click log
CLICK_STREAM = 11  # the click log's own random stream

PREPARED = Step(STUDY.id, "prepared", ("scale", "popularity_bias", "noise", "split"), max_entries=6)
TRAINED = Step(STUDY.id, "trained", ("candidate_model", "factors"), after=(PREPARED,), max_entries=12)
RANKER = Step(STUDY.id, "ranker", ("candidates", "ranker", "ranker_labels"), after=(TRAINED,), max_entries=24)


@dataclass(frozen=True)
class Prepared:
    """A train/test split plus the item and user tables the feature store serves."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    eval_users: np.ndarray
    ranker_users: np.ndarray
    request_ids: np.ndarray  # external ids of the evaluation users, as requests arrive
    user_index: dict[Any, int]
    item_age: np.ndarray
    item_genre: np.ndarray | None
    user_genre_share: np.ndarray | None
    world: World | None
    log_ms: float
    most_seen: int  # items the heaviest user has watched, held-out ones too: it bounds the pool

    @property
    def n_items(self) -> int:
        return self.train.shape[1]


def run(config: dict[str, Any], seed: int, data: Interactions | None) -> Measured:
    prep, trained, ranker, train_ms, ranker_ms = _assemble(config, seed, data)
    candidates, final, _ = rank_users(prep, trained, ranker, config, StageClock(), prep.eval_users, SLATE)
    latency = _latency(prep, trained, ranker, config, seed)
    stage_ms = {**latency.stage_ms, "Event_Log": prep.log_ms, "Training": train_ms + ranker_ms}
    metrics, per_user = _evaluate(prep, trained, candidates, final, stage_ms["Training"])
    audience = prep.train.shape[0] * AUDIENCE_PER_USER
    cost = serving_cost(latency, audience, memory_bytes(prep, trained, ranker))
    metrics.update(latency.metrics(), cost_usd_month=cost.usd, serving_replicas=float(cost.replicas))
    uncertainty = Uncertainty.resampled(
        per_user,
        seed,
        f"{prep.eval_users.size:,} evaluation users",
        repr(PREPARED.key(config, seed, data)),  # the same users, in the same order
        noise={**latency.noise(), "cost_usd_month": cost.band},
    )
    return Measured(metrics, stage_ms, uncertainty)


def _latency(prep: Prepared, trained, ranker, config, seed: int):
    """Requests from evaluation users, each served alone: JSON in, a slate out."""
    bodies = [json.dumps({"user_id": r, "k": SLATE}).encode() for r in prep.request_ids.tolist()]

    def serve(body: bytes, clock: StageClock):
        with clock.stage("API_Gateway"):
            user = parse_request(prep, json.loads(body))[0]
        return rank_users(prep, trained, ranker, config, clock, np.array([user]), SLATE)

    return time_requests(serve, bodies, STUDY.latency_floor, seed)


def memory_bytes(prep: Prepared, trained: m.TrainedModels, ranker) -> int:
    """What a serving replica holds: the candidate models' factors and similarities, the ranker,
    and the feature store's watch histories and item table."""
    als = trained.als.user_factors.nbytes + trained.als.item_factors.nbytes
    knn = trained.knn.similarity.data.nbytes + trained.knn.similarity.indices.nbytes
    history = prep.train.data.nbytes + prep.train.indices.nbytes + prep.train.indptr.nbytes
    return als + knn + history + prep.item_age.nbytes + len(pickle.dumps(ranker))


def assemble(config: dict[str, Any], seed: int, data: Interactions | None):
    """The serving system for `config`: prepared data, candidate models and ranker (or None)."""
    prep, trained, ranker, _, _ = _assemble(config, seed, data)
    return prep, trained, ranker


def prepared(config: dict[str, Any], seed: int, data: Interactions | None) -> Prepared:
    """The split and tables for `config`'s world (or upload), without training anything."""
    return PREPARED.get(config, seed, data, lambda knobs: _prepare(data, knobs, seed))


def _assemble(config: dict[str, Any], seed: int, data: Interactions | None):
    prep = prepared(config, seed, data)
    trained, train_ms = TRAINED.get(config, seed, data, lambda knobs: _timed_training(prep, knobs, seed))
    ranker, ranker_ms = None, 0.0
    if config["ranker"] != "none":
        ranker, ranker_ms = RANKER.get(
            config, seed, data, lambda knobs: _timed_ranker(prep, trained, knobs, seed)
        )
    return prep, trained, ranker, train_ms, ranker_ms


def _prepare(data: Interactions | None, config, seed: int) -> Prepared:
    rng = np.random.default_rng(seed)
    (world, external, item_age, item_genre, train, test), log_ms = timed(
        lambda: _log(data, config, seed, rng)
    )
    users = np.flatnonzero((np.diff(test.indptr) > 0) & (np.diff(train.indptr) > 0))
    users = rng.permutation(users)
    n_ranker = int(round(users.size * RANKER_USER_SHARE))
    eval_users = np.sort(users[n_ranker:][:MAX_EVAL_USERS])
    share = None
    if item_genre is not None:
        genre_hits = train @ sp.csr_matrix(
            (np.ones(item_genre.size), (np.arange(item_genre.size), item_genre))
        )
        share = np.asarray(genre_hits.todense()) / np.maximum(np.diff(train.indptr)[:, None], 1)
    return Prepared(
        train=train,
        test=test,
        eval_users=eval_users,
        ranker_users=np.sort(users[:n_ranker][:MAX_EVAL_USERS]),
        request_ids=external[eval_users],
        user_index={uid: i for i, uid in enumerate(external.tolist())},
        item_age=item_age,
        item_genre=item_genre,
        user_genre_share=share,
        world=world,
        log_ms=log_ms,
        most_seen=int((np.diff(train.indptr) + np.diff(test.indptr)).max()),
    )


def _log(data: Interactions | None, config, seed: int, rng: np.random.Generator):
    """The event log (the simulated world's, or the upload), split into train and held-out watches."""
    if data is None:
        world = generate_world(config["scale"], config["popularity_bias"], config["noise"], seed)
        frame, external = world.interactions, np.arange(world.n_users)
        item_age, item_genre = world.item_age_days, world.item_genre
        shape = (world.n_users, world.n_items)
    else:
        world, frame, external = None, data.frame, data.user_labels
        item_age, item_genre = data.item_age_days, None
        shape = (data.n_users, data.n_items)
    is_test = held_out(frame, config["split"], rng)
    train, test = _matrix(frame[~is_test], shape), _matrix(frame[is_test], shape)
    return world, external, item_age, item_genre, train, test


def held_out(frame, split: str, rng: np.random.Generator) -> np.ndarray:
    """Which events are held out (TEST_SHARE of them):

    - "random": a random share, the published MovieLens protocol, which lets a model see a user's
      later watches while it is graded on earlier ones;
    - "latest": each user's latest share, which still trains on other users' later watches and on
      the popularity they reveal: the global future leaks;
    - "global": every event after one moment in time (a global time cut), as serving sees the world:
      the only split that leaks nothing.

    A log without timestamps can only be split at random."""
    draws = rng.random(len(frame))  # drawn either way, so every split shares the seed's stream
    if split == "random" or "timestamp" not in frame:
        return draws < TEST_SHARE
    time = frame["timestamp"].to_numpy(float)
    if split == "global":  # the latest events overall; the draw breaks ties at the cut
        order = np.lexsort((draws, time))
        is_test = np.zeros(len(frame), bool)
        is_test[order[int(round(len(frame) * (1 - TEST_SHARE))) :]] = True
        return is_test
    # Latest first within each user; the random draw breaks ties between watches of the same day.
    order = np.lexsort((draws, -time, frame["user_id"].to_numpy()))
    users = frame["user_id"].to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, users.size])
    rank = np.arange(users.size) - np.repeat(starts, counts)  # 0 = the user's latest watch
    is_test = np.zeros(len(frame), bool)
    is_test[order] = rank < np.repeat(np.round(counts * TEST_SHARE), counts)
    return is_test


def _matrix(frame, shape) -> sp.csr_matrix:
    weights = frame["weight"].to_numpy(np.float32) if "weight" in frame else np.ones(len(frame), np.float32)
    matrix = sp.csr_matrix((weights, (frame["user_id"], frame["item_id"])), shape=shape)
    matrix.sum_duplicates()
    return matrix


def _timed_training(prep: Prepared, config, seed):
    return timed(lambda: m.train_models(prep.train, config["candidate_model"], config["factors"], seed))


def _timed_ranker(prep: Prepared, trained: m.TrainedModels, config, seed):
    """Fit the ranker on held-out users' candidates, labelled by whether each was consumed later."""
    return timed(lambda: _fit_ranker(prep, trained, config, seed))


def _fit_ranker(prep: Prepared, trained: m.TrainedModels, config, seed):
    """The ranker, fitted on the ranker users' candidates: labelled by their held-out watches, or by a
    click log of the slates the old system showed them (see `_click_log`)."""
    users = prep.ranker_users
    history = prep.train[users]
    pool = _pool_size(prep, config)
    cands, _ = m.generate_candidates(trained, config["candidate_model"], users, history, pool)
    features = _features(prep, trained, users, history, cands)
    ranker = m.make_ranker(config["ranker"], seed)
    if config["ranker_labels"] == "watches":
        return ranker.fit(features, rank_metrics.hits(cands, prep.test[users]).ravel())
    if prep.world is None:
        raise DataError("Click labels need the simulated world's users to click: use watches on your data.")
    clicks, weights = _click_log(prep.world, users, cands, config["ranker_labels"] == "clicks_ips", seed)
    weight = "sample_weight" if config["ranker"] == "gbdt" else "logisticregression__sample_weight"
    return ranker.fit(features, clicks, **{weight: weights})


def _click_log(world: World, users: np.ndarray, cands: np.ndarray, ips: bool, seed: int):
    """What a click log holds: the old system showed each user its whole candidate pool as a feed in
    the generator's order, on CLICK_SESSIONS visits, and the user clicked each slot with the world's
    position-biased chance. A click at the top says less about the video than one further down:
    inverse propensity scoring weights each row by 1 / examine(slot) to take the position out."""
    chance = click_chances(world, users, cands)
    clicks = np.random.default_rng([seed, CLICK_STREAM]).binomial(CLICK_SESSIONS, chance) > 0
    slots = EXAMINE[: cands.shape[1]]
    weight = np.broadcast_to(1 / slots if ips else np.ones_like(slots), clicks.shape)
    return clicks.ravel(), weight.ravel()


def _pool_size(prep: Prepared, config) -> int:
    """N, capped so every user still has N unseen items (small uploaded catalogues), counting the
    held-out watches too, as the upload's `pool_limit` does: the knob says where it stops."""
    return min(config["candidates"], prep.n_items - prep.most_seen)


def _features(prep, trained: m.TrainedModels, users, history, cands) -> np.ndarray:
    n = cands.shape[1]
    position = np.broadcast_to(np.arange(n) / n, cands.shape)
    mf = np.einsum("ud,und->un", trained.als.user_factors[users], trained.als.item_factors[cands])
    knn_scores = (history @ trained.knn.similarity).tocsr()  # sparse: only read at the candidates
    knn = np.asarray(knn_scores[np.repeat(np.arange(users.size), n), cands.ravel()]).reshape(cands.shape)
    popularity = np.log1p(trained.item_counts[cands])
    age = np.log1p(prep.item_age[cands])
    if prep.user_genre_share is None:
        affinity = np.zeros(cands.shape)
    else:
        affinity = prep.user_genre_share[users[:, None], prep.item_genre[cands]]
    columns = (position, mf, knn, popularity, age, affinity)
    return np.stack(columns, axis=-1).reshape(-1, len(m.FEATURES))


def parse_request(prep: Prepared, body: Any) -> tuple[int | None, Any, int]:
    """A validated `{user_id, k}` request as (internal user index or None when unknown, id, k)."""
    body = require_object(body)
    user_id = field(body, "user_id", (int, str))
    k = int(in_range("k", field(body, "k", int, SLATE), 1, MAX_K))
    return prep.user_index.get(user_id), user_id, k


def rank_users(
    prep: Prepared, trained: m.TrainedModels, ranker, config, clock: StageClock, users, slate: int
):
    """Candidates, slates and the slate items' final scores for known users (internal indices)."""
    per = users.size
    with clock.stage("Feature_Store", per):
        history = prep.train[users]
        item_age = prep.item_age
    with clock.stage("Candidate_Generation", per):
        cands, _ = m.generate_candidates(
            trained, config["candidate_model"], users, history, _pool_size(prep, config)
        )
    with clock.stage("Ranking", per):
        if ranker is None:
            scores = -np.broadcast_to(np.arange(cands.shape[1], dtype=float), cands.shape)
        else:
            features = _features(prep, trained, users, history, cands)
            scores = ranker.predict_proba(features)[:, 1].reshape(cands.shape)
    with clock.stage("Post_Processing", per):
        low, high = scores.min(axis=1, keepdims=True), scores.max(axis=1, keepdims=True)
        relevance = (scores - low) / np.maximum(high - low, 1e-12)
        boosted = relevance + config["freshness"] * freshness(item_age[cands])
        final = mmr(cands, boosted, trained.als.item_factors, config["diversity"], slate)
    return cands, final, boosted


def _evaluate(
    prep, trained: m.TrainedModels, cands, final, training_ms: float
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    users = prep.eval_users
    truth = prep.test[users]
    n_relevant = np.diff(truth.indptr)
    slate_hits = rank_metrics.hits(final, truth)
    pool_hits = rank_metrics.hits(cands, truth)
    vectors = prep.world.item_vecs if prep.world else trained.als.item_factors
    per_user = {"ndcg@10": rank_metrics.ndcg_per_row(slate_hits, n_relevant, SLATE)}
    if prep.world is not None:  # each evaluation user's expected click-through on their slate
        per_user["online_ctr"] = click_chances(prep.world, users, final).mean(axis=1)
    metrics = {
        "ndcg@10": float(per_user["ndcg@10"].mean()),
        "precision@10": rank_metrics.precision_at(slate_hits, SLATE),
        "recall@10": rank_metrics.recall_at(slate_hits, n_relevant, SLATE),
        "candidate_recall@N": float((pool_hits.sum(axis=1) / n_relevant).mean()),
        "coverage": rank_metrics.coverage(final, prep.n_items),
        "diversity": rank_metrics.intra_list_diversity(final, vectors),
        "novelty": rank_metrics.novelty(final, trained.item_counts),
        "fresh_share": float((prep.item_age[final] < FRESH_DAYS).mean()),
        "online_ctr": float(per_user["online_ctr"].mean()) if "online_ctr" in per_user else float("nan"),
        "train_s": training_ms / 1000,
        "users": float(prep.train.shape[0]),
        "items": float(prep.n_items),
        "interactions": float(prep.train.nnz + prep.test.nnz),
        "eval_users": float(users.size),
    }
    return metrics, per_user


def click_chances(world: World, users: np.ndarray, slates: np.ndarray) -> np.ndarray:
    """P(click) of each slot of each slate: examined with a chance falling by position, then clicked
    by how much the user truly likes the item."""
    utility = world.online_utility(users, slates)
    return EXAMINE[: slates.shape[1]] / (1.0 + np.exp(-(utility - CLICK_CENTRE) / CLICK_SPREAD))
