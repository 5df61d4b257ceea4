"""A canary release simulated on a study's world: traffic steps, an analysis every interval, and
the guardrails that continue, pause or roll back.

The router sends each step's share of requests per minute to the challenger and the rest to the
champion. Every analysis interval (Flagger's default: one minute) the analysis checks, on the
challenger's requests of that interval, the success rate and p99 latency against Flagger's default
thresholds, and tests the study's online metric on everything collected so far. A rollout is rolled
back when the metric is significantly worse (one-sided, at alpha: either a fixed-horizon test at every
look, "peeking", or O'Brien-Fleming boundaries) or when `failure_limit` checks failed; a step in
which no test was possible (too few requests) pauses it, as Argo Rollouts does when an analysis is
inconclusive; past the last step the challenger is promoted.

Every run is vectorised over seeded repeats: one canary is the repeats=1 case of the statistics."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from engine.release import stats
from engine.release.pool import Pool

MIN_REQUESTS = 30  # per arm, before a metric test is attempted (Kayenta calls less NODATA)
RULES = ("sequential", "peeking")
PROMOTED, ROLLED_BACK, PAUSED = "promoted", "rolled_back", "paused"


@dataclass(frozen=True)
class Schedule:
    steps: tuple[float, ...] = (5, 25, 50, 100)  # % of traffic to the challenger, as Argo's setWeight
    rpm: int = 1000  # requests per minute, both arms together
    step_minutes: float = 10.0
    interval_minutes: float = 1.0  # Flagger's analysis.interval
    alpha: float = 0.05  # one-sided, for the metric guardrail
    rule: str = "sequential"
    min_success: float = 0.99  # Flagger's request-success-rate threshold
    max_p99_ms: float = 500.0  # Flagger's request-duration threshold
    failure_limit: int = 5  # failed checks before rollback (Flagger's analysis.threshold)

    def __post_init__(self):
        steps = self.steps
        if not steps or any(not 0 < w <= 100 for w in steps) or list(steps) != sorted(set(steps)):
            raise ValueError("steps must be increasing traffic shares between 0 and 100 %, e.g. 5,25,50,100")
        if steps[-1] != 100:
            raise ValueError("the last step must be 100 %: that is the promotion")
        if len(steps) < 2:
            raise ValueError("a canary needs at least one step below 100 % to analyse")
        if self.rpm < 1:
            raise ValueError("requests per minute must be at least 1")
        if not 0 < self.interval_minutes <= self.step_minutes:
            raise ValueError("the analysis interval must be positive and no longer than a step")
        if not 0 < self.alpha < 0.5:
            raise ValueError("alpha must be between 0 and 0.5")
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}")

    @property
    def analysed(self) -> tuple[float, ...]:
        return self.steps[:-1]

    @property
    def looks_per_step(self) -> int:
        return int(self.step_minutes // self.interval_minutes)

    def arm_sizes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per look: the step's weight, and the challenger's and champion's new requests."""
        per_look = self.rpm * self.interval_minutes
        weights = np.repeat(np.asarray(self.analysed, float), self.looks_per_step)
        challenger = np.round(per_look * weights / 100).astype(int)
        return weights, challenger, np.round(per_look).astype(int) - challenger

    def bounds(self) -> np.ndarray:
        """The z boundary at each look: rollback when the metric's z falls below minus it."""
        _, challenger, champion = self.arm_sizes()
        if self.rule == "peeking":
            return stats.fixed_bounds(challenger.size, self.alpha)
        n_c, n_b = np.maximum(np.cumsum(challenger), 1), np.maximum(np.cumsum(champion), 1)
        information = 1 / (1 / n_c + 1 / n_b)
        return stats.sequential_bounds(tuple(information / information[-1]), self.alpha)


