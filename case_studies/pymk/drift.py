"""The PYMK study's serving period: four weeks of people opening their suggestions, answered by the
registered design and accepted or not by the world's own formation rule, with a drift scenario from
a chosen day.

Requests come from a seeded pool of users, each as often as they are active (friends + 1, as the
endpoint's traffic draws them). The graph stands still between changes, so each user's row is
computed once per (graph, model) by the endpoint's own code and memoised, and a learned ranker's
feature tables once per graph: a day of 1,000 requests only samples users and acceptances, and a
retrained ranker only re-scores the tables.

A campus wave adds students who befriend only each other, so everyone else's friends of friends,
groups and rows stay as they were: the pool's rows are shared by every scenario.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from case_studies.pymk import candidates as cg
from case_studies.pymk import pipeline as p
from case_studies.pymk import ranking
from case_studies.pymk.evaluation import SLATE, friendship_chances
from case_studies.pymk.serving import PymkPredictor
from case_studies.pymk.spec import ONLINE_HOMOPHILY, WAVE_SHARE, WAVE_TRAFFIC
from case_studies.pymk.world import CITIES, FormationRule
from engine.memo import Memo
from engine.monitoring.period import DAYS, ClickPeriod, Feature, Period, Window
from engine.threads import one_thread
from engine.timing import StageClock

POOL_USERS = 1000  # users whose rows are served, a seeded sample: their features cost ~10 ms each
DEPARTMENTS, HALLS = 10, 20  # the campus's schools and companies, as the graph's attributes read them
CLASSMATE_CHANCE = 0.6  # of a student befriending the next in their department's list: 0-2 friends
LOG_DAYS = 7  # a retrain learns from the rows shown on the last week of labelled days
LOG_REQUESTS = 2000  # rows logged per day
STREAMS = {"pool": 1, "wave": 2, "log": 3}  # seeded random streams

FEATURES = (
    Feature("friends", "numeric", "Requesting user's friends (log)"),
    Feature("candidates", "numeric", "Candidates per request"),
    Feature("top_mutual", "numeric", "Mutual friends of the top suggestion"),
    Feature("top_source", "categorical", "Source of the top suggestion"),
)

_campuses = Memo(max_entries=4)
_pooled = Memo(max_entries=8)
_rows = Memo(max_entries=32)
_chances = Memo(max_entries=32)
_retrained = Memo(max_entries=8)


@dataclass(frozen=True)
class Group:
    """People whose requests a day draws, on the network that answers them."""

    name: str  # "pool" or "wave"
    system: p.System  # the registered design over that network
    rule: FormationRule
    users: np.ndarray
    visit_chance: np.ndarray  # per user: the share of the group's requests


@dataclass(frozen=True)
class Served:
    """A ranker in service: the fitted model (None: a heuristic), the last day it learned from."""

    model: Any
    last_day: int  # -1: the registered design
    key: tuple


@dataclass(frozen=True)
class Pooled:
    """Each user's candidates on one network, with their feature tables for a learned ranker."""

    candidates: list[cg.Candidates]
    tables: list[np.ndarray] | None


@dataclass(frozen=True)
class Rows:
    """What a model serves each user of a group (a row per user)."""

    slates: list[np.ndarray]
    features: pd.DataFrame
    score: np.ndarray  # the top suggestion's score
    shown: list[np.ndarray]  # per user, the pool rows shown (what the retrain's log records)


def build_period(
    config: dict[str, Any], seed: int, data, scenario: str, drift_day: int = 14, days: int = DAYS
) -> Period:
    return PymkPeriod(config, seed, scenario, drift_day, days)


