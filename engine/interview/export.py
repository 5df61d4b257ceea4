"""An attempt as a Markdown document: the transcript, the scores and what was missed."""

from __future__ import annotations

import re
import time

from engine.interview import clarify
from engine.interview.design import label_of
from engine.interview.followups import probe_by_id
from engine.interview.scoring import DimensionScore, grade
from engine.interview.script import Script
from engine.interview.store import FOLLOW_UP, Attempt


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def literal(body: str) -> str:
    """The candidate's text in a fence longer than any run of backticks inside it, so a viewer shows
    it as written."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def to_markdown(script: Script, attempt: Attempt, scores: list[DimensionScore]) -> str:
    budgets = script.budgets(attempt.minutes)
    result = grade(script, scores, attempt.answers, attempt.elapsed, attempt.minutes)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(attempt.created_at))
    lines = [
        f"# Mock interview: {script.study.question}",
        "",
        f"- Attempt `{attempt.id}`, started {when}, aimed at **{attempt.level}** level",
        f"- Time used {minutes(attempt.elapsed)} of {attempt.minutes}:00",
        f"- Overall {result.value:.2f} / 4 ({result.signal}): {result.reason}",
        "",
        "## Scores",
        "",
        "| Dimension | From your text | Your self-assessment | Score |",
        "|---|---|---|---|",
    ]
    for s in scores:
        own = "" if s.self_score is None else f"{s.self_score:g}"
        lines.append(f"| {s.title} | {s.auto:.2f} | {own} | {s.final:.2f} |")
    missed = [(s.title, p.point) for s in scores for p in s.missed]
    if missed:
        lines += ["", "## Points you missed", ""] + [f"- **{title}**: {point}" for title, point in missed]
    for step in script.steps:
        lines += [
            "",
            f"## {step.title}",
            "",
            f"*Time {minutes(attempt.seconds.get(step.id, 0))} "
            f"of a {minutes(budgets[step.id])} budget; hints taken: {attempt.hints.get(step.id, 0)}*",
            "",
            f"> {step.prompt}",
            "",
        ]
        for choice in step.choices:
            if choice.id in attempt.choices:
                lines.append(f"- {choice.question} **{label_of(choice, attempt.choices[choice.id])}**")
        lines += [
            "",
            literal(attempt.answers.get(step.id, "")) if attempt.answers.get(step.id) else "*No answer.*",
        ]
        scripted = {f.id: f for f in script.followups}
        for followup_id in attempt.asked():
            followup = scripted.get(followup_id) or probe_by_id(script, followup_id)
            if followup is not None and followup.step == step.id:
                body = attempt.answers[FOLLOW_UP + followup_id]
                lines += ["", f"**Follow-up:** {followup.ask}", "", literal(body) if body else "*No answer.*"]
        for question in clarify.questions(attempt.answers) if step.id == script.steps[0].id else []:
            lines += ["", "**Asked the interviewer:**", "", literal(question)]
    return "\n".join(lines) + "\n"
