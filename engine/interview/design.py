"""The candidate's design as a configuration of the live study, and what each choice measurably did."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.interview.script import Choice, Script
from engine.knobs import same_option
from engine.result import RunResult
from engine.study import NO_CHANGE

Run = Callable[[dict[str, Any]], RunResult]  # config -> result, on the attempt's seed and world


def design_config(script: Script, choices: Mapping[str, Any]) -> dict[str, Any]:
    """The study's reference configuration with every knob the candidate chose overlaid."""
    config = script.study.defaults()
    config.update({k: v for k, v in choices.items() if k in config})
    return config


@dataclass(frozen=True)
class Effect:
    """One metric of the design against the same design with one choice set otherwise."""

    label: str
    value: str
    delta: str  # signed, formatted; "" when unchanged
    better: bool | None  # None when unchanged


def effects(script: Script, chosen: RunResult, other: RunResult, shows: tuple[str, ...] = ()) -> list[Effect]:
    """How `chosen` differs from `other` on the study's quality and cost metrics, and on the
    metrics a choice trades (`shows`: click-through and diversity for MMR, say)."""
    study = script.study
    out = []
    for key in dict.fromkeys((study.quality_metric, study.cost_metric, *shows)):
        spec = study.metric(key)
        value, base = chosen.metrics[key], other.metrics[key]
        delta = spec.format_delta(value, base, chosen.noise_against(other, key))
        unchanged = spec.format(value) == spec.format(base) or delta == NO_CHANGE
        out.append(
            Effect(
                spec.label,
                spec.format(value),
                "" if unchanged else delta,
                None if unchanged else (value > base) == spec.higher_is_better,
            )
        )
    return out


def sentence(choice: Choice, value: Any, reference: Any, found: list[Effect]) -> str:
    """'Against ALS (the reference): nDCG@10 -0.052 (worse), serving cost -$3 (better).'"""
    if same_option(value, reference):
        return f"This is the reference design's choice ({label_of(choice, reference)})."
    parts = [f"{e.label} {e.delta} ({'better' if e.better else 'worse'})" for e in found if e.delta]
    head = f"Against {label_of(choice, reference)} (the reference)"
    return f"{head}: " + ", ".join(parts) + "." if parts else f"{head}: no change outside the noise."


def label_of(choice: Choice, value: Any) -> str:
    for option, label in zip(choice.options, choice.labels, strict=True):
        if same_option(value, option):
            return label
    return str(value)


@dataclass(frozen=True)
class Alternative:
    choice: Choice
    option: Any
    taken: bool
    result: RunResult


def alternatives(script: Script, choices: Mapping[str, Any], run: Run) -> list[Alternative]:
    """Every option of every live choice, run on the same world with the rest of the design held:
    the paths not taken next to the one taken."""
    design = design_config(script, choices)
    rows = []
    for choice in script.choices():
        if not script.is_knob(choice.id):
            continue
        for option in choice.options:
            result = run({**design, choice.id: option})
            rows.append(Alternative(choice, option, same_option(design[choice.id], option), result))
    return rows


SERVING_MODE = "serving_mode"  # the serving step's batch / online / hybrid choice


def serving_sentence(script: Script, mode: str, design: dict[str, Any], seed: int) -> str:
    """What the chosen serving pattern measures on the design's own served system."""
    from engine.serving.sizing import design_profile, hybrid_share

    study = script.study
    p = design_profile(study, design, seed)
    population = study.serving.population_label
    if mode == "batch":
        if p.hit_rate is None:
            return (
                f"Measured: a batch job scores {population} at {p.rows_per_s:,.0f} rows/s, "
                f"{p.batch_speedup:.0f}× a single online call per row, but no request can be answered "
                "from it: each one must be scored when it arrives."
            )
        missed = ", ".join(
            f"{reason} {n / sum(p.fallbacks.values()):.0%}" for reason, n in p.fallbacks.items()
        )
        return (
            f"Measured: the batch job scores {population} ({p.rows:,} rows) at {p.rows_per_s:,.0f} rows/s; "
            f"{_per_row(p)}. Replaying live traffic against it, "
            f"{p.hit_rate:.0%} of requests find a precomputed answer; the rest ({missed or 'none'}) need "
            "an online fallback, and every answer is as stale as the last run."
        )
    if mode == "online":
        return (
            f"Measured: {p.online_ms:.2f} ms per request in process (± {p.online_noise_ms:.2f}), fresh "
            f"for every request and paid on every request; {_per_row(p)}."
        )
    share = hybrid_share(study, design, seed, p.hit_rate)
    if share is None:
        return (
            "Measured: nothing here can be precomputed per request, so the hybrid is online scoring with "
            "precomputed features (the feature store's aggregates)."
        )
    return (
        f"Measured: the hybrid keeps {share:.0%} of the online request time ({p.online_ms:.2f} ms per "
        f"request in full) on the request path and moves the rest to the batch job "
        f"({p.rows_per_s:,.0f} rows/s)."
    )


def _per_row(p) -> str:
    if p.batch_speedup < 1.2:  # inside timing noise: say so rather than claim a win
        return (
            f"per row the batch job is no faster than online ({p.batch_speedup:.1f}×): each request is "
            "computed on its own either way"
        )
    return f"per row the batch job is {p.batch_speedup:.1f}× cheaper than single online calls"
