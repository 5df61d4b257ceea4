"""What to practise next: spaced repetition over (study, rubric dimension) pairs.

A dimension scored below "strong" comes back the next day; a strong one waits longer each time it
holds up (the interval grows by 1.5x to 2.5x with the score), in the spirit of SuperMemo's SM-2."""

from __future__ import annotations

from dataclasses import dataclass

from engine.interview.script import load_rubric

DAY = 86_400.0
STRONG = 2.5  # on the 0-4 scale
# Dimensions that are not a step of their own are practised in the step where they matter most.
PRACTICE_STEP = {"tradeoffs": "model", "numbers": "serving"}


def next_interval(previous_days: float | None, score: float) -> float:
    if score < STRONG or previous_days is None:
        return 1.0 if score < STRONG else 2.0
    return round(previous_days * (1.5 + score / 4), 1)


def practice_step(dimension: str) -> str:
    return PRACTICE_STEP.get(dimension, dimension)


@dataclass(frozen=True)
class Review:
    study: str
    dimension: str
    due_at: float
    last_score: float
    interval_days: float

    def is_due(self, now: float) -> bool:
        return self.due_at <= now


def schedule(previous: Review | None, study: str, dimension: str, score: float, now: float) -> Review:
    interval = next_interval(previous.interval_days if previous else None, score)
    return Review(study, dimension, now + interval * DAY, score, interval)


def plan(reviews: list[Review], now: float) -> list[Review]:
    """Due items first (the weakest of them first), then the rest by due date."""
    return sorted(reviews, key=lambda r: (not r.is_due(now), r.last_score if r.is_due(now) else r.due_at))


def reschedule(reviews: list[Review], study: str, scores: dict[str, float], now: float) -> list[Review]:
    """The practice items of `study` after an attempt scored `scores` (dimension -> 0-4)."""
    previous = {r.dimension: r for r in reviews if r.study == study}
    return [schedule(previous.get(d), study, d, s, now) for d, s in scores.items()]


def weakest(reviews: list[Review], now: float) -> Review | None:
    """The one rule behind both "weakest dimension" and "practise next": the lowest-scored item
    due now, else the lowest-scored of all."""
    due = [r for r in reviews if r.is_due(now)]
    pool = due or reviews
    order = _rubric_order()  # ties go to the rubric's first dimension, whatever order the rows came in
    return min(pool, key=lambda r: (r.last_score, order.get(r.dimension, len(order)))) if pool else None


def _rubric_order() -> dict[str, int]:
    return {dimension: i for i, dimension in enumerate(load_rubric()["dimensions"])}
