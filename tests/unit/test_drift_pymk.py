"""The PYMK serving period: no drift stays quiet; a campus wave of new students moves the features
and the score from its first day and raises an alert then, not before; meeting online costs
acceptance the monitors cannot see until the labels arrive, and a retrain on them wins some back;
seeded and fast once warm (every study's period refusing uploads: test_monitoring.py)."""

import time

import numpy as np
import pytest

import engine
from case_studies.pymk import drift
from engine.monitoring.simulate import simulate
from engine.monitoring.stats import psi_categorical
from tests.unit.drift_windows import DRIFT_DAY, mean_metric, score_psi, windows_of

SCENARIOS = engine.get_study("pymk").drift.scenarios

CONFIG = engine.get_study("pymk").defaults()


@pytest.fixture(scope="module")
def periods():
    return {s.name: drift.build_period(CONFIG, 0, None, s.name, DRIFT_DAY) for s in SCENARIOS}


@pytest.fixture(scope="module")
def served(periods):
    return {name: windows_of(period, period.initial_model()) for name, period in periods.items()}


def test_no_drift_keeps_the_score_and_acceptance_steady(periods, served):
    reference, windows = served["none"]
    assert score_psi(reference, windows).max() < 0.1  # measured at most 0.04 at seeds 0-2
    assert simulate(periods["none"], preset="psi").first_alert is None


def test_a_campus_wave_moves_the_score_from_the_day_the_students_join(served):
    reference, windows = served["campus_wave"]
    shift = score_psi(reference, windows)
    assert shift[:DRIFT_DAY].max() < 0.1
    assert shift[DRIFT_DAY:].min() > 0.25  # measured 0.37-0.60 at seeds 0-2
    assert next(s for s in SCENARIOS if s.name == "campus_wave").strong
    after = windows[DRIFT_DAY + 3].features
    assert after["friends"].mean() < reference.features["friends"].mean() - 0.4  # students: 0-2 friends
    attributes = [(w.features["top_source"] == "attributes").mean() for w in (reference, windows[-1])]
    assert attributes[1] > attributes[0] + 0.05  # rows from classmates, not friends of friends
    assert psi_categorical(reference.features["top_source"], windows[-1].features["top_source"]) > 0.1


def test_the_campus_wave_raises_an_alert_on_its_first_day_and_not_before(periods):
    report = simulate(periods["campus_wave"], preset="psi")
    assert report.first_alert == DRIFT_DAY
    assert not report.alerts[:DRIFT_DAY].any() and report.alerts[DRIFT_DAY:].all()


def test_meeting_online_costs_acceptance_that_only_the_labels_show(periods, served):
    period, (reference, windows) = periods["online_meeting"], served["online_meeting"]
    assert score_psi(reference, windows).max() < 0.1  # the rows are the same
    before, after = mean_metric(period, windows[:DRIFT_DAY]), mean_metric(period, windows[DRIFT_DAY:])
    assert after < 0.85 * before  # measured 0.76-0.78 → 0.59-0.62 at seeds 0-2
    report = simulate(period, preset="psi", policy="on_alert")
    assert report.first_alert is None and not report.retrains  # nothing for an alert to retrain on
    assert report.first_measured_drop == DRIFT_DAY + period.label_delay_days
    assert not next(s for s in SCENARIOS if s.name == "online_meeting").strong


def test_a_retrain_on_the_new_acceptances_wins_some_back(periods):
    period = periods["online_meeting"]
    retrained, train_ms = period.retrain(DRIFT_DAY + 7)  # learns from days 14-20, all after the change
    assert retrained is not period.initial_model() and train_ms > 0
    _, registered_windows = windows_of(period, period.initial_model(), rng_seed=5)
    _, retrained_windows = windows_of(period, retrained, rng_seed=5)
    gain = mean_metric(period, retrained_windows[-6:]) - mean_metric(period, registered_windows[-6:])
    assert gain > 0.01  # measured 0.019-0.027 at seeds 0-2
    answers = period.predictor(retrained).predict([period.predictor(retrained).parse({"user_id": 42})])
    assert answers[0]["fallback"] is None and len(answers[0]["suggestions"]) == 10


def test_a_heuristic_ranker_has_nothing_to_retrain():
    period = drift.build_period({**CONFIG, "ranker": "adamic_adar"}, 0, None, "online_meeting", DRIFT_DAY)
    assert period.retrain(DRIFT_DAY + 7) == (period.initial_model(), 0.0)


def test_a_period_is_seeded_and_fast_once_warm(served):
    reference, windows = served["campus_wave"]
    start = time.perf_counter()
    again = drift.build_period(CONFIG, 0, None, "campus_wave", DRIFT_DAY)
    again_reference, again_windows = windows_of(again, again.initial_model())
    assert time.perf_counter() - start <= 2.0  # measured about 0.2 s
    assert np.array_equal(again_reference.score, reference.score)
    assert np.array_equal(again_windows[-1].outcome, windows[-1].outcome)
    assert again_windows[-1].features.equals(windows[-1].features)
