"""The recommendation study's serving period: four weeks of user visits answered by the registered
design and clicked in the simulated world, with a drift scenario from a chosen day.

Every day users also watch videos of their own choosing, drawn from the world's true utility. The
feature store adds the latest day's watches to the log: to popularity counts, and to each user's
history and genre affinity, where recent interests weigh most. So a change in the world reaches the
clicks at once and the served features and the ranker's score the next day. A retrained model learns
from the log and the last LOG_DAYS labelled days, so it sees the drifted world once it is labelled.

The world and the store are stationary between changes, so each pool user's visit is answered once
per (store state, model) and memoised: a day of 1,000 requests only samples visits and clicks, and
only training (cold) takes real time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from case_studies.recommendation import models as m
from case_studies.recommendation import pipeline as p
from case_studies.recommendation.spec import NEW_VIDEOS, SHIFT_SHARE, SHOCKED_VIDEOS
from case_studies.recommendation.world import (
    DIMS,
    FRESH_DAYS,
    FRESH_TASTE,
    GENRES,
    World,
    freshness,
    sample_watches,
)
from engine.memo import Memo
from engine.monitoring.period import DAYS, ClickPeriod, Feature, Period, Window
from engine.timing import StageClock

LOG_DAYS = 4  # the log holds about four serving days of watching: a day adds a quarter of it
RECENT_WEIGHT = 0.85  # the share of a user's history (so genre affinity) the latest day carries
MAX_POOL_USERS = 2000  # larger worlds answer a seeded sample of users
NEW_TASTE_GENRES = GENRES // 2  # moved users' new tastes: from the half they watched least
RELEASE_DAYS = 5
NEW_VIDEO_POP = 1.0  # their popularity, in the world's z-units
SURGE_PULL = 0.5  # how far every older video's popularity falls while the surge holds attention
SHOCK_POP = 5.0  # their popularity jump, in z-units: most users watch each of them every day
UNRELEASED_WEIGHT = 1e-9  # a "watch" that only keeps a video off the slates (see _model_view)
STREAMS = {"watch": 1, "scenario": 2, "split": 3, "pool": 4}  # seeded random streams

FEATURES = (
    Feature("history_length", "numeric", "Known watch history (log of videos)"),
    Feature("slate_popularity", "numeric", "Slate's popularity (mean log watches)"),
    Feature("slate_affinity", "numeric", "User's affinity to the slate's genres"),
    Feature("watched_popularity", "numeric", "Popularity of the latest watches (mean log watches)"),
    Feature("fresh_watch_share", "numeric", f"Share of the latest watches released in {FRESH_DAYS} days"),
    Feature("dominant_genre", "categorical", "User's top genre (the latest day weighs most)"),
)

_live_worlds = Memo(max_entries=8)
_watches = Memo(max_entries=64)
_stores = Memo(max_entries=16)
_answers = Memo(max_entries=32)
_retrained = Memo(max_entries=8)


@dataclass(frozen=True)
class LiveWorld:
    """The world before and after the drift day, and who watches and visits how much."""

    before: World
    after: World
    log: p.Prepared  # the logged history and its tables, as the registered design was trained
    daily_watches: np.ndarray  # per user, the expected watches of a serving day
    pool_users: np.ndarray  # the users whose visits are answered
    visit_chance: np.ndarray  # per pool user: the share of visits (heavy watchers visit more)


@dataclass(frozen=True)
class Store:
    """The feature store on one day, over that day's catalogue (a row per user)."""

    history: sp.csr_matrix  # weighted watches
    popularity: np.ndarray  # watch counts
    affinity: np.ndarray  # users x genres: share of the weighted watches
    latest: sp.csr_matrix  # the latest day's watches
    world: World


@dataclass(frozen=True)
class Served:
    """A model in service: the tables it was trained on, its fitted models, the last day it saw."""

    prep: p.Prepared
    trained: m.TrainedModels
    ranker: Any
    last_day: int  # -1: trained on the log only
    key: tuple


@dataclass(frozen=True)
class Answers:
    """What a model serves each pool user from one store state (a row per pool user)."""

    slates: np.ndarray
    features: pd.DataFrame
    score: np.ndarray


def build_period(
    config: dict[str, Any], seed: int, data, scenario: str, drift_day: int = 14, days: int = DAYS
) -> Period:
    return RecommendationPeriod(config, seed, scenario, drift_day, days)


