"""The fraud study's calibration, the direction and size of every advertised knob effect, and
determinism."""

import statistics

import pytest

import engine
from case_studies.fraud.models import Calibrator, Costs, tune_policy
from case_studies.fraud.world import generate_world

STUDY = engine.get_study("fraud")


def metrics(seed=0, **config):
    return engine.run(STUDY, config, seed=seed).metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fraud_rate_matches_the_handbook(seed):
    world = generate_world(scale=0.2, drift="none", drift_test_day=0, seed=seed)
    assert 0.006 <= world.fraud.mean() <= 0.0095
    assert {1, 2, 3} <= set(world.scenario[world.fraud].tolist())  # all three scenarios occur


def test_logistic_regression_lands_in_the_handbook_band():
    """The Handbook scores every payment of one test week: under its protocol logistic regression
    lands near its published AUC 0.87 and AP 0.62 (the mean of three seeds: one week holds ~60
    frauds). The lab's own headline scores only the payments the model decides, after the $220 rule,
    which is harder: AP 0.56 against 0.61 on every payment at seed 0."""
    runs = [metrics(seed, protocol="handbook") for seed in (0, 1, 2)]
    assert 0.85 <= statistics.mean(r["auc"] for r in runs) <= 0.93
    assert 0.55 <= statistics.mean(r["average_precision"] for r in runs) <= 0.72
    for r in (metrics(seed) for seed in (0, 1, 2)):  # far above a random score (its AP: the fraud rate)
        assert r["average_precision"] > 50 * r["fraud_rate"]


def test_under_the_handbooks_protocol_card_precision_lands_in_its_band():
    """At the Handbook's full size, its protocol (a 7-day test week; cards found before the train
    window forgotten) gives its card precision@100, 0.291 for logistic regression; the lab's 28 days,
    which remember every card ever found, leave fewer to find."""
    lab = metrics(scale=1.0)
    handbook = metrics(scale=1.0, protocol="handbook")
    assert 0.25 <= handbook["card_precision@100"] <= 0.35  # measured 0.301 (seed 1: 0.276)
    assert 0.86 <= handbook["auc"] <= 0.90 and 0.58 <= handbook["average_precision"] <= 0.72
    assert lab["card_precision@100"] < handbook["card_precision@100"] - 0.1  # measured 0.113


def test_the_handbooks_protocol_scores_one_week():
    week = engine.run(STUDY, {"protocol": "handbook"}, seed=0)
    assert len(week.artifacts["daily"]["alerts"]) == 7
    assert week.metrics["test_frauds"] < metrics()["test_frauds"]


def test_longer_label_delay_lowers_average_precision():
    ap = [metrics(label_delay=d)["average_precision"] for d in (1, 7, 14, 28)]
    assert ap == sorted(ap, reverse=True)
    assert ap[0] - ap[-1] > 0.4  # compromised terminals outlive a 28-day delay: the features go blind


def test_the_thresholds_are_far_below_half_and_steady_across_seeds():
    """Tuned on two labelled weeks of calibrated probabilities, the review threshold no longer
    swings with the seed (one week of raw scores gave 0.055 to 0.39 at the same cost)."""
    thresholds = [metrics(seed)["threshold"] for seed in (0, 1, 2)]
    assert all(t < 0.2 for t in thresholds) and max(thresholds) - min(thresholds) < 0.05


def test_class_weights_keep_a_review_tier_within_capacity():
    """Reweighted scores once pushed the cost threshold above the fixed 0.9 block score: no alerts at
    all (`--set imbalance=class_weight --seed 1`). Calibrated, with a block threshold tuned by cost,
    the analysts get alerts again, within their capacity."""
    result = metrics(1, imbalance="class_weight")
    assert 0 < result["alerts_per_day"] <= STUDY.defaults()["review_capacity"]
    assert result["threshold"] < result["block_threshold"]


def test_calibration_maps_inflated_scores_back_to_the_fraud_rate():
    import numpy as np

    rng = np.random.default_rng(0)
    fraud = rng.random(20_000) < 0.01
    inflated = np.clip(np.where(fraud, rng.beta(5, 2, 20_000), rng.beta(2, 4, 20_000)), 0, 1)  # mean ~0.33
    calibrated = Calibrator(inflated, fraud)(inflated)
    assert inflated.mean() > 0.3 and abs(calibrated.mean() - fraud.mean()) < 0.002


