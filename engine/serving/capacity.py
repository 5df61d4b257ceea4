"""Back-of-envelope capacity and cost, from measured throughput and sizes. Every output carries its
formula with the numbers plugged in, as a candidate would say it in an interview."""

from __future__ import annotations

import math
from dataclasses import dataclass

HOURS_PER_MONTH = 730
CORES_PER_REPLICA = 2
MIN_REPLICAS = 2  # one can fail or be redeployed without an outage
USD_PER_GB_HOUR = 0.005  # memory, at cloud list prices


@dataclass(frozen=True)
class Inputs:
    dau: int = 1_000_000
    requests_per_user: float = 10.0  # per day
    peak_factor: float = 3.0
    slo_p99_ms: float = 100.0
    usd_per_core_hour: float = 0.05
    utilisation: float = 0.6  # target: headroom for spikes and failover


@dataclass(frozen=True)
class Measured:
    rps_per_core: float  # highest throughput of one server process whose p99 met the SLO
    source: str  # where rps_per_core comes from ("load test at c=16", "in-process estimate")
    model_bytes: int
    feature_bytes_fixed: int
    feature_bytes_per_user: float
    batch_ms_per_row: float
    batch_rows: int  # rows the nightly batch scores at this DAU
    hybrid_share: float | None  # share of the online time still spent online in the hybrid pattern


@dataclass(frozen=True)
class Line:
    label: str
    value: float
    unit: str
    formula: str


def plan(i: Inputs, m: Measured) -> list[Line]:
    average = i.dau * i.requests_per_user / 86_400
    peak = average * i.peak_factor
    cores = max(1, math.ceil(peak / (m.rps_per_core * i.utilisation)))
    replicas = max(MIN_REPLICAS, math.ceil(cores / CORES_PER_REPLICA))
    memory = m.model_bytes + m.feature_bytes_fixed  # every replica holds the model
    store = m.feature_bytes_per_user * i.dau  # the per-user features: one shared, sharded store
    online = replicas * CORES_PER_REPLICA * i.usd_per_core_hour * HOURS_PER_MONTH
    online += (replicas * memory + store) / 1e9 * USD_PER_GB_HOUR * HOURS_PER_MONTH
    batch_core_hours = m.batch_rows * m.batch_ms_per_row / 3.6e6
    batch = batch_core_hours * 30 * i.usd_per_core_hour
    lines = [
        Line("Average QPS", average, "req/s", f"{i.dau:,} DAU × {i.requests_per_user:g} req/day ÷ 86,400 s"),
        Line("Peak QPS", peak, "req/s", f"{average:,.1f} × peak factor {i.peak_factor:g}"),
        Line(
            "Cores",
            cores,
            "cores",
            f"⌈{peak:,.1f} ÷ ({m.rps_per_core:,.0f} req/s per core [{m.source}] × {i.utilisation:.0%} "
            "target utilisation)⌉",
        ),
        Line(
            "Replicas",
            replicas,
            "replicas",
            f"max({MIN_REPLICAS}, ⌈{cores} cores ÷ {CORES_PER_REPLICA} per replica⌉)",
        ),
        Line(
            "Memory per replica",
            memory / 1e6,
            "MB",
            f"model {m.model_bytes / 1e6:,.1f} MB + shared tables {m.feature_bytes_fixed / 1e6:,.1f} MB",
        ),
        Line(
            "Feature store",
            store / 1e9,
            "GB",
            f"{m.feature_bytes_per_user:,.0f} B/user × {i.dau:,} users, once, sharded across its nodes "
            "(every replica reads it; none holds it all)",
        ),
        Line(
            "Batch job",
            batch_core_hours,
            "core-hours/day",
            f"{m.batch_rows:,} rows × {m.batch_ms_per_row:.4f} ms/row ÷ 3.6M ms/h",
        ),
        Line(
            "Online serving cost",
            online,
            "$/month",
            f"{replicas} × {CORES_PER_REPLICA} cores × ${i.usd_per_core_hour}/core-h × {HOURS_PER_MONTH} h "
            f"+ memory ({replicas} × {memory / 1e9:.2f} GB + store {store / 1e9:.2f} GB) × "
            f"${USD_PER_GB_HOUR}/GB-h × {HOURS_PER_MONTH} h",
        ),
        Line(
            "Batch cost",
            batch,
            "$/month",
            f"{batch_core_hours:,.2f} core-h/day × 30 × ${i.usd_per_core_hour}/core-h",
        ),
    ]
    if m.hybrid_share is not None:
        hybrid = online * m.hybrid_share + batch
        lines.append(
            Line(
                "Hybrid cost",
                hybrid,
                "$/month",
                f"online ${online:,.0f} × {m.hybrid_share:.0%} of the request time still online "
                f"+ batch ${batch:,.0f}",
            )
        )
    return lines


@dataclass(frozen=True)
class Cost:
    usd: float  # per month
    replicas: int
    band: float  # half-width in dollars, from the CPU time's noise band


def serving_cost(latency, dau: float, memory_bytes: float, i: Inputs = Inputs()) -> Cost:
    """Monthly serving cost on the study page, as the capacity plan counts it: replicas of
    CORES_PER_REPLICA cores for the peak load at the measured CPU time per request (`latency`, an
    engine.timing.Latency), never fewer than MIN_REPLICAS, plus the memory each holds. It grows with
    traffic (DAU), CPU time per request and model size, in whole replicas. Left out: the network,
    storage, training jobs and the people who run it."""

    def replicas(cpu_ms: float) -> int:
        peak = dau * i.requests_per_user / 86_400 * i.peak_factor
        cores = peak * cpu_ms / 1000 / i.utilisation
        return max(MIN_REPLICAS, math.ceil(cores / CORES_PER_REPLICA))

    def usd(count: int) -> float:
        per_replica = CORES_PER_REPLICA * i.usd_per_core_hour + memory_bytes / 1e9 * USD_PER_GB_HOUR
        return count * per_replica * HOURS_PER_MONTH

    low, high = replicas(latency.cpu_ms - latency.cpu_band), replicas(latency.cpu_ms + latency.cpu_band)
    count = replicas(latency.cpu_ms)
    return Cost(usd(count), count, (usd(high) - usd(low)) / 2)
