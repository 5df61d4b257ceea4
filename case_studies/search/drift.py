"""The search study's serving period: four weeks of shoppers' queries answered by the registered
design and clicked through a position-biased click model, with a drift scenario from a chosen day.

Query traffic is Zipf over the catalogue's queries, as the endpoint's traffic is (`serving.py`). A
scenario moves the query mix from the drift day on: toward a product line the model in service never
indexed, or toward a few seasonal categories. Every distinct query is answered once per (live
catalogue, model) and memoised, so a day of 1,000 requests only samples queries and clicks: four weeks cost
milliseconds, and only building a model (cold) or retraining one takes real time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from case_studies.search import pipeline as p
from case_studies.search.serving import ZIPF
from case_studies.search.spec import NEW_LINE_TRAFFIC, SEASONAL_TRAFFIC
from case_studies.search.text import tokenize
from case_studies.search.upload import Collection
from case_studies.search.world import CATEGORIES, NEW_LINE, Catalogue, add_product_line
from engine.memo import Memo
from engine.monitoring.period import DAYS, ClickPeriod, Feature, Period, Window
from engine.threads import one_thread

SEASONAL = ("jacket", "coffee_maker", "kettle")  # winter's categories
RAMP_DAYS = 2  # a scenario reaches its full share on the day after the drift day
NEW_LINE_QUERY_STREAM = 2  # random stream of the new line's query frequencies
# Position bias: a shopper examines rank r with probability 1 / log2(r + 1), the DCG discount.
EXAMINE = 1 / np.log2(np.arange(2, p.SHOWN + 2))
UNKNOWN = "unknown"

FEATURES = (
    Feature("query_words", "numeric", "Words in the query"),
    Feature("unknown_share", "numeric", "Share of query words the index has never seen"),
    Feature("top_bm25", "numeric", "Top BM25 score"),
    Feature("lexical_matches", "numeric", "Products matching a query word"),
    Feature("category", "categorical", "Category, as query understanding reads it"),
)

_worlds = Memo(max_entries=4)
_answers = Memo(max_entries=8)


@dataclass(frozen=True)
class LiveWorld:
    """The catalogue shoppers meet in one scenario and the query mixes before and after the drift."""

    catalogue: Catalogue
    before: np.ndarray  # query frequencies in the training period
    after: np.ndarray  # the scenario's query frequencies at full strength
    shift: float  # the share of traffic that moves from `before` to `after`
    max_grade: int


@dataclass(frozen=True)
class Served:
    """A model in service: the search system, whether it indexed the new line, and a memo key."""

    system: p.System
    knows_new_line: bool
    key: tuple


@dataclass(frozen=True)
class Answers:
    """What a model makes of each distinct query of a live world (a row per query)."""

    features: pd.DataFrame
    score: np.ndarray
    click: np.ndarray  # (queries, SHOWN): click probability per rank, 0 past the results shown
    shown: np.ndarray


def build_period(
    config: dict[str, Any], seed: int, data, scenario: str, drift_day: int = 14, days: int = DAYS
) -> Period:
    return SearchPeriod(config, seed, scenario, drift_day, days)


class SearchPeriod(ClickPeriod):
    study = "search"
    features = FEATURES

    def __init__(self, config: dict[str, Any], seed: int, scenario: str, drift_day: int, days: int):
        super().__init__(config, seed, scenario, drift_day, days)
        self._initial, self._initial_ms = self._build(None, knows_new_line=False)
        base = self._initial.system.prep.catalogue
        self.world = _worlds.get((config["scale"], seed, scenario), lambda: _live_world(base, seed, scenario))
        # Answers depend on the catalogue shoppers meet, not on the mix they are drawn in.
        self._catalogue_key = (config["scale"], seed, scenario == "new_product_line")
        self._mix = [self._day_mix(day, drift_day) for day in range(days)]

    def initial_model(self) -> Served:
        return self._initial

    def reference(self, model: Served, n: int, rng: np.random.Generator) -> Window:
        return self._window(self.world.before, model, n, rng)

    def serve(self, day: int, model: Served, n: int, rng: np.random.Generator) -> Window:
        return self._window(self._mix[day], model, n, rng)

    def retrain(self, day: int) -> tuple[Served, float]:
        """Rebuilt on the catalogue known on `day`: the new line once its launch day is labelled.
        The re-ranker learns from judgments, not from the query mix, so a seasonal retrain changes
        nothing. The time is the build's index and training time, as measured when the pipeline
        built it (it memoises builds, so asking twice does not build twice)."""
        launched = self.drift_day is not None and day - self.label_delay_days >= self.drift_day
        if self.scenario != "new_product_line" or not launched:
            return self._initial, self._initial_ms
        token = f"world-{self.config['scale']}-{self.seed}+{'+'.join(NEW_LINE)}"
        known = Collection(self.world.catalogue, token, "the catalogue with its new product line")
        return self._build(known, knows_new_line=True)

    def predictor(self, model: Served):
        from case_studies.search.serving import SearchPredictor

        return SearchPredictor(model.system, self.seed)

    def _day_mix(self, day: int, drift_day: int) -> np.ndarray:
        strength = float(np.clip((day - drift_day + 1) / RAMP_DAYS, 0, 1)) * self.world.shift
        return (1 - strength) * self.world.before + strength * self.world.after

    def _build(self, data, knows_new_line: bool) -> tuple[Served, float]:
        """The pipeline's system for `data` (memoised there), and its measured index and training time."""
        system, build = p.assemble(self.config, self.seed, data)
        key = (tuple(sorted(self.config.items())), self.seed, knows_new_line)
        return Served(system, knows_new_line, key), build["index_ms"] + build["ranker_ms"]

    def _window(self, mix: np.ndarray, model: Served, n: int, rng: np.random.Generator) -> Window:
        answers = _answers.get((self._catalogue_key, model.key), lambda: _answer_all(self.world, model))
        drawn = rng.choice(mix.size, n, p=mix)
        clicks = (rng.random((n, p.SHOWN)) < answers.click[drawn]).sum(axis=1)
        return Window(
            features=answers.features.iloc[drawn].reset_index(drop=True),
            score=answers.score[drawn],
            outcome=clicks / np.maximum(answers.shown[drawn], 1),  # a page with no results: no clicks
        )


