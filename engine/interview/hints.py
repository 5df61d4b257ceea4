"""Hints that react: each hint is about one key point of its step (the point it reads most like),
and a hint whose point the answer already makes is skipped."""

from __future__ import annotations

from engine.interview.scoring import _similarities, covered_points
from engine.interview.script import KeyPoint, Script, Step

HINT = "hint:"  # answer slots recording which hint was shown: hint:<step>:<index>


def hint_point(script: Script, step: Step, index: int, level: str) -> KeyPoint | None:
    """The key point of the step's dimension a hint reads most like (character n-grams)."""
    points = [p for p in script.expected(level) if p.dimension == step.id]
    similar = _similarities(points, [step.hints[index]])
    if not similar:
        return None
    (best, _), _ = max(similar.items(), key=lambda item: item[1])
    return points[best]


def next_hint(script: Script, step: Step, answer: str, shown: list[int], level: str) -> int | None:
    """The first hint not shown yet whose point the answer does not already make, or None."""
    made = covered_points([p for p in script.expected(level) if p.dimension == step.id], answer)
    for index in range(len(step.hints)):
        if index in shown:
            continue
        point = hint_point(script, step, index, level)
        if point is None or point.point not in made:
            return index
    return None


def shown_hints(answers: dict[str, str], step_id: str) -> list[int]:
    prefix = f"{HINT}{step_id}:"
    return sorted(int(slot.removeprefix(prefix)) for slot in answers if slot.startswith(prefix))
