"""A release on the registry: pick a champion and a challenger, mirror traffic to the challenger
(shadow), run a canary on the study's world, and move `champion` when the canary promotes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import numpy as np

from engine.declare import Release
from engine.measure import quantile_band
from engine.memo import Memo
from engine.release import canary, stats
from engine.release.pool import Pool
from engine.serving.registry import CHALLENGER, CHAMPION, ModelVersion, Registry, RegistryError
from engine.study import Study, get_study

POOL_REQUESTS = 3000  # live requests each model answers once; a canary draws from them
SHADOW_REQUESTS = 200  # mirrored requests, each timed alone on both models
WARMUP = 20
CURVE = (-0.3, -0.2, -0.15, -0.1, -0.05, 0.0, 0.05)  # true effects (relative, + is better)
POWER = 0.8

_predictors = Memo(max_entries=8)
_pools = Memo(max_entries=16)
_shadows = Memo(max_entries=16)


@dataclass(frozen=True)
class Pair:
    study: Study
    champion: ModelVersion
    challenger: ModelVersion

    @property
    def release(self) -> Release:
        return self.study.release


def pick(registry: Registry, study_id: str, champion=None, challenger=None) -> Pair:
    """The versions to compare: by number or alias; by default the champion, and the `challenger`
    alias or else the newest other version."""
    study = get_study(study_id)
    if study.serving is None or study.release is None:
        raise RegistryError(f"the {study.id} study declares no online metric to release on")
    first = registry.resolve(study.id, champion)
    if challenger is None:
        named = registry.aliases(study.id).get(CHALLENGER)
        others = [v.version for v in registry.versions(study.id) if v.version != first.version]
        if named is None or named == first.version:
            named = others[-1] if others else None
        if named is None:
            raise RegistryError("register a second version to release as the challenger")
        challenger = named
    second = registry.resolve(study.id, challenger)
    if second.version == first.version:
        raise RegistryError(f"champion and challenger are both version {first.version}: pick two versions")
    for version in (first, second):
        if "upload" in version.data:
            raise RegistryError(
                f"version {version.version} was trained on an upload: a canary needs the simulated "
                "world, whose ground truth scores both models"
            )
    if _world_identity(first) != _world_identity(second):
        raise RegistryError(
            f"versions {first.version} and {second.version} were trained on different worlds "
            f"({_world(first)} vs {_world(second)}): a canary compares two models on one live world"
        )
    return Pair(study, first, second)


def _world_identity(version: ModelVersion) -> tuple:
    return json.dumps(version.data.get("world"), sort_keys=True), version.data.get("seed")


def _world(version: ModelVersion) -> str:
    world = version.data.get("world", {})
    return ", ".join(f"{k}={v}" for k, v in world.items()) + f", seed={version.data.get('seed')}"


def predictor(registry: Registry, version: ModelVersion):
    return _predictors.get((version.study, version.version, version.sha256), lambda: registry.load(version))


def pools(registry: Registry, pair: Pair, n: int = POOL_REQUESTS, seed: int = 0) -> tuple[Pool, Pool]:
    """Both models' outcomes on the same `n` live requests, in the champion's world."""
    key = (pair.study.id, pair.champion.sha256, pair.challenger.sha256, n, seed)

    def compute():
        models = [predictor(registry, v) for v in (pair.champion, pair.challenger)]
        champion = pair.champion
        return tuple(pair.study.implementation().pools(champion.config, champion.seed, models, n, seed))

    return _pools.get(key, compute)


@dataclass(frozen=True)
class Shadow:
    """The challenger on mirrored traffic: users get the champion's answers only."""

    requests: int
    latency_ms: dict[str, np.ndarray]  # per arm, each request timed alone
    agreement: dict[str, float]
    champion_metric: float  # the online metric each would earn on the mirrored requests' pool
    challenger_metric: float

    def quantile(self, arm: str, q: float) -> tuple[float, float]:
        """The arm's latency quantile and its 95 % half-width."""
        return quantile_band(self.latency_ms[arm], q)

    def overhead(self, q: float = 0.5) -> tuple[float, float]:
        """Challenger minus champion at quantile `q`, and the two bands added: within it, "≈"."""
        (a, a_band), (b, b_band) = self.quantile(CHALLENGER, q), self.quantile(CHAMPION, q)
        return a - b, a_band + b_band


def shadow(registry: Registry, pair: Pair, n: int = SHADOW_REQUESTS, seed: int = 0) -> Shadow:
    key = (pair.study.id, pair.champion.sha256, pair.challenger.sha256, n, seed)
    return _shadows.get(key, lambda: _shadow(registry, pair, n, seed))


def _shadow(registry: Registry, pair: Pair, n: int, seed: int) -> Shadow:
    models = {CHAMPION: predictor(registry, pair.champion), CHALLENGER: predictor(registry, pair.challenger)}
    bodies = models[CHAMPION].traffic(n + WARMUP, seed)
    answers: dict[str, list] = {CHAMPION: [], CHALLENGER: []}
    latency: dict[str, list[float]] = {CHAMPION: [], CHALLENGER: []}
    for i, body in enumerate(bodies):
        order = (CHAMPION, CHALLENGER) if i % 2 else (CHALLENGER, CHAMPION)  # neither always goes first
        for arm in order:
            start = time.perf_counter()
            answer = models[arm].predict([models[arm].parse(body)])[0]
            elapsed = (time.perf_counter() - start) * 1000
            if i >= WARMUP:
                latency[arm].append(elapsed)
                answers[arm].append(answer)
    champion_pool, challenger_pool = pools(registry, pair)
    return Shadow(
        requests=n,
        latency_ms={arm: np.array(values) for arm, values in latency.items()},
        agreement=pair.study.implementation().agreement(answers[CHAMPION], answers[CHALLENGER]),
        champion_metric=champion_pool.mean,
        challenger_metric=challenger_pool.mean,
    )


