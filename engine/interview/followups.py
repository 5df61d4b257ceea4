"""Which follow-up questions the interviewer asks, given the candidate's choices and answers so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.interview.scoring import mentions
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
