"""One measurement discipline for every study's request path.

`time_requests` serves requests one at a time, as a service answers them, and reports what a
candidate could defend: the median and the 99th percentile per request with their noise bands, and
each stage's median share. The protocol is the same for every study:

1. warm-up: the first WARMUP requests are served untimed, so timed requests meet warm caches;
2. timed: then up to MAX_TIMED requests, each timed alone, in a seeded order, on one thread (a
   service's worker answers one request on one thread; libraries' thread pools would otherwise
   fight the other core's work), stopping early after BUDGET_S once MIN_TIMED are in
   (`serve_and_time` times every request instead, for a study that scores what it serves);
3. bands: p50 and p99 with their distribution-free 95 % intervals (order statistics), floored by the
   share by which the same design's latency moves between runs in one process (`run_to_run`,
   declared by each study from `python bench/production.py --only-noise`);
4. cost: the median CPU time of the serving thread per request, which other processes' load does not
   stretch as it stretches wall-clock time (a cost from wall time read $15/mo on a quiet machine
   and $40/mo on a busy one).

Per-request figures, never a batch's time divided by its size: a vectorised pass over 400 users
amortises a model's per-call overhead and read as 0.3 ms a request where one request takes 3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from engine.measure import noise_band, quantile_band
from engine.threads import one_thread

R = TypeVar("R")
A = TypeVar("A")

WARMUP = 10
MIN_TIMED = 40
MAX_TIMED = 200
BUDGET_S = 0.4  # past this, stop once MIN_TIMED requests are timed: a slow design's run stays short


class StageClock:
    """Collects milliseconds per stage; `per` turns a batch's time into time per item (offline jobs:
    the time per user of a batch job)."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, per: int = 1) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000 / max(per, 1)


def timed(compute: Callable[[], R]) -> tuple[R, float]:
    """`compute()` and its wall-clock milliseconds (an offline job: training, building an index)."""
    start = time.perf_counter()
    value = compute()
    return value, (time.perf_counter() - start) * 1000


@dataclass(frozen=True)
class Latency:
    """Time per request of a study's request path, measured by `time_requests`."""

    p50_ms: float
    p99_ms: float
    p50_band: float  # half-width of p50's noise band, in ms
    p99_band: float
    cpu_ms: float  # median CPU time of the serving thread per request: what a core is paid for
    cpu_band: float
    stage_ms: dict[str, float]  # each stage's median time per request
    requests: int  # how many were timed

    def metrics(self) -> dict[str, float]:
        """The two latency metrics every study reports, under one name scheme."""
        return {"latency_p50_ms": self.p50_ms, "latency_p99_ms": self.p99_ms}

    def noise(self) -> dict[str, float]:
        return {"latency_p50_ms": self.p50_band, "latency_p99_ms": self.p99_band}


def time_requests(
    serve: Callable[[R, StageClock], object],
    requests: Sequence[R],
    run_to_run: float,
    seed: int = 0,
    stages: Sequence[str] = (),
) -> Latency:
    """Time a seeded sample of `requests`, each served alone through `serve(request, clock)`, which
    times its stages on the clock; see the module's protocol. `stages` lists stages that may take no
    time on some requests, so each request counts them as 0."""
    return _measure(serve, requests, run_to_run, seed, stages, every=False)[1]


def serve_and_time(
    serve: Callable[[R, StageClock], A],
    requests: Sequence[R],
    run_to_run: float,
    seed: int = 0,
    stages: Sequence[str] = (),
) -> tuple[list[A], Latency]:
    """Serve every request alone and time each (a study whose evaluation is serving its test set:
    search's test queries); the answers come back in request order."""
    return _measure(serve, requests, run_to_run, seed, stages, every=True)


def _measure(serve, requests, run_to_run: float, seed: int, stages, every: bool):
    if not requests:
        raise ValueError("timing needs at least one request")
    order = np.random.default_rng(seed).permutation(len(requests))
    answers: list = [None] * len(requests)
    totals: list[float] = []
    cpu: list[float] = []
    per_stage: list[dict[str, float]] = []
    with one_thread():
        for index in order[:WARMUP].tolist():
            answers[index] = serve(requests[index], StageClock())
        timed_order = order if every else order[WARMUP:][:MAX_TIMED] if len(order) > WARMUP else order
        began = time.perf_counter()
        for index in timed_order.tolist():
            clock = StageClock()
            start, start_cpu = time.perf_counter(), time.thread_time()
            answers[index] = serve(requests[index], clock)
            totals.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            per_stage.append(clock.ms)
            if not every and len(totals) >= MIN_TIMED and time.perf_counter() - began > BUDGET_S:
                break
    samples = np.array(totals)
    (p50, p50_spread), (p99, p99_spread) = quantile_band(samples, 0.5), quantile_band(samples, 0.99)
    cpu_ms, cpu_spread = quantile_band(np.array(cpu), 0.5)
    names = list(dict.fromkeys([*stages, *(name for ms in per_stage for name in ms)]))
    stage_ms = {name: float(np.median([ms.get(name, 0.0) for ms in per_stage])) for name in names}
    latency = Latency(
        p50_ms=p50,
        p99_ms=p99,
        p50_band=noise_band(p50, p50_spread, run_to_run),
        p99_band=noise_band(p99, p99_spread, run_to_run),
        cpu_ms=cpu_ms,
        cpu_band=noise_band(cpu_ms, cpu_spread, run_to_run),
        stage_ms=stage_ms,
        requests=samples.size,
    )
    return answers, latency