class RecommendationPeriod(ClickPeriod):
    study = "recommendation"
    features = FEATURES

    def __init__(self, config: dict[str, Any], seed: int, scenario: str, drift_day: int, days: int):
        super().__init__(config, seed, scenario, drift_day, days)
        prep, trained, ranker = p.assemble(config, seed, None)
        self._design_key = (tuple(sorted(config.items())), seed)
        self._initial = Served(prep, trained, ranker, -1, self._design_key + ("registered",))
        self._world_key = (config["scale"], config["popularity_bias"], config["noise"], seed)
        self.live = _live_worlds.get(self._world_key + (scenario,), lambda: _live_world(prep, seed, scenario))

    def initial_model(self) -> Served:
        return self._initial

    def reference(self, model: Served, n: int, rng: np.random.Generator) -> Window:
        """Visits of the last day the model learned from."""
        return self.serve(model.last_day, model, n, rng)

    def serve(self, day: int, model: Served, n: int, rng: np.random.Generator) -> Window:
        answers = self._answers(model, self._store_day(day))
        rows = rng.choice(self.live.pool_users.size, n, p=self.live.visit_chance)
        chances = p.click_chances(self._world(day), self.live.pool_users[rows], answers.slates[rows])
        clicks = rng.random(chances.shape) < chances
        features = answers.features.iloc[rows].reset_index(drop=True)
        return Window(features, answers.score[rows], clicks.mean(axis=1))

    def retrain(self, day: int) -> tuple[Served, float]:
        """Trained on the log and the watches of the last LOG_DAYS labelled days; the time is the
        candidate models' and the ranker's measured training time."""
        last = day - self.label_delay_days
        key = self._design_key + (self.scenario, self.drift_day, last)
        return _retrained.get(key, lambda: self._retrain(last, key))

    def predictor(self, model: Served):
        """The registry's artifact for a model of this period: the endpoint serving it."""
        from case_studies.recommendation.serving import RecommendationPredictor

        labels = np.arange(model.prep.n_items)
        return RecommendationPredictor(model.prep, model.trained, model.ranker, self.config, labels)

    def _drifted(self, day: int) -> bool:
        return self.drift_day is not None and day >= self.drift_day

    def _world(self, day: int) -> World:
        return self.live.after if self._drifted(day) else self.live.before

    def _store_day(self, day: int) -> int:
        """The day whose watches the store holds on `day`: yesterday, except that while the world
        stands still every day's watches look alike, so one day stands for each stretch."""
        return self.drift_day if self._drifted(day - 1) else -1

    def _day_key(self, day: int) -> tuple:
        """What a day's watches and store depend on: the world, and whether it has drifted (the
        days before a drift are the same in every scenario)."""
        return self._world_key + (self.scenario if self._drifted(day) else "none", day)

    def _day_watches(self, day: int) -> sp.csr_matrix:
        return _watches.get(
            self._day_key(day),
            lambda: _sample_day(self.live, self._world(day), self.config["noise"], self.seed, day),
        )

    def _store(self, day: int) -> Store:
        return _stores.get(
            self._day_key(day), lambda: _store(self.live.log, self._world(day), self._day_watches(day))
        )

    def _answers(self, model: Served, store_day: int) -> Answers:
        return _answers.get(
            model.key + self._day_key(store_day),
            lambda: _answer_all(self._store(store_day), model, self.live.pool_users, self.config),
        )

    def _retrain(self, last: int, key: tuple) -> tuple[Served, float]:
        days = range(max(0, last - LOG_DAYS + 1), last + 1)
        world = self._world(last)
        prep = _training_tables(self.live.log, world, [self._day_watches(d) for d in days], last, self.seed)
        trained, train_ms = p._timed_training(prep, self.config, self.seed)
        ranker, ranker_ms = None, 0.0
        if self.config["ranker"] != "none":
            ranker, ranker_ms = p._timed_ranker(prep, trained, self.config, self.seed)
        return Served(prep, trained, ranker, last, key + ("retrained",)), train_ms + ranker_ms


def _live_world(prep: p.Prepared, seed: int, scenario: str) -> LiveWorld:
    """The registered design's world, the scenario's world after the drift, and the visitors."""
    world = prep.world
    rng = np.random.default_rng([seed, STREAMS["scenario"]])
    drift = {
        "none": lambda: world,
        "taste_shift": lambda: _shift_tastes(world, prep.user_genre_share, rng),
        "new_videos": lambda: _release_videos(world, rng),
        "popularity_shock": lambda: _shock_popularity(world, rng),
    }
    users = np.arange(world.n_users)
    if users.size > MAX_POOL_USERS:
        users = np.sort(np.random.default_rng([seed, STREAMS["pool"]]).choice(users, MAX_POOL_USERS, False))
    activity = np.diff(prep.train.indptr)[users].astype(float)  # as the endpoint's traffic draws users
    logged = np.bincount(world.interactions["user_id"], minlength=world.n_users)
    return LiveWorld(world, drift[scenario](), prep, logged / LOG_DAYS, users, activity / activity.sum())