class PymkPeriod(ClickPeriod):
    study = "pymk"
    features = FEATURES
    metric_label = "friendships per row"
    metric_fmt = ".3f"

    def __init__(self, config: dict[str, Any], seed: int, scenario: str, drift_day: int, days: int):
        super().__init__(config, seed, scenario, drift_day, days)
        self.system = p.assemble(config, seed, None)
        self._design_key = (tuple(sorted(config.items())), seed)
        self._initial = Served(self.system.model, -1, self._design_key + ("registered",))
        base = (config["scale"], config["triadic"], config["homophily"], config["new_users"], seed)
        self._network_key = base + (config["hub_cap"],)
        self._pool_key = self._network_key + (config["sources"], config["fof_cap"], config["serving"])
        self.pool = _pool_group(self.system, seed)
        if scenario == "campus_wave":
            self.wave = _campuses.get(self._network_key, lambda: _campus_group(self.system, seed))
        if scenario == "online_meeting":
            rule = self.pool.rule
            online = dataclasses.replace(rule, homophily=rule.homophily * ONLINE_HOMOPHILY)
            self.online = dataclasses.replace(self.pool, rule=online)

    def initial_model(self) -> Served:
        return self._initial

    def reference(self, model: Served, n: int, rng: np.random.Generator) -> Window:
        """Requests of a day before any drift."""
        return self._window([(self.pool, n)], model, rng)

    def serve(self, day: int, model: Served, n: int, rng: np.random.Generator) -> Window:
        return self._window(self._mix(day, n, rng), model, rng)

    def retrain(self, day: int) -> tuple[Served, float]:
        """A learned ranker refitted on the rows shown on the last LOG_DAYS labelled days and whether
        each suggestion was accepted (as if the registered design had shown them); the time is the
        fit's. Learning acceptance itself, which the registered ranker only approximates (it learned
        which friendships formed), pays even without drift: 0.76-0.78 → 0.84 at the defaults, seeds 0-2.
        A heuristic has nothing to learn, so it stays."""
        if self.system.model is None:
            return self._initial, 0.0
        last = day - self.label_delay_days
        key = self._design_key + (self.scenario, self.drift_day, last)
        return _retrained.get(key, lambda: self._retrain(last, key))

    def predictor(self, model: Served) -> PymkPredictor:
        """The endpoint for a model of this period, over the network as of the last day it learned
        from (with the campus's students once they have joined)."""
        group = self.wave if self.scenario == "campus_wave" and self._drifted(model.last_day) else self.pool
        return PymkPredictor(dataclasses.replace(group.system, model=model.model), self.config, self.seed)

    def _drifted(self, day: int) -> bool:
        return self.drift_day is not None and day >= self.drift_day

    def _mix(self, day: int, n: int, rng: np.random.Generator) -> list[tuple[Group, int]]:
        """The groups a day's `n` requests come from, and how many from each."""
        if not self._drifted(day):
            return [(self.pool, n)]
        if self.scenario == "online_meeting":
            return [(self.online, n)]
        students = int(rng.binomial(n, WAVE_TRAFFIC))
        return [(self.pool, n - students), (self.wave, students)]

    def _window(self, mix: list[tuple[Group, int]], model: Served, rng: np.random.Generator) -> Window:
        features, score, outcome = [], [], []
        for group, n in mix:
            rows, chances = self._rows(group, model), self._chances(group, model)
            drawn = rng.choice(group.users.size, n, p=group.visit_chance)
            accepted = rng.random((n, chances.shape[1])) < chances[drawn]
            features.append(rows.features.iloc[drawn])
            score.append(rows.score[drawn])
            outcome.append(accepted.sum(axis=1))  # friendships the row made: a rate per shown is gamed
        return Window(pd.concat(features, ignore_index=True), np.concatenate(score), np.concatenate(outcome))

    def _pooled(self, group: Group) -> Pooled:
        learned = self.system.model is not None
        key = self._pool_key + (group.name, learned)
        return _pooled.get(key, lambda: _pool(group, self.config, self.seed, learned))

    def _rows(self, group: Group, model: Served) -> Rows:
        key = model.key + (group.name,)
        return _rows.get(key, lambda: _answer(group, self._pooled(group), model, self.config, self.seed))

    def _chances(self, group: Group, model: Served) -> np.ndarray:
        key = model.key + (group.name, group.rule.homophily)
        adjacency = group.system.prep.adjacency
        return _chances.get(
            key,
            lambda: friendship_chances(group.rule, adjacency, group.users, self._rows(group, model).slates),
        )

    def _retrain(self, last: int, key: tuple) -> tuple[Served, float]:
        rng = np.random.default_rng([self.seed, STREAMS["log"], last])
        tables, labels = [], []
        for day in range(max(0, last - LOG_DAYS + 1), last + 1):
            for group, n in self._mix(day, LOG_REQUESTS, rng):
                pooled, rows = self._pooled(group), self._rows(group, self._initial)
                chances = self._chances(group, self._initial)
                for user in rng.choice(group.users.size, n, p=group.visit_chance).tolist():
                    shown = rows.shown[user]
                    tables.append(pooled.tables[user][shown])
                    labels.append(rng.random(shown.size) < chances[user, : shown.size])
        clock = StageClock()
        with clock.stage("fit"), one_thread():
            model = ranking.make_model(self.config["ranker"], self.seed)
            model.fit(
                ranking.model_inputs(np.concatenate(tables), self.config["features"]), np.concatenate(labels)
            )
        return Served(model, last, key + ("retrained",)), clock.ms["fit"]


def _pool_group(system: p.System, seed: int) -> Group:
    """A seeded sample of the network's users, visiting as often as they are active."""
    n = system.prep.n_users
    users = np.arange(n)
    if n > POOL_USERS:
        users = np.sort(np.random.default_rng([seed, STREAMS["pool"]]).choice(n, POOL_USERS, replace=False))
    activity = np.diff(system.prep.adjacency.indptr)[users] + 1.0
    return Group("pool", system, system.prep.world.rule, users, activity / activity.sum())


