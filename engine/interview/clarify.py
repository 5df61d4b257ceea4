"""The interviewer answers clarifying questions from the study's live world (users, catalogue,
traffic, fraud rate, label delay...), and says so when a question is out of scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.content import render
from engine.interview.scoring import _term_positions, tokens
from engine.interview.script import Script
from engine.result import RunResult

CLARIFY = "clarify:"  # answer slots holding the candidate's clarifying questions
OUT_OF_SCOPE = (
    "That is not something I can tell you for this interview: make an assumption, say it out loud, "
    "and carry on."
)


def answer(
    script: Script, question: str, reference: RunResult, run_variant: Callable[[dict[str, Any]], RunResult]
) -> tuple[str | None, str]:
    """(the clarification answered, or None when out of scope; the interviewer's reply)."""
    words = tokens(question)
    best, hits = None, 0
    for clarification in script.clarifications:
        found = sum(bool(_term_positions(term, words)) for term in clarification.terms)
        if found > hits:
            best, hits = clarification, found
    if best is None:
        return None, OUT_OF_SCOPE
    return best.id, render(best.answer, script.study, reference, run_variant)


def questions(answers: dict[str, str]) -> list[str]:
    """The candidate's clarifying questions, in the order asked."""
    return [text for slot, text in answers.items() if slot.startswith(CLARIFY) and text.strip()]