def _genre_centres(world: World) -> np.ndarray:
    """Each genre's centre in taste space, read off its videos."""
    onehot = np.eye(GENRES)[world.item_genre]
    return (onehot.T @ world.item_vecs) / np.maximum(onehot.sum(axis=0), 1)[:, None]


def _shift_tastes(world: World, genre_share: np.ndarray, rng: np.random.Generator) -> World:
    """Moved users get new tastes, drawn as the world drew them (the mean of one to three genres),
    from the genres they watched least."""
    centres = _genre_centres(world)
    least_watched = np.argsort(genre_share, axis=1, kind="stable")[:, :NEW_TASTE_GENRES]
    user_vecs = world.user_vecs.copy()
    for u in np.flatnonzero(rng.random(world.n_users) < SHIFT_SHARE):
        picks = rng.choice(least_watched[u], size=rng.integers(1, 4), replace=False)
        user_vecs[u] = centres[picks].mean(axis=0) + 0.5 * rng.normal(size=DIMS) / np.sqrt(DIMS)
    return replace(world, user_vecs=user_vecs)


def _release_videos(world: World, rng: np.random.Generator) -> World:
    """NEW_VIDEOS videos out in the last RELEASE_DAYS, of random genres and more popular than the
    catalogue, whose videos each lose SURGE_PULL of popularity to them: attention is finite."""
    genre = rng.integers(0, GENRES, size=NEW_VIDEOS)
    vecs = _genre_centres(world)[genre] + 0.6 * rng.normal(size=(NEW_VIDEOS, DIMS)) / np.sqrt(DIMS)
    return replace(
        world,
        n_items=world.n_items + NEW_VIDEOS,
        item_vecs=np.vstack([world.item_vecs, vecs]),
        item_pop=np.concatenate([world.item_pop - SURGE_PULL, NEW_VIDEO_POP + rng.normal(size=NEW_VIDEOS)]),
        item_genre=np.concatenate([world.item_genre, genre]),
        item_age_days=np.concatenate([world.item_age_days, rng.integers(0, RELEASE_DAYS, NEW_VIDEOS)]),
    )


def _shock_popularity(world: World, rng: np.random.Generator) -> World:
    """SHOCKED_VIDEOS videos drawn at random go viral."""
    item_pop = world.item_pop.copy()
    item_pop[rng.choice(world.n_items, SHOCKED_VIDEOS, replace=False)] += SHOCK_POP
    return replace(world, item_pop=item_pop)


def _sample_day(live: LiveWorld, world: World, noise: float, seed: int, day: int) -> sp.csr_matrix:
    """A day of watches (users x the day's catalogue), by the utility clicks follow: taste,
    popularity and freshness. Users watch videos new to them: none of their logged ones."""
    rng = np.random.default_rng([seed, STREAMS["watch"], day + 1])
    counts = rng.poisson(live.daily_watches)
    # World.online_utility's terms beyond taste, for every video at once
    appeal = 0.5 * world.pop_weight * world.item_pop + FRESH_TASTE * freshness(world.item_age_days)
    seen = _widen(live.log.train + live.log.test, world.n_items)
    users, items = sample_watches(world.user_vecs, world.item_vecs, appeal, counts, noise, rng, seen)
    return sp.csr_matrix((np.ones(users.size), (users, items)), shape=(world.n_users, world.n_items))


def _widen(matrix: sp.csr_matrix, n_items: int) -> sp.csr_matrix:
    """The same rows over a catalogue grown to `n_items` (new videos have no events yet)."""
    matrix = matrix.tocsr()
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_items))


def _genre_share(matrix: sp.csr_matrix, item_genre: np.ndarray) -> np.ndarray:
    """Each user's share of (weighted) watches per genre; zeros for a user without any."""
    n_items = matrix.shape[1]
    onehot = sp.csr_matrix((np.ones(n_items), (np.arange(n_items), item_genre)), shape=(n_items, GENRES))
    hits = np.asarray((matrix @ onehot).todense())
    return hits / np.maximum(hits.sum(axis=1, keepdims=True), 1e-12)


