"""The search study's serving period: no drift stays quiet, a new product line costs clicks until a
retrain indexes it (while the score barely moves), a seasonal shift moves the features; fast and
seeded. Refusing uploads and bad days is tested for every study in test_monitoring."""

import time

import numpy as np
import pytest

import engine
from case_studies.search import drift
from case_studies.search.pipeline import assemble
from case_studies.search.world import add_product_line, generate_catalogue
from engine.monitoring.stats import psi_categorical
from tests.unit.drift_windows import DRIFT_DAY, mean_metric, score_psi, windows_of

SCENARIOS = engine.get_study("search").drift.scenarios

CONFIG = engine.get_study("search").defaults()


def served(scenario, model=None, rng_seed=0):
    """The period, the reference window and every day's window, all drawn from one seeded rng."""
    period = drift.build_period(CONFIG, 0, None, scenario, DRIFT_DAY)
    return period, *windows_of(period, model or period.initial_model(), rng_seed)


@pytest.fixture(scope="module")
def new_line():
    return served("new_product_line")


def test_no_drift_keeps_the_score_stable_every_day():
    _, reference, windows = served("none")
    assert score_psi(reference, windows).max() < 0.1  # measured at most 0.03


def test_new_product_line_moves_the_score_only_moderately_from_the_day_after_the_launch(new_line):
    """The re-ranker is confidently wrong on the new line's queries: its score is not the monitor
    that catches this launch (the features and the clicks are)."""
    _, reference, windows = new_line
    shift = score_psi(reference, windows)
    assert shift[:DRIFT_DAY].max() < 0.1  # measured at most 0.04
    after = shift[DRIFT_DAY + 1 :]
    assert after.min() > 0.05 and after.max() < 0.25  # measured 0.09-0.17
    assert not next(s for s in SCENARIOS if s.name == "new_product_line").strong


def test_new_product_line_queries_use_words_the_index_never_saw(new_line):
    _, reference, windows = new_line
    before = reference.features["unknown_share"].mean()
    after = np.mean([w.features["unknown_share"].mean() for w in windows[DRIFT_DAY + 1 :]])
    assert after > before + 0.15  # measured 0.15 → 0.33
    unknown = [(w.features["category"] == drift.UNKNOWN).mean() for w in (reference, windows[-1])]
    assert unknown[1] > unknown[0] + 0.2


def test_new_product_line_costs_clicks_and_a_retrain_wins_them_back(new_line):
    period, _, windows = new_line
    before = mean_metric(period, windows[:DRIFT_DAY])
    after = mean_metric(period, windows[DRIFT_DAY + 1 :])
    assert after < 0.8 * before  # measured 20.3 % → 14.1 %, 0.70 of it
    model, train_ms = period.retrain(DRIFT_DAY + 3)
    assert model is not period.initial_model() and train_ms > 0
    _, _, retrained = served("new_product_line", model, rng_seed=1)
    recovered = mean_metric(period, retrained[DRIFT_DAY + 4 :])
    assert recovered - after >= 0.5 * (before - after)  # measured 22.0 %: all of it, and more


def test_a_retrain_before_the_launch_is_labelled_keeps_the_model(new_line):
    period, _, _ = new_line
    assert period.retrain(DRIFT_DAY)[0] is period.initial_model()


def test_seasonal_shift_moves_the_category_mix_without_a_strong_score_shift():
    period, reference, windows = served("seasonal_shift")
    categories = [psi_categorical(reference.features["category"], w.features["category"]) for w in windows]
    assert max(categories[:DRIFT_DAY]) < 0.1
    assert min(categories[DRIFT_DAY + 1 :]) > 0.25  # measured about 1
    assert not next(s for s in SCENARIOS if s.name == "seasonal_shift").strong


def test_a_period_is_seeded_and_fast_once_warm(new_line):
    period, reference, windows = new_line
    start = time.perf_counter()
    again, again_reference, again_windows = served("new_product_line")
    elapsed = time.perf_counter() - start
    assert elapsed <= 1.5  # measured about 15 ms
    assert np.array_equal(again_reference.score, reference.score)
    assert np.array_equal(again_windows[-1].outcome, windows[-1].outcome)
    assert again_windows[-1].features.equals(windows[-1].features)


def test_the_product_line_is_appended_and_the_base_catalogue_untouched():
    base = generate_catalogue(0.5, 3)
    extended = add_product_line(base, 3)
    assert extended.texts[: len(base)] == base.texts and len(extended) > len(base)
    assert extended.queries[: len(base.queries)] == base.queries
    vocabulary = assemble(CONFIG, 0, None)[0].prep.understanding.vocabulary
    assert {"drone", "quadcopter", "uav"}.isdisjoint(vocabulary)