def test_the_policy_minimises_cost_within_the_teams_capacity():
    import numpy as np

    p = np.array([0.95, 0.6, 0.5, 0.4, 0.3, 0.02] * 2)
    fraud = np.array([True, True, False, True, False, False] * 2)
    amount = np.full(p.size, 100.0)
    day = np.repeat([0, 1], 6)
    roomy = tune_policy(p, fraud, amount, day, Costs(review=5, decline=500, capacity=10))
    assert 0.3 < roomy[0] <= 0.4 and roomy[1] > 0.95  # review down to the last fraud, decline nothing
    tight = tune_policy(p, fraud, amount, day, Costs(review=5, decline=10, capacity=1))
    assert tight[1] <= 0.6  # one review a day: the surest are declined, cheaper than missing them


def test_drift_hurts_a_static_model_and_retraining_recovers():
    config = {"model": "random_forest", "drift": "card_testing", "drift_day": 0}
    calm = metrics(model="random_forest", drift_day=0)["ap_after_drift"]
    static = metrics(**config, retraining="never")["ap_after_drift"]
    weekly = metrics(**config, retraining="weekly")["ap_after_drift"]
    assert calm - static > 0.2
    assert weekly - static > 0.1
    assert (
        metrics(**config, retraining="weekly")["train_s"] > metrics(**config, retraining="never")["train_s"]
    )


def test_terminal_risk_features_carry_the_model():
    assert metrics()["average_precision"] - metrics(terminal_windows=False)["average_precision"] > 0.2


def test_class_weights_barely_move_auc_and_do_not_raise_average_precision():
    plain, weighted = metrics(), metrics(imbalance="class_weight")
    assert abs(plain["auc"] - weighted["auc"]) < 0.03
    assert weighted["average_precision"] < plain["average_precision"]


def test_a_small_team_gets_fewer_alerts_and_lets_fraud_through():
    """The policy is tuned with the team's capacity built in: a team of 2 gets a stricter review
    threshold (alerts it can read), not the same alerts left unread, and stops less fraud."""
    cheap_alarms = {"false_alarm_cost": 1}
    small, large = metrics(**cheap_alarms, review_capacity=2), metrics(**cheap_alarms, review_capacity=100)
    assert small["threshold"] > large["threshold"] and small["alerts_per_day"] < large["alerts_per_day"]
    assert small["unreviewed_per_day"] < 2  # a day busier than the tuning weeks can still overflow
    assert small["fraud_stopped"] < large["fraud_stopped"]
    assert small["fraud_loss_per_day"] > large["fraud_loss_per_day"]


def test_a_forest_costs_more_to_serve_than_logistic_regression():
    forest = engine.run(STUDY, {"model": "random_forest"}, seed=0).stage_ms()
    linear = engine.run(STUDY, {}, seed=0).stage_ms()
    assert forest["Model_Serving"] > 2 * linear["Model_Serving"]
    assert forest["Retraining"] > 2 * linear["Retraining"]


def test_same_seed_same_metrics_and_another_seed_differs():
    deterministic = [m.key for m in STUDY.metrics if m.deterministic]
    first = engine.run(STUDY, {"model": "gradient_boosting", "label_delay": 3}, seed=5)
    engine.run(STUDY, {}, seed=6)  # interleave another world in the memo
    again = engine.run(STUDY, {"model": "gradient_boosting", "label_delay": 3}, seed=5)
    assert {k: first.metrics[k] for k in deterministic} == {k: again.metrics[k] for k in deterministic}
    assert (
        first.metrics["average_precision"]
        != metrics(6, model="gradient_boosting", label_delay=3)["average_precision"]
    )


def test_runs_carry_ranges_and_daily_series_for_the_charts():
    result = engine.run(STUDY, {"retraining": "weekly"}, seed=0)
    low, high = result.uncertainty.intervals["average_precision"]
    assert low < result.metrics["average_precision"] < high
    assert len(result.artifacts["daily"]["ap_7d"]) == len(result.artifacts["daily"]["alerts"]) == 28
    assert result.artifacts["retrain_days"] == [7, 14, 21]
    for panel in STUDY.panels:
        assert panel.build(result, None)["series"]
