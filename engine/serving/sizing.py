"""What a capacity plan needs, measured now on a registered version."""

from __future__ import annotations

from engine.memo import Memo
from engine.serving import batch as batch_job
from engine.serving import capacity
from engine.study import run


def measure(study, model, predictor, inputs: capacity.Inputs, levels=(), profile=None) -> capacity.Measured:
    """What a plan needs, measured now: throughput per core (from a load test's levels when given,
    else from in-process time per request), sizes and the batch job's time per row, from the
    version's batch-against-online `profile` (measured here when not given)."""
    profile = profile or batch_job.profile(predictor)
    meeting = [lv for lv in levels if lv.p99_ms <= inputs.slo_p99_ms and lv.errors == 0]
    if meeting:
        best = max(meeting, key=lambda lv: lv.rps)
        rps, source = best.rps, f"load test at c={best.concurrency}"
    else:
        rps, source = 1000 / profile.online_ms, "in-process estimate"
    sizes = predictor.sizes()
    return capacity.Measured(
        rps_per_core=rps,
        source=source,
        model_bytes=sizes["model"],
        feature_bytes_fixed=sizes["features_fixed"],
        feature_bytes_per_user=sizes["features_per_user"],
        batch_ms_per_row=profile.seconds * 1000 / max(profile.rows, 1),
        batch_rows=predictor.batch_rows(inputs.dau, inputs.requests_per_user),
        hybrid_share=hybrid_share(study, model.config, model.seed, profile.hit_rate),
    )


def hybrid_share(study, config: dict, seed: int, hit_rate: float | None) -> float | None:
    """Share of the online request time the hybrid pattern still spends online: the stages it keeps
    online (batch candidates, online ranking), else the requests a cache of precomputed answers
    misses (head queries); None when nothing can be precomputed."""
    if study.serving.hybrid_online_stages:
        return _stage_share(study, config, seed)
    return None if hit_rate is None else 1 - hit_rate


def _stage_share(study, config, seed: int) -> float:
    """Share of the measured online time spent in the stages the hybrid pattern keeps online."""
    stages = run(study, config, seed).stage_ms()
    online = {s.id for s in study.stages if s.online and s.id in stages}
    kept = set(study.serving.hybrid_online_stages) & online
    return sum(stages[s] for s in kept) / max(sum(stages[s] for s in online), 1e-12)


_profiles = Memo(max_entries=16)


def design_profile(study, config: dict, seed: int, data=None) -> batch_job.Profile:
    """Batch against online for a design run live (not a registered version), memoised: what the
    interview's serving step and the walkthrough quote."""
    key = (study.id, tuple(sorted(config.items())), seed, data.token if data else None)
    return _profiles.get(key, lambda: batch_job.profile(study.implementation().predictor(config, seed, data)))


FORMATS = {
    "online_ms": "{:.2f} ms",
    "rows_per_s": "{:,.0f} rows/s",
    "batch_speedup": "{:.1f}×",
    "hit_rate": "{:.0%}",
    "rows": "{:,}",
}


def format_profile(profile: batch_job.Profile, name: str) -> str:
    """`{{serving.NAME}}` in content: one of FORMATS' names."""
    value = getattr(profile, name)
    return "n/a" if value is None else FORMATS[name].format(value)