def _live_world(base: Catalogue, seed: int, scenario: str) -> LiveWorld:
    before = _zipf(len(base.queries), np.random.default_rng(seed))  # the endpoint's traffic
    if scenario == "new_product_line":
        catalogue = add_product_line(base, seed)
        added = len(catalogue.queries) - len(base.queries)
        after = np.concatenate(
            [np.zeros(before.size), _zipf(added, np.random.default_rng([seed, NEW_LINE_QUERY_STREAM]))]
        )
        before, shift = np.concatenate([before, np.zeros(added)]), NEW_LINE_TRAFFIC
    elif scenario == "seasonal_shift":
        catalogue, shift = base, SEASONAL_TRAFFIC
        after = np.where(np.isin(_query_categories(base), _category_ids(SEASONAL)), before, 0.0)
        after /= after.sum()
    else:
        catalogue, after, shift = base, before, 0.0
    max_grade = top_grade(catalogue)
    return LiveWorld(catalogue, before, after, shift, max_grade)


def _zipf(n: int, rng: np.random.Generator) -> np.ndarray:
    """Query frequencies falling as rank^-ZIPF, the ranks shuffled over the queries."""
    frequency = (rng.permutation(n) + 1.0) ** -ZIPF
    return frequency / frequency.sum()


def _query_categories(catalogue: Catalogue) -> np.ndarray:
    """Each query's true category: that of the products judged for it (-1 where none are)."""
    return np.array([catalogue.doc_category[next(iter(j))] if j else -1 for j in catalogue.qrels])


def _category_ids(keys) -> list[int]:
    return [list(CATEGORIES).index(key) for key in keys]


def _answer_all(world: LiveWorld, model: Served) -> Answers:
    lexicon = _lexicon(model.knows_new_line)
    queries, judged = world.catalogue.queries, world.catalogue.qrels
    with one_thread():  # one thread per query, as the endpoint serves them
        features, scores, pages = zip(
            *(_answer(model.system, text, lexicon) for text in queries), strict=True
        )
    click = [click_probabilities(page, j, world.max_grade) for page, j in zip(pages, judged, strict=True)]
    return Answers(
        features=pd.DataFrame(list(features), columns=[f.name for f in FEATURES]),
        score=np.array(scores),
        click=np.array(click),
        shown=np.array([page.size for page in pages]),
    )


def _answer(system: p.System, text: str, lexicon) -> tuple[tuple, float, np.ndarray]:
    """One query through the system: the monitored features, the top result's score, the page."""
    typed = tokenize(text)
    answer = system.search(text)
    tokens = answer["tokens"]
    bm25 = system.bm25_scores(tokens) if tokens else np.zeros(0)
    unknown = sum(t not in system.prep.understanding.vocabulary for t in typed) / max(len(typed), 1)
    features = (
        len(typed),
        unknown,
        float(bm25.max(initial=0.0)),
        int((bm25 > 0).sum()),
        _category(tokens, lexicon),
    )
    return features, _top_score(system, tokens, answer), answer["shown"]


def _top_score(system: p.System, tokens: list[str], answer: dict[str, Any]) -> float:
    """The final ranking score of the top result: the re-ranker's predicted grade, or without one the
    query's dense similarity to it (the fused score is rescaled per query, so its top is always ~1)."""
    docs, first = answer["candidates"], answer["first_stage"]
    if docs.size == 0:
        return 0.0
    if system.ranker is None:
        return float(system.dense.vectors[answer["shown"][0]] @ system.query_vector(tokens))
    depth = min(system.config["rerank_depth"], docs.size)
    return float(system.ranker.predict(system.features(tokens, docs[:depth], first[:depth])).max())


def _lexicon(knows_new_line: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Category → the names query understanding recognises it by (canonical name and synonyms)."""
    table = {**CATEGORIES, **(NEW_LINE if knows_new_line else {})}
    return tuple(
        (key, tuple(f" {' '.join(tokenize(name))} " for name in (canonical, *synonyms)))
        for key, (canonical, synonyms, _) in table.items()
    )


def _category(tokens: list[str], lexicon) -> str:
    text = f" {' '.join(tokens)} "
    return next((key for key, names in lexicon if any(name in text for name in names)), UNKNOWN)


def top_grade(catalogue: Catalogue) -> int:
    return max(max(judged.values()) for judged in catalogue.qrels if judged)


def click_probabilities(shown: np.ndarray, judged: dict[int, int], max_grade: int) -> np.ndarray:
    """Independent clicks under position bias (the examination hypothesis): rank r is clicked with
    probability examine(r) · attract(grade), attract = (2^grade − 1) / 2^max_grade."""
    grades = np.array([judged.get(int(d), 0) for d in shown], float)
    click = np.zeros(p.SHOWN)
    click[: shown.size] = EXAMINE[: shown.size] * (2**grades - 1) / 2**max_grade
    return click
