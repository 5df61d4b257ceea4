"""A study's lessons, measured: each declared trade-off (`engine.declare.Lesson`) run as the two
configurations it compares, with the band of their difference, at every seed it must hold at.

A lesson holds at a seed when the metric moves in its direction by more than the band of the
difference (the same users, queries or days scored twice, where the study pairs them; else both
runs' bands added) and by at least its declared size; a "same" lesson holds when the move is inside
the band. The walkthrough and the interview quote a lesson through `{{lesson.ID}}`, which renders the
effect measured live at the learner's own settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.declare import Lesson
from engine.knobs import validate_config
from engine.result import RunResult
from engine.study import Study, run

Runner = Callable[[Study, dict[str, Any], int], RunResult]


def _run(study: Study, config: dict[str, Any], seed: int) -> RunResult:
    return run(study, config, seed)


@dataclass(frozen=True)
class Effect:
    """One lesson's two runs at one seed: the metric before and after the change, and the
    half-width of the band of their difference."""

    lesson: Lesson
    seed: int
    before: float
    after: float
    band: float

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def holds(self) -> bool:
        threshold = max(self.band, self.lesson.at_least)
        direction = self.lesson.direction
        if direction == "same":
            return abs(self.delta) <= threshold
        if direction in ("not_up", "not_down"):
            return (self.delta if direction == "not_up" else -self.delta) <= self.band
        return (self.delta if direction == "up" else -self.delta) > threshold


def configs(study: Study, lesson: Lesson, at: Mapping[str, Any] | None = None) -> tuple[dict, dict]:
    """The two configurations a lesson compares, from `at` (the defaults unless given) overlaid with
    the lesson's base, then its change."""
    base = validate_config(study.knobs, {**(at or study.defaults()), **lesson.base})
    return base, validate_config(study.knobs, {**base, **lesson.change})


def measure(
    study: Study, lesson: Lesson, seed: int, at: Mapping[str, Any] | None = None, runner: Runner = _run
) -> Effect:
    base, changed = configs(study, lesson, at)
    before, after = runner(study, base, seed), runner(study, changed, seed)
    return Effect(
        lesson,
        seed,
        before.metrics[lesson.metric],
        after.metrics[lesson.metric],
        after.noise_against(before, lesson.metric),
    )


@dataclass(frozen=True)
class Verdict:
    lesson: Lesson
    effects: tuple[Effect, ...]

    @property
    def holds(self) -> bool:
        return all(e.holds for e in self.effects)

    def failures(self) -> list[Effect]:
        return [e for e in self.effects if not e.holds]


def verdict(study: Study, lesson: Lesson, runner: Runner = _run) -> Verdict:
    """The lesson at every seed it declares, from the defaults."""
    return Verdict(lesson, tuple(measure(study, lesson, seed, runner=runner) for seed in lesson.seeds))


def describe_change(study: Study, lesson: Lesson) -> str:
    """The knob moves, by their labels: "Candidate pool N 50 items → 500 items"."""
    base, changed = configs(study, lesson)
    return ", ".join(
        f"{study.knob(k).label} {study.knob(k).format_value(base[k])} → "
        f"{study.knob(k).format_value(changed[k])}"
        for k in lesson.change
        if base[k] != changed[k]
    )


def render(study: Study, effect: Effect) -> str:
    """An effect as content quotes it: "candidate recall@N 0.612 → 0.875 (+0.263 ± 0.010)", and, when
    it does not hold at these settings, what was measured instead."""
    spec = study.metric(effect.lesson.metric)
    change, band = spec.format_change(effect.delta), spec.format_change(effect.band)[1:]
    text = f"{spec.label} {spec.format(effect.before)} → {spec.format(effect.after)} ({change} ± {band})"
    if effect.holds:
        return text
    direction = effect.lesson.direction
    if direction in ("same", "not_up", "not_down"):
        return text + ": a real change at these settings"
    if abs(effect.delta) <= effect.band:
        return text + ": inside the noise at these settings"
    return text + ": the other way at these settings"


def report(study: Study, runner: Runner = _run) -> list[dict[str, Any]]:
    """Every lesson of `study` measured at its seeds, as JSON-ready rows (the CLI's `lessons`)."""
    rows = []
    for lesson in study.lessons:
        found = verdict(study, lesson, runner)
        rows.append(
            {
                "study": study.id,
                "lesson": lesson.id,
                "claim": lesson.claim,
                "change": describe_change(study, lesson),
                "metric": lesson.metric,
                "direction": lesson.direction,
                "holds": found.holds,
                "seeds": [
                    {
                        "seed": e.seed,
                        "before": e.before,
                        "after": e.after,
                        "delta": e.delta,
                        "band": e.band,
                        "holds": e.holds,
                    }
                    for e in found.effects
                ],
            }
        )
    return rows