@dataclass(frozen=True)
class Arm:
    """What one model brings to the rollout: its outcomes in the world and its measured latencies."""

    pool: Pool
    latency_ms: np.ndarray  # measured per-request latencies, drawn from
    extra_ms: float = 0.0  # injected: added to every request
    error_rate: float = 0.0  # injected: share of requests that fail


@dataclass
class Rollout:
    """`repeats` seeded canaries of one pair. Per look arrays have shape (repeats, looks)."""

    schedule: Schedule
    outcome: np.ndarray  # per repeat: promoted / rolled_back / paused
    reason: np.ndarray  # per repeat: "metric", "errors", "latency", "no data" or ""
    ended_step: np.ndarray  # per repeat: index into schedule.steps where it ended
    delta: np.ndarray  # challenger minus champion, signed so that positive is better
    se: np.ndarray
    bound: np.ndarray  # per look
    p99_ms: np.ndarray
    success: np.ndarray
    n_challenger: np.ndarray  # cumulative, per look
    n_champion: np.ndarray
    champion_mean: float
    challenger_mean: float
    higher_is_better: bool
    looked: np.ndarray = field(repr=False)  # (repeats, looks): the look happened before the end

    def rate(self, outcome: str) -> tuple[float, float, float]:
        """Share of repeats ending in `outcome`, with its 95 % Wilson interval."""
        k, n = int((self.outcome == outcome).sum()), self.outcome.size
        ci = sps.binomtest(k, n).proportion_ci(method="wilson")
        return k / n, float(ci.low), float(ci.high)

    def steps(self, repeat: int = 0) -> list[dict]:
        """One canary's steps as the CLI and the timeline show them."""
        per_step = self.schedule.looks_per_step
        rows = []
        for index, weight in enumerate(self.schedule.steps):
            if index > self.ended_step[repeat]:
                break
            final = index == len(self.schedule.steps) - 1
            look = min((index + 1) * per_step, self.looked.shape[1]) - 1
            ended_here = index == self.ended_step[repeat]
            decision = "continue"
            if final:
                decision = "promote"
            elif ended_here:
                decision = {ROLLED_BACK: "roll back", PAUSED: "pause"}[self.outcome[repeat]]
            if ended_here and not final:
                look = int(np.flatnonzero(self.looked[repeat])[-1])
            delta, se = float(self.delta[repeat, look]), float(self.se[repeat, look])
            rows.append(
                {
                    "traffic": weight,
                    "n": int(self.n_challenger[look]) if not final else None,
                    "n_champion": int(self.n_champion[look]) if not final else None,
                    "metric_delta": None if final or se != se else delta,
                    "relative_delta": None if final or se != se else delta / self.champion_mean,
                    "ci": None if final or se != se else [delta - 1.96 * se, delta + 1.96 * se],
                    "decision": decision,
                    "reason": self.reason[repeat] if ended_here and not final else "",
                }
            )
        return rows