@dataclass(frozen=True)
class Injection:
    """Faults injected into the challenger, to watch the latency and error guardrails act."""

    extra_ms: float = 0.0
    error_rate: float = 0.0


def arms(registry: Registry, pair: Pair, injection: Injection = Injection()) -> tuple[canary.Arm, canary.Arm]:
    champion_pool, challenger_pool = pools(registry, pair)
    measured = shadow(registry, pair)
    return (
        canary.Arm(champion_pool, measured.latency_ms[CHAMPION]),
        canary.Arm(
            challenger_pool, measured.latency_ms[CHALLENGER], injection.extra_ms, injection.error_rate
        ),
    )


def run_canary(
    registry: Registry,
    pair: Pair,
    schedule: canary.Schedule,
    seed: int = 0,
    injection: Injection = Injection(),
    apply: bool = True,
) -> canary.Rollout:
    """One canary. With `apply`, the registry records it: the challenger alias during the rollout,
    then `champion` moves to the challenger if it is promoted."""
    champion, challenger = arms(registry, pair, injection)
    if apply:
        registry.set_alias(pair.study.id, CHALLENGER, pair.challenger.version)
    rollout = canary.run(champion, challenger, schedule, pair.release.higher_is_better, 1, seed)
    if apply and rollout.outcome[0] == canary.PROMOTED:
        registry.promote(pair.study.id, pair.challenger.version)
    return rollout


@dataclass
class Statistics:
    """What a schedule decides, over seeded repeats; rates are (share, low, high) with 95 % Wilson
    intervals."""

    repeats: int
    actual: dict[str, tuple[float, float, float]]  # the real pair: promoted / rolled_back / paused
    false_rollback: dict[str, tuple[float, float, float]]  # equal models, per rule
    worse_by: float
    miss_rate: tuple[float, float, float]  # promoted although worse by `worse_by`
    curve: list[tuple[float, float, float, float]]  # (true effect, P(promote), low, high)
    sample_sizes: list[dict[str, float]] = field(default_factory=list)
    detectable: float = 0.0  # relative drop the whole rollout catches with 80 % power


def statistics(
    registry: Registry,
    pair: Pair,
    schedule: canary.Schedule,
    repeats: int = 200,
    worse_by: float = 0.1,
    seed: int = 0,
    progress: canary.Progress | None = None,
) -> Statistics:
    champion, challenger = arms(registry, pair)
    higher = pair.release.higher_is_better
    jobs = [("actual", champion, challenger, schedule)]
    jobs += [(rule, champion, champion, _with_rule(schedule, rule)) for rule in canary.RULES]
    jobs += [("worse", champion, _shifted(champion, -worse_by, higher), schedule)]
    jobs += [(effect, champion, _shifted(champion, effect, higher), schedule) for effect in CURVE]
    results = {}
    for index, (name, base, new, plan) in enumerate(jobs):
        if progress:
            progress(index / len(jobs), f"Canary batch {index + 1} of {len(jobs)}: {repeats} seeded rollouts")
        results[name] = canary.run(base, new, plan, higher, repeats, seed + 1 + index)
    if progress:
        progress(1.0, "Done")
    outcomes = (canary.PROMOTED, canary.ROLLED_BACK, canary.PAUSED)
    return Statistics(
        repeats=repeats,
        actual={o: results["actual"].rate(o) for o in outcomes},
        false_rollback={rule: results[rule].rate(canary.ROLLED_BACK) for rule in canary.RULES},
        worse_by=worse_by,
        miss_rate=results["worse"].rate(canary.PROMOTED),
        curve=[(effect, *results[effect].rate(canary.PROMOTED)) for effect in CURVE],
        sample_sizes=sample_sizes(champion.pool, schedule, worse_by),
        detectable=_detectable(champion.pool, schedule),
    )


def _with_rule(schedule: canary.Schedule, rule: str) -> canary.Schedule:
    return replace(schedule, rule=rule)


def _shifted(arm: canary.Arm, effect: float, higher_is_better: bool) -> canary.Arm:
    """The champion's requests with a true relative effect: + is better, whichever way that is."""
    factor = 1 + effect if higher_is_better else 1 - effect
    return canary.Arm(arm.pool.scaled(factor), arm.latency_ms)


def sample_sizes(pool: Pool, schedule: canary.Schedule, worse_by: float) -> list[dict[str, float]]:
    """Per analysed step: the challenger requests it gets, the requests per arm a one-sided test at
    the schedule's alpha and 80 % power needs to see a drop of `worse_by`, and the minutes that takes."""
    drop = worse_by * pool.mean
    needed = stats.sample_size_per_arm(drop, pool.sd, pool.sd, schedule.alpha, POWER, sides=1)
    rows = []
    for weight in schedule.analysed:
        per_minute = schedule.rpm * weight / 100
        rows.append(
            {
                "traffic": weight,
                "challenger_requests": per_minute * schedule.step_minutes,
                "needed_per_arm": needed,
                "minutes_needed": needed / per_minute,
            }
        )
    return rows


def _detectable(pool: Pool, schedule: canary.Schedule) -> float:
    _, challenger, champion = schedule.arm_sizes()
    drop = stats.detectable_effect(champion.sum(), challenger.sum(), pool.sd, schedule.alpha, POWER)
    return drop / pool.mean if pool.mean else float("nan")
