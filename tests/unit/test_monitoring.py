"""Drift monitors: the statistics' known behaviour (the window-size lesson), the presets, every
study's period refusing what it cannot simulate, and the fraud serving period: alert first, measured
AP drop a label delay later, recovery on retraining."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from engine import cli
from engine.monitoring import monitors, stats
from engine.monitoring.simulate import simulate
from engine.serving.registry import Registry
from engine.study import get_study


def test_at_ten_thousand_rows_a_tenth_sigma_shift_fails_ks_and_passes_psi():
    rng = np.random.default_rng(0)
    reference, current = rng.normal(size=10_000), rng.normal(0.1, 1, 10_000)
    assert stats.ks_pvalue(reference, current) < 0.05  # "drift"
    assert stats.psi(reference, current) < 0.1  # "no significant shift"


def test_small_windows_raise_psi_false_alarms_on_pure_noise():
    rng = np.random.default_rng(1)
    alarms = {
        n: np.mean([stats.psi(rng.normal(size=n), rng.normal(size=n)) > 0.1 for _ in range(200)])
        for n in (100, 1000)
    }
    assert alarms[100] > 0.6 and alarms[1000] < 0.05  # domains.md §4.4: 0.84 and 0.00


def test_categorical_statistics_see_a_shifted_mix_and_not_noise():
    rng = np.random.default_rng(2)
    reference = rng.choice(5, 2000, p=[0.2] * 5)
    same = rng.choice(5, 2000, p=[0.2] * 5)
    shifted = rng.choice(6, 2000, p=[0.1, 0.1, 0.2, 0.2, 0.2, 0.2])  # a new category appears
    assert stats.chi2_pvalue(reference, same) > 0.01 and stats.chi2_pvalue(reference, shifted) < 1e-6
    assert stats.jensen_shannon(reference, same) < 0.05 < 0.1 < stats.jensen_shannon(reference, shifted)
    assert stats.psi_categorical(reference, shifted) > 0.25


def test_evidently_switches_from_tests_to_distances_above_a_thousand_reference_rows():
    rng = np.random.default_rng(3)
    small = monitors.judge(rng.normal(size=500), rng.normal(size=500), "numeric", "evidently", 500)
    large = monitors.judge(rng.normal(size=5000), rng.normal(size=5000), "numeric", "evidently", 5000)
    assert (small.method, large.method) == ("KS p", "Wasserstein/σ")
    assert not small.drifted and not large.drifted


# -- the fraud serving period ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fraud_periods():
    from case_studies.fraud import drift

    config = {k.id: k.default for k in get_study("fraud").knobs}
    return {s: drift.build_period(config, 0, None, s, 14) for s in ("none", "card_testing")}


def test_without_drift_no_fraud_monitor_alerts(fraud_periods):
    for preset in monitors.PRESETS:
        report = simulate(fraud_periods["none"], preset=preset)
        assert report.psi["score"].max() < 0.1
        assert not report.alerts.any(), preset


def test_the_alert_precedes_the_measured_ap_drop_by_the_label_delay(fraud_periods):
    period = fraud_periods["card_testing"]
    report = simulate(period, preset="psi")
    assert report.first_alert in (14, 15)  # the amount's PSI: card testing is a wave of tiny payments
    assert report.psi["amount"][15:].min() > 0.25
    assert report.first_measured_drop - report.first_alert == pytest.approx(period.label_delay_days, abs=2)
    assert report.metric[16:].mean() < 0.5 * report.metric[:14].mean()


def test_retraining_on_alert_recovers_ap_and_a_weekly_schedule_is_too_early(fraud_periods):
    period = fraud_periods["card_testing"]
    never = simulate(period, preset="psi", policy="never")
    on_alert = simulate(period, preset="psi", policy="on_alert")
    weekly = simulate(period, preset="psi", policy="scheduled")
    assert [r.day for r in on_alert.retrains] == [14 + period.label_delay_days + 1]
    assert on_alert.metric[-3:].mean() > never.metric[-3:].mean() + 0.2
    # A retrain on day 21 sees labels up to day 14: too early to learn the new pattern.
    assert abs(weekly.metric[-3:].mean() - never.metric[-3:].mean()) < 0.1
    assert on_alert.retrain_seconds > 0


def test_the_drift_command_registers_each_retrain_as_a_servable_version(capsys):
    registry = Registry.from_url(os.environ["MLSD_LAB_DB"])
    champion = registry.register("fraud", {}, seed=0)
    registry.promote("fraud", champion.version)
    argv = ["drift", "fraud", "--scenario", "card_testing", "--preset", "psi", "--policy", "on_alert"]
    assert cli.main([*argv, "--register", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["first_alert"] == out["alerts"][0] and len(out["days"]) == 28
    assert set(out["days"][20]["psi"]) >= {"amount", "score"} and "score" in out["days"][20]["p_value"]
    (number,) = out["registered"]
    retrained = registry.get("fraud", number)
    assert retrained.data["retrain"]["retrained_from"] == champion.version
    body = registry.load(retrained).traffic(3, seed=0)
    answers = registry.load(retrained).predict([registry.load(retrained).parse(b) for b in body])
    assert all(a["decision"] in ("approve", "review", "block") for a in answers)
    assert cli.main(["drift", "fraud", "--scenario", "tornado"]) == 2
    assert "tornado" in capsys.readouterr().err


def test_psi_sees_a_value_that_holds_most_of_the_reference_move():
    """A feature that is mostly zero (a count, a share) moving off zero, or mostly at its maximum
    moving down: folded into decile bins, either read PSI 0."""
    rng = np.random.default_rng(0)
    mostly_zero = np.where(rng.random(5000) < 0.96, 0.0, rng.random(5000))
    fewer_zeros = np.where(rng.random(5000) < 0.69, 0.0, rng.random(5000))
    assert stats.psi(mostly_zero, fewer_zeros) > 0.25
    capped = np.where(rng.random(5000) < 0.9, 1.0, rng.random(5000))
    less_capped = np.where(rng.random(5000) < 0.6, 1.0, rng.random(5000))
    assert stats.psi(capped, less_capped) > 0.25
    assert stats.psi(mostly_zero, np.where(rng.random(5000) < 0.96, 0.0, rng.random(5000))) < 0.1
