"""Releasing a challenger: the canary's statistics (sample size, sequential vs peeking), its
guardrails, its decisions on each study's world, and the registry after it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import cli
from engine.release import canary, lab, stats
from engine.release.pool import Pool
from engine.serving.registry import CHAMPION, Registry, RegistryError

DEFAULT = canary.Schedule()


def _arm(pool: Pool, **faults) -> canary.Arm:
    return canary.Arm(pool, np.full(100, 2.0), **faults)


def test_sums_of_a_mostly_zero_pool_drawn_sparsely_match_drawing_every_request():
    # Fraud's outcomes are 99 % zeros; only the non-zero draws are drawn. Both ways must give the same
    # distribution of an arm's sum and sum of squares (mean and spread), not merely the same mean.
    values = np.zeros(3000)
    values[:30] = np.random.default_rng(1).lognormal(4, 1, 30)  # 1 % of payments lose money
    pool, rng, n, size = Pool.of_values(values), np.random.default_rng(2), 2000, 4000
    sparse, sparse_squares = pool.sums(rng, size, n)
    dense = values[rng.integers(values.size, size=(size, n))]
    for fast, slow in ((sparse, dense.sum(axis=1)), (sparse_squares, (dense**2).sum(axis=1))):
        assert abs(fast.mean() - slow.mean()) < 0.05 * slow.mean()
        assert abs(fast.std() - slow.std()) < 0.06 * slow.std()
    assert pool.sums(rng, 5, n)[0].shape == (5,)
    assert not Pool.of_values(np.zeros(10)).sums(rng, 3, n)[0].any()


def test_the_p99_of_a_step_is_sampled_as_the_order_statistic_of_its_requests():
    latency = np.random.default_rng(3).gamma(2.0, 1.5, 500)
    rng = np.random.default_rng(4)
    sampled = canary.sample_p99(latency, 400, 4000, rng)
    drawn = np.quantile(rng.choice(latency, (4000, 400)), 0.99, axis=1)
    assert abs(np.median(sampled) - np.median(drawn)) < 0.05 * np.median(drawn)
    assert abs(sampled.std() - drawn.std()) < 0.2 * drawn.std()


@pytest.fixture(scope="module")
def clicks() -> Pool:
    return Pool.of_clicks(np.random.default_rng(0).beta(1, 15, (3000, 10)))  # CTR about 6 %


def test_the_sample_size_of_the_textbook_example():
    """5.0 % → 5.5 % CTR, alpha 0.05 two-sided, power 0.8: about 31,000 per arm (31,233 exactly)."""
    n = stats.sample_size_per_arm(0.005, np.sqrt(0.05 * 0.95), np.sqrt(0.055 * 0.945), 0.05, 0.8)
    assert abs(n - 31_233) < 10
    halved = stats.sample_size_per_arm(0.01, np.sqrt(0.05 * 0.95), np.sqrt(0.06 * 0.94), 0.05, 0.8)
    assert 0.2 < halved / n < 0.3  # twice the effect needs about a quarter of the traffic


def test_sequential_boundaries_spend_alpha_and_peeking_inflates_it(clicks):
    equal = {
        rule: canary.run(
            _arm(clicks), _arm(clicks), canary.Schedule(rule=rule), True, repeats=1000, seed=3
        ).rate(canary.ROLLED_BACK)
        for rule in canary.RULES
    }
    assert 0.03 <= equal["sequential"][0] <= 0.08  # near alpha = 0.05
    assert equal["peeking"][0] >= 0.15  # 30 looks at a fixed alpha: several times alpha
    assert equal["peeking"][1] > equal["sequential"][2]  # the intervals do not overlap


@pytest.mark.parametrize("factor, outcome", [(0.7, canary.ROLLED_BACK), (1.1, canary.PROMOTED)])
def test_a_clearly_worse_challenger_rolls_back_and_a_better_one_is_promoted(clicks, factor, outcome):
    rollout = canary.run(_arm(clicks), _arm(clicks.scaled(factor)), DEFAULT, True, repeats=100, seed=4)
    assert rollout.rate(outcome)[0] >= 0.9


def test_lower_is_better_metrics_roll_back_when_cost_rises():
    cost = Pool.of_values(np.random.default_rng(1).exponential(1.0, 5000))
    worse = canary.run(_arm(cost), _arm(cost.scaled(1.3)), DEFAULT, False, repeats=100, seed=5)
    better = canary.run(_arm(cost), _arm(cost.scaled(0.8)), DEFAULT, False, repeats=100, seed=5)
    assert worse.rate(canary.ROLLED_BACK)[0] >= 0.9
    assert better.rate(canary.PROMOTED)[0] >= 0.9


def test_guardrails_roll_back_on_errors_and_latency_and_pause_without_data(clicks):
    errors = canary.run(_arm(clicks), _arm(clicks, error_rate=0.05), DEFAULT, True, seed=6)
    assert (errors.outcome[0], errors.reason[0]) == (canary.ROLLED_BACK, "errors")
    assert errors.steps()[-1]["decision"] == "roll back" and errors.ended_step[0] == 0
    slow = canary.run(_arm(clicks), _arm(clicks, extra_ms=600), DEFAULT, True, seed=6)
    assert (slow.outcome[0], slow.reason[0]) == (canary.ROLLED_BACK, "latency")
    quiet = canary.run(_arm(clicks), _arm(clicks), canary.Schedule(rpm=10), True, seed=6)
    assert (quiet.outcome[0], quiet.steps()[-1]["decision"]) == (canary.PAUSED, "pause")


def test_a_promoted_canary_shows_every_step_ending_in_promote(clicks):
    rollout = canary.run(_arm(clicks), _arm(clicks.scaled(1.2)), DEFAULT, True, seed=7)
    steps = rollout.steps()
    assert [s["traffic"] for s in steps] == list(DEFAULT.steps)
    assert [s["decision"] for s in steps] == ["continue"] * 3 + ["promote"]
    assert steps[0]["n"] == 500 and steps[2]["n"] == 500 + 2500 + 5000  # 1,000 rpm, 10-minute steps
    low, high = steps[2]["ci"]
    assert low < steps[2]["metric_delta"] < high and steps[2]["relative_delta"] == pytest.approx(0.2, abs=0.1)


@pytest.mark.parametrize(
    "kwargs",
    [{"steps": (5, 50)}, {"steps": (50, 5, 100)}, {"rpm": 0}, {"interval_minutes": 20}, {"alpha": 0.7}],
)
def test_a_bad_schedule_is_refused_with_a_message(kwargs):
    with pytest.raises(ValueError, match="."):
        canary.Schedule(**kwargs)


# -- on the studies' worlds, through the registry --------------------------------------------------


@pytest.fixture(scope="module")
def registry():
    import os

    return Registry.from_url(os.environ["MLSD_LAB_DB"])


@pytest.fixture(scope="module")
def recommenders(registry):
    good = registry.register("recommendation", {}, seed=0)
    popular = registry.register("recommendation", {"candidate_model": "popularity", "ranker": "none"}, seed=0)
    return good, popular


def test_shadow_measures_agreement_and_latency_of_both_models(registry, recommenders):
    good, popular = recommenders
    shadow = lab.shadow(registry, lab.pick(registry, "recommendation", good.version, popular.version))
    assert shadow.requests == lab.SHADOW_REQUESTS
    assert 0 < shadow.agreement["top-10 overlap"] < 0.8  # different models, some shared hits
    assert all(arr.size == lab.SHADOW_REQUESTS and (arr > 0).all() for arr in shadow.latency_ms.values())
    assert shadow.challenger_metric < shadow.champion_metric  # popularity misses the users' tastes


def test_a_worse_real_challenger_rolls_back_and_the_champion_stays(registry, recommenders):
    good, popular = recommenders
    registry.promote("recommendation", good.version)
    pair = lab.pick(registry, "recommendation", None, popular.version)
    rollout = lab.run_canary(registry, pair, DEFAULT)
    assert rollout.outcome[0] == canary.ROLLED_BACK and rollout.reason[0] == "metric"
    assert registry.aliases("recommendation")[CHAMPION] == good.version


def test_a_better_real_challenger_is_promoted_and_the_champion_moves(registry, recommenders):
    good, popular = recommenders
    registry.promote("recommendation", popular.version)
    rollout = lab.run_canary(registry, lab.pick(registry, "recommendation", None, good.version), DEFAULT)
    assert rollout.outcome[0] == canary.PROMOTED
    assert registry.aliases("recommendation")[CHAMPION] == good.version
    last = registry.history("recommendation")[-1]
    assert (last.action, last.from_version, last.to_version) == ("promote", popular.version, good.version)


def test_statistics_over_repeats_give_the_operating_curve(registry, recommenders):
    good, popular = recommenders
    seen = []
    result = lab.statistics(
        registry,
        lab.pick(registry, "recommendation", good.version, popular.version),
        DEFAULT,
        repeats=100,
        progress=lambda share, text: seen.append(share),
    )
    assert result.actual[canary.ROLLED_BACK][0] >= 0.9
    assert result.false_rollback["peeking"][0] > result.false_rollback["sequential"][0]
    promote = [rate for _, rate, _, _ in result.curve]
    assert promote[0] <= 0.1 and promote[-1] >= 0.9  # -30 % always caught, +5 % always passes
    assert all(a <= b + 0.05 for a, b in zip(promote, promote[1:], strict=False))  # rises with the effect
    assert seen[-1] == 1.0 and len(seen) > 5
    assert result.sample_sizes[0]["minutes_needed"] > result.sample_sizes[-1]["minutes_needed"]


def test_versions_from_different_worlds_are_refused(registry, recommenders):
    good, _ = recommenders
    other = registry.register("recommendation", {"noise": 0.3}, seed=0)
    with pytest.raises(RegistryError, match="different worlds"):
        lab.pick(registry, "recommendation", good.version, other.version)
    with pytest.raises(RegistryError, match="pick two"):
        lab.pick(registry, "recommendation", good.version, good.version)


def test_the_canary_command_prints_steps_outcome_and_rates(registry, recommenders, capsys):
    good, popular = recommenders
    argv = ["canary", "recommendation", "--champion", str(good.version), "--challenger", str(popular.version)]
    assert cli.main([*argv, "--repeats", "50", "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "rolled_back"
    assert set(out["steps"][0]) >= {"traffic", "n", "metric_delta", "ci", "decision"}
    assert out["rates"]["false_rollback"]["sequential"][0] < out["rates"]["false_rollback"]["peeking"][0]
    assert cli.main([*argv, "--steps", "5,oops"]) == 2
    assert "--steps" in capsys.readouterr().err