def run(
    champion: Arm,
    challenger: Arm,
    schedule: Schedule,
    higher_is_better: bool,
    repeats: int = 1,
    seed: int = 0,
) -> Rollout:
    rng = np.random.default_rng(seed)
    weights, new_c, new_b = schedule.arm_sizes()
    looks = weights.size
    bound = schedule.bounds()
    sign = 1.0 if higher_is_better else -1.0
    sums = np.zeros((2, repeats))
    squares = np.zeros((2, repeats))
    delta, se = np.full((repeats, looks), np.nan), np.full((repeats, looks), np.nan)
    p99, success = np.zeros((repeats, looks)), np.ones((repeats, looks))
    failed_checks = np.zeros(repeats, int)
    ended = np.full(repeats, -1)  # the look a repeat ended at, -1 while running
    reason = np.full(repeats, "", dtype=object)
    tested_in_step = np.zeros(repeats, bool)
    n_c, n_b = np.cumsum(new_c), np.cumsum(new_b)
    for look in range(looks):
        running = ended < 0
        active = np.flatnonzero(running)  # a rollout that has ended sends no more requests
        for arm_index, (arm, n) in enumerate(((challenger, new_c[look]), (champion, new_b[look]))):
            if n and active.size:
                total, total_squares = arm.pool.sums(rng, active.size, int(n))
                sums[arm_index, active] += total
                squares[arm_index, active] += total_squares
        if new_c[look]:
            sent = int(new_c[look])
            p99[:, look] = challenger.extra_ms + sample_p99(challenger.latency_ms, sent, repeats, rng)
            success[:, look] = (
                1 - rng.binomial(int(new_c[look]), challenger.error_rate, repeats) / new_c[look]
            )
        slow, failing = p99[:, look] > schedule.max_p99_ms, success[:, look] < schedule.min_success
        failed_checks += running & (slow | failing)
        delta[:, look], variance = _difference(sums, squares, n_c[look], n_b[look])
        delta[:, look] *= sign
        testable = (min(n_c[look], n_b[look]) >= MIN_REQUESTS) & (variance > 0)
        se[:, look] = np.where(
            testable, np.sqrt(variance * (1 / max(n_c[look], 1) + 1 / max(n_b[look], 1))), np.nan
        )
        tested_in_step |= testable
        worse = testable & (delta[:, look] < -bound[look] * se[:, look])
        stop_checks = running & (failed_checks >= schedule.failure_limit)
        reason[stop_checks] = np.where(failing[stop_checks], "errors", "latency")
        reason[running & worse & ~stop_checks] = "metric"
        ended[running & (worse | stop_checks)] = look
        if (look + 1) % schedule.looks_per_step == 0:  # the step's last look
            nodata = (ended < 0) & ~tested_in_step
            reason[nodata] = "no data"
            ended[nodata] = look
            tested_in_step[:] = False
    outcome = np.where(ended < 0, PROMOTED, np.where(reason == "no data", PAUSED, ROLLED_BACK))
    ended_step = np.where(ended < 0, len(schedule.steps) - 1, ended // schedule.looks_per_step)
    looked = np.arange(looks)[None, :] <= np.where(ended < 0, looks, ended)[:, None]
    return Rollout(
        schedule=schedule,
        outcome=outcome,
        reason=reason,
        ended_step=ended_step,
        delta=delta,
        se=se,
        bound=bound,
        p99_ms=p99,
        success=success,
        n_challenger=n_c,
        n_champion=n_b,
        champion_mean=champion.pool.mean,
        challenger_mean=challenger.pool.mean,
        higher_is_better=higher_is_better,
        looked=looked,
    )


def sample_p99(latency_ms: np.ndarray, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The p99 of `n` requests drawn from the measured latencies, `size` times over, without drawing
    the requests: the k-th smallest of n draws (k = ⌈0.99 n⌉) is the latencies' quantile at the k-th
    smallest of n uniforms, which is Beta(k, n + 1 − k). Exact for the k-th order statistic; it was
    a fifth of 200 seeded canaries' time to sort the draws instead."""
    ordered = np.sort(latency_ms)
    k = max(1, math.ceil(0.99 * n))
    at = rng.beta(k, n + 1 - k, size) * ordered.size
    return ordered[np.minimum(at.astype(int), ordered.size - 1)]


def _difference(sums, squares, n_challenger: int, n_champion: int) -> tuple[np.ndarray, np.ndarray]:
    """Challenger mean minus champion mean, and the pooled variance of one request's outcome.

    Pooled, as in the two-proportion z-test: under "no difference" both arms share one variance, and
    the small arm's own estimate (which falls with its mean on click data) would make low means look
    significant and inflate false rollbacks."""
    means = sums / np.maximum([[n_challenger], [n_champion]], 1)
    total = max(n_challenger + n_champion, 2)
    grand = sums.sum(axis=0) / total
    variance = np.maximum(squares.sum(axis=0) / total - grand**2, 0.0) * total / (total - 1)
    return means[0] - means[1], variance


Progress = Callable[[float, str], None]