def _campus_group(system: p.System, seed: int) -> Group:
    """The network with a university's students added: departments and halls of residence are their
    schools and companies, one city, the youngest age band; each may befriend the next student in a
    shuffled list of their department, so each arrives with at most two friends."""
    prep, rule = system.prep, system.prep.world.rule
    first, rng = prep.n_users, np.random.default_rng([seed, STREAMS["wave"]])
    students = max(int(WAVE_SHARE * first), 2)
    department, hall = rng.integers(DEPARTMENTS, size=students), rng.integers(HALLS, size=students)
    attributes = np.vstack(
        [
            prep.attributes,
            np.column_stack(
                [
                    prep.attributes[:, 0].max() + 1 + department,
                    prep.attributes[:, 1].max() + 1 + hall,
                    np.full(students, rng.integers(CITIES)),
                    np.zeros(students, int),
                ]
            ),
        ]
    )
    order = np.lexsort((rng.random(students), department))
    pairs = np.column_stack([order[:-1], order[1:]])
    same = department[pairs[:, 0]] == department[pairs[:, 1]]
    friendships = pairs[same & (rng.random(pairs.shape[0]) < CLASSMATE_CHANCE)] + first
    live, snapshot = (_with_students(g, first, students, friendships) for g in (prep.live, prep.snapshot))
    everyone = first + students
    campus = dataclasses.replace(
        prep,
        n_users=everyone,
        live=live,
        snapshot=snapshot,
        adjacency=nx.to_scipy_sparse_array(live, nodelist=range(everyone), format="csr").astype(np.float32),
        attributes=attributes,
        community=np.concatenate([prep.community, prep.community.max() + 1 + department]),
        labels=np.arange(everyone),
    )
    wide = dataclasses.replace(
        system,
        prep=campus,
        live=cg.with_newcomers(system.live, live, attributes, seed),
        snapshot=cg.with_newcomers(system.snapshot, snapshot, attributes, seed),
        user_index={user: user for user in range(everyone)},
    )
    is_hub = np.concatenate([rule.is_hub, np.zeros(students, bool)])
    rule = FormationRule(attributes, is_hub, rule.triadic, rule.homophily)
    users = np.arange(first, everyone)
    return Group("wave", wide, rule, users, np.full(students, 1 / students))


def _with_students(graph: nx.Graph, first: int, students: int, friendships: np.ndarray) -> nx.Graph:
    grown = graph.copy()
    grown.add_nodes_from(range(first, first + students))
    grown.add_edges_from(friendships.tolist())
    return grown


def _pool(group: Group, config: dict[str, Any], seed: int, learned: bool) -> Pooled:
    """Every user's candidates, as the endpoint generates them, and for a learned ranker their
    feature tables (the networkx heuristics: the slow part, done once per network)."""
    predictor = PymkPredictor(group.system, config, seed)
    candidates = predictor.pools(group.users)
    if not learned:
        return Pooled(candidates, None)
    view, attributes = predictor.view, group.system.prep.attributes
    with one_thread():
        tables = [
            ranking.features(view, u, c, attributes)
            for u, c in zip(group.users.tolist(), candidates, strict=True)
        ]
    return Pooled(candidates, tables)


def _answer(group: Group, pooled: Pooled, model: Served, config: dict[str, Any], seed: int) -> Rows:
    """Each user's row from `model`, through the endpoint's ranking and post-processing, and what the
    monitors read of it."""
    predictor = PymkPredictor(dataclasses.replace(group.system, model=model.model), config, seed)
    users, candidates = group.users, pooled.candidates
    if model.model is None:
        scores = predictor.scores(users, candidates)
    else:
        with one_thread():
            scores = p.learned_scores(model.model, config, pooled.tables)
    answers = [
        predictor.row(u, u, SLATE, c, s) for u, c, s in zip(users.tolist(), candidates, scores, strict=True)
    ]
    slates = [np.array([s["user_id"] for s in a["suggestions"]], int) for a in answers]
    shown = [
        _pool_rows(c, slate, a["fallback"]) for c, slate, a in zip(candidates, slates, answers, strict=True)
    ]
    top = [a["suggestions"][0] if a["suggestions"] else None for a in answers]
    sources = [
        cg.SOURCE_NAMES[c.source[rows[0]]] if rows.size else "popular"
        for c, rows in zip(candidates, shown, strict=True)
    ]
    friends = np.diff(group.system.prep.adjacency.indptr)[users]
    features = pd.DataFrame(
        {
            "friends": np.log1p(friends),
            "candidates": [c.ids.size for c in candidates],
            "top_mutual": [t["mutual_friends"] if t else 0 for t in top],
            "top_source": sources,
        }
    )
    score = np.array([t["score"] if t else 0.0 for t in top])
    return Rows(slates, features, score, shown)


def _pool_rows(candidates: cg.Candidates, slate: np.ndarray, fallback: str | None) -> np.ndarray:
    """Where each shown suggestion sits in the candidate pool; none for a fallback row, which the
    ranker did not choose."""
    if fallback is not None:
        return np.zeros(0, int)
    position = dict(zip(candidates.ids.tolist(), range(candidates.ids.size), strict=True))
    return np.array([position[v] for v in slate.tolist()], int)
