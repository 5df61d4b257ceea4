"""Batch inference with the same artifact as the endpoint, and a replay of live traffic against it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.serving.predictor import Predictor

CHUNK = 512  # rows per vectorised call: bounded memory, same answers


@dataclass(frozen=True)
class BatchRun:
    rows: int
    seconds: float
    output_bytes: int
    table: dict[Any, dict]  # batch key -> precomputed answer

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict[str, float]:
        return {
            "rows": self.rows,
            "seconds": self.seconds,
            "rows_per_s": self.rows_per_s,
            "output_mb": self.output_bytes / 1e6,
        }


def run_batch(predictor: Predictor, progress: Callable[[float], None] | None = None) -> BatchRun:
    """Score the whole batch population in chunks; `progress(share done)` after each chunk."""
    requests = predictor.batch_requests()
    began = time.perf_counter()
    answers = []
    for start in range(0, len(requests), CHUNK):
        answers.extend(predictor.predict(requests[start : start + CHUNK]))
        if progress is not None:
            progress(min(start + CHUNK, len(requests)) / len(requests))
    seconds = time.perf_counter() - began
    table = {predictor.batch_key(r): a for r, a in zip(requests, answers, strict=True)}
    table.pop(None, None)
    output = sum(len(json.dumps(a)) for a in answers)
    return BatchRun(len(requests), seconds, output, table)


def online_ms(predictor: Predictor, bodies: list[dict], repeats: int = 5) -> tuple[float, float]:
    """In-process time per single request (parse + predict), warm: median over `repeats` passes and
    half the range between passes as the noise band."""
    parsed = [predictor.parse(b) for b in bodies]
    for request in parsed[:10]:
        predictor.predict([request])
    passes = []
    for _ in range(repeats):
        began = time.perf_counter()
        for body in bodies:
            predictor.predict([predictor.parse(body)])
        passes.append((time.perf_counter() - began) * 1000 / len(bodies))
    return float(np.median(passes)), (max(passes) - min(passes)) / 2


@dataclass(frozen=True)
class Replay:
    requests: int
    from_batch: int
    fallbacks: dict[str, int]  # why the rest could not be served from the batch

    @property
    def hit_rate(self) -> float:
        return self.from_batch / self.requests if self.requests else float("nan")


def replay(predictor: Predictor, batch: BatchRun, bodies: list[dict]) -> Replay:
    """Serve `bodies` from the precomputed table where it has the key; count the rest by reason."""
    hits, misses = 0, {}
    for body in bodies:
        request = predictor.parse(body)
        key = predictor.batch_key(request)
        if key is not None and key in batch.table:
            hits += 1
            continue
        reason = predictor.miss_reason(request) if key is not None else "cannot be precomputed"
        misses[reason] = misses.get(reason, 0) + 1
    return Replay(len(bodies), hits, misses)


@dataclass(frozen=True)
class Profile:
    """Batch against online for one trained system, measured in process: what the Production page's
    batch view, the capacity plan and the interview's serving step quote."""

    rows: int
    seconds: float
    rows_per_s: float
    output_mb: float
    online_ms: float  # per single request, parse + predict, warm median
    online_noise_ms: float
    hit_rate: float | None  # share of live traffic a batch computed at the start answers; None: cannot
    fallbacks: dict[str, int]

    @property
    def batch_speedup(self) -> float:
        """Rows per second of the batch job over requests per second of single online calls."""
        return self.rows_per_s * self.online_ms / 1000

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "batch_speedup": self.batch_speedup}


def profile(predictor: Predictor, progress: Callable[[float], None] | None = None) -> Profile:
    job = run_batch(predictor, progress)
    replayed = replay(predictor, job, predictor.traffic(2000, seed=1))
    online, noise = online_ms(predictor, predictor.traffic(100, seed=2))
    return Profile(
        rows=job.rows,
        seconds=job.seconds,
        rows_per_s=job.rows_per_s,
        output_mb=job.output_bytes / 1e6,
        online_ms=online,
        online_noise_ms=noise,
        hit_rate=replayed.hit_rate if job.table else None,
        fallbacks=replayed.fallbacks,
    )