def _store(log: p.Prepared, world: World, latest: sp.csr_matrix) -> Store:
    """The log's tables with the latest day's watches added: counts simply grow, while each user's
    history carries the day at RECENT_WEIGHT of the user's weight (the kNN scores and the genre
    affinity follow it); a user who watched nothing that day keeps the log alone."""
    logged = _widen(log.train, world.n_items)
    log_mass = np.asarray(logged.sum(axis=1)).ravel()
    day_mass = np.asarray(latest.sum(axis=1)).ravel()
    keep = np.where(day_mass > 0, 1 - RECENT_WEIGHT, 1.0)
    gain = RECENT_WEIGHT * log_mass / np.maximum(day_mass, 1)  # the day's share of the user's weight
    history = (sp.diags(keep) @ logged + sp.diags(np.where(day_mass > 0, gain, 0.0)) @ latest).tocsr()
    return Store(
        history=history,
        popularity=np.asarray((logged + latest).sum(axis=0)).ravel(),
        affinity=_genre_share(history, world.item_genre),
        latest=latest,
        world=world,
    )


def _answer_all(store: Store, model: Served, users: np.ndarray, config: dict[str, Any]) -> Answers:
    """Every pool user's slate from `model` reading `store`, the features the monitors see and the
    model's score of the top video."""
    prep, trained = _model_view(store, model)
    tap = _ScoreTap(model.ranker) if model.ranker is not None else None
    cands, final, _ = p.rank_users(prep, trained, tap, config, StageClock(), users, p.SLATE)
    if tap is None:  # no ranker: the generator's own scores
        _, scores = m.generate_candidates(
            trained, config["candidate_model"], users, prep.train[users], cands.shape[1]
        )
    else:
        scores = tap.scores.reshape(cands.shape)
    top = np.argmax(cands == final[:, :1], axis=1)
    return Answers(final, _features(store, prep, users, final), scores[np.arange(users.size), top])


def _model_view(store: Store, model: Served) -> tuple[p.Prepared, m.TrainedModels]:
    """The store over the videos `model` knows. Serving a day before videos it knows came out (a
    retrained model's reference days), those count as watched by everyone, with no weight, so the
    seen-filter keeps them off its slates."""
    known, released = model.prep.n_items, store.world.n_items
    history, popularity = store.history[:, :known], store.popularity[:known]
    if known > released:
        not_out = sp.csr_matrix(np.full((history.shape[0], known - released), UNRELEASED_WEIGHT))
        history = sp.hstack([history, not_out], format="csr")
        popularity = np.concatenate([popularity, np.zeros(known - released)])
    prep = replace(model.prep, train=history, user_genre_share=store.affinity)
    return prep, replace(model.trained, item_counts=popularity)


class _ScoreTap:
    """The ranker, keeping the scores it gives, so the period reads them without ranking twice."""

    def __init__(self, ranker):
        self.ranker, self.scores = ranker, np.zeros(0)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        proba = self.ranker.predict_proba(features)
        self.scores = proba[:, 1]
        return proba


def _features(store: Store, prep: p.Prepared, users: np.ndarray, slates: np.ndarray) -> pd.DataFrame:
    log_popularity = np.log1p(store.popularity)
    latest = store.latest[users]
    watched = np.maximum(np.asarray(latest.sum(axis=1)).ravel(), 1)
    fresh = (store.world.item_age_days < FRESH_DAYS).astype(float)
    return pd.DataFrame(
        {
            "history_length": np.log1p(np.diff(store.history[:, : prep.n_items].indptr)[users]),
            "slate_popularity": log_popularity[slates].mean(axis=1),
            "slate_affinity": store.affinity[users[:, None], prep.item_genre[slates]].mean(axis=1),
            "watched_popularity": latest @ log_popularity / watched,
            "fresh_watch_share": latest @ fresh / watched,
            "dominant_genre": store.affinity[users].argmax(axis=1),
        }
    )


def _training_tables(
    log: p.Prepared, world: World, watches: list[sp.csr_matrix], last: int, seed: int
) -> p.Prepared:
    """The log and the days' watches over the catalogue known on day `last`, as a fresh train /
    held-out split (the held-out watches label the ranker, as the log's did)."""
    events = sum((_widen(w, world.n_items) for w in watches), _widen(log.train + log.test, world.n_items))
    events = events.tocoo()
    is_test = np.random.default_rng([seed, STREAMS["split"], last]).random(events.nnz) < p.TEST_SHARE
    train, test = (
        sp.csr_matrix((events.data[part], (events.row[part], events.col[part])), shape=events.shape)
        for part in (~is_test, is_test)
    )
    return replace(
        log,
        train=train,
        test=test,
        item_age=world.item_age_days,
        item_genre=world.item_genre,
        user_genre_share=_genre_share(train, world.item_genre),
        world=world,
    )
