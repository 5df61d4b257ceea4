"""Which follow-up questions the interviewer asks, given the candidate's choices and answers so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.interview.scoring import PROBE, covered_points, mentions
from engine.interview.script import FollowUp, Script
from engine.knobs import same_option


def triggered(
    script: Script, step_id: str, answers: Mapping[str, str], choices: Mapping[str, Any]
) -> list[FollowUp]:
    """Follow-ups for `step_id` whose condition holds. Text conditions read the answers to the earlier
    steps only: the candidate is still writing this one, and a question should not flicker in and out
    while they type. Choice conditions read every choice made so far."""
    order = [s.id for s in script.steps]
    earlier = "\n".join(answers.get(s, "") for s in order[: order.index(step_id)])
    return [f for f in script.followups if f.step == step_id and _holds(f, earlier, choices)]


def _holds(followup: FollowUp, earlier: str, choices: Mapping[str, Any]) -> bool:
    for choice_id, values in followup.if_choice:
        if choice_id not in choices or not any(same_option(choices[choice_id], v) for v in values):
            return False
    if followup.if_mentions and not mentions(earlier, followup.if_mentions):
        return False
    return not (followup.if_missing and mentions(earlier, followup.if_missing))


def probe(script: Script, step_id: str, answers: Mapping[str, str], level: str) -> FollowUp | None:
    """The interviewer digs into the weakest spot of the last answer: the first point of the previous
    step's dimension (the most basic first) that its answer did not make. The id names the step it
    is asked on and the point, so the same question comes back after a reload."""
    previous = probed_step(script, step_id)
    if previous is None or not answers.get(previous, "").strip():
        return None  # nothing written there: the coverage map, not a follow-up, will say so
    wanted = [p for p in script.expected(level) if p.dimension == previous]
    made = covered_points(wanted, answers[previous])
    missing = next((p for p in wanted if p.point not in made), None)
    if missing is None:
        return None
    return probe_by_id(script, f"{PROBE}{step_id}-{script.key_points.index(missing)}")


def probe_by_id(script: Script, followup_id: str) -> FollowUp | None:
    """The probe behind a stored id (`probe-<step asked on>-<point index>`), or None for other ids."""
    if not followup_id.startswith(PROBE):
        return None
    step_id, _, point_index = followup_id.removeprefix(PROBE).rpartition("-")
    point = script.key_points[int(point_index)].point
    ask = (
        f"Back to *{script.step(probed_step(script, step_id)).title.lower()}* for a moment: you did "
        f"not get to this: {point[0].lower() + point[1:]}. How would you handle it?"
    )
    return FollowUp(followup_id, step_id, ask)


def probed_step(script: Script, step_id: str) -> str | None:
    """A probe asked on a step digs into the step before it."""
    order = [s.id for s in script.steps]
    index = order.index(step_id)
    return order[index - 1] if index else None
