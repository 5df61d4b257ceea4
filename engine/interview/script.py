"""An interview script: the shared rubric (engine/interview/rubric.toml) joined with a study's own
prompts, hints, design choices, key points and follow-ups (case_studies/<id>/content/interview.toml)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from engine.study import Study, get_study

RUBRIC = Path(__file__).with_name("rubric.toml")
LEVELS = ("junior", "senior", "staff")
LENGTHS = (30, 45, 60)  # minutes
DEFAULT_LENGTH = 45


@dataclass(frozen=True)
class KeyPoint:
    dimension: str
    level: str
    point: str
    terms: tuple[str, ...] = ()
    pattern: str = ""
    # How candidates say it in their own words: matched by character n-gram similarity, as is the
    # point's own wording, where the terms are not enough.
    phrasings: tuple[str, ...] = ()
    # The point needs one of these in the evidence sentence or the next (a reason needs a cost; a
    # quoted number needs a metric to belong to).
    nearby: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """A design decision the candidate makes by picking an option. When `id` is a knob of the study,
    the choice is run on the live engine; otherwise (`serving_mode`, say) it is recorded and can
    trigger follow-ups."""

    id: str
    question: str
    options: tuple[Any, ...]
    labels: tuple[str, ...]
    shows: tuple[str, ...] = ()  # metrics this choice trades, shown next to quality and cost


@dataclass(frozen=True)
class FollowUp:
    """A question the interviewer asks on `step` when its condition holds: a choice made
    (`if_choice`), or earlier answers that mention (`if_mentions`) or never mention (`if_missing`)
    any of some terms."""

    id: str
    step: str
    ask: str
    if_choice: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    if_mentions: tuple[str, ...] = ()
    if_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clarification:
    """What the interviewer answers when a candidate's question uses one of `terms`: `answer` is
    Markdown with the live world's numbers as `{{metric}}` placeholders (engine.content)."""

    id: str
    terms: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    minutes: float  # in a 45-minute interview
    prompt: str
    hints: tuple[str, ...]
    model_answer: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Script:
    study: Study
    steps: tuple[Step, ...]
    dimensions: dict[str, str]  # id -> title
    key_points: tuple[KeyPoint, ...]
    followups: tuple[FollowUp, ...]
    clarifications: tuple[Clarification, ...] = ()

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def choice(self, choice_id: str) -> Choice:
        return next(c for s in self.steps for c in s.choices if c.id == choice_id)

    def choices(self) -> list[Choice]:
        return [c for s in self.steps for c in s.choices]

    def is_knob(self, choice_id: str) -> bool:
        return any(k.id == choice_id for k in self.study.knobs)

    def budgets(self, length_minutes: int) -> dict[str, float]:
        """Seconds per step for an interview of `length_minutes`."""
        total = sum(s.minutes for s in self.steps)
        return {s.id: 60 * length_minutes * s.minutes / total for s in self.steps}

    def expected(self, level: str) -> list[KeyPoint]:
        """The key points a candidate at `level` is expected to cover (levels are cumulative)."""
        rank = LEVELS.index(level)
        return [p for p in self.key_points if LEVELS.index(p.level) <= rank]


class ScriptError(ValueError):
    """Interview content that does not fit the rubric: an unknown step, knob option or level."""


def has_script(study: Study) -> bool:
    return (study.content_dir / "interview.toml").exists()


@cache
def load_rubric() -> dict:
    """The shared rubric: steps, dimensions and key points (read once)."""
    return tomllib.loads(RUBRIC.read_text(encoding="utf-8"))


@cache
def load_script(study_id: str) -> Script:
    study = get_study(study_id)
    rubric = load_rubric()
    own = tomllib.loads((study.content_dir / "interview.toml").read_text(encoding="utf-8"))
    steps = tuple(
        _step(study, step_id, meta, own["steps"].get(step_id, {}))
        for step_id, meta in rubric["steps"].items()
    )
    dimensions = dict(rubric["dimensions"])
    points = tuple(_key_point(p, dimensions) for p in rubric["key_points"] + own.get("key_points", []))
    step_ids = [s.id for s in steps]
    followups = tuple(_followup(f, step_ids) for f in own.get("followups", []))
    clarifications = tuple(
        Clarification(c["id"], tuple(c["terms"]), c["answer"].strip()) for c in own.get("clarifications", [])
    )
    return Script(study, steps, dimensions, points, followups, clarifications)


def _step(study: Study, step_id: str, meta: dict, own: dict) -> Step:
    if not own.get("prompt"):
        raise ScriptError(f"{study.id}: step '{step_id}' has no prompt")
    return Step(
        id=step_id,
        title=meta["title"],
        minutes=float(meta["minutes"]),
        prompt=own["prompt"].strip(),
        hints=tuple(h.strip() for h in own.get("hints", [])),
        model_answer=own.get("model_answer", "").strip(),
        choices=tuple(_choice(study, c) for c in own.get("choices", [])),
    )


def _choice(study: Study, raw: dict) -> Choice:
    choice_id = raw["id"]
    knob = next((k for k in study.knobs if k.id == choice_id), None)
    options = tuple(raw.get("options") or (knob.options if knob and knob.options else ()))
    if not options:
        raise ScriptError(f"{study.id}: choice '{choice_id}' has no options")
    if knob is not None:
        for option in options:
            knob.validate(option)  # raises KnobError naming the valid range
    labels = tuple(raw.get("labels") or [_label(o) for o in options])
    if len(labels) != len(options):
        raise ScriptError(f"{study.id}: choice '{choice_id}' needs one label per option")
    shows = tuple(raw.get("shows", ()))
    for key in shows:
        study.metric(key)  # raises KeyError for a metric the study does not report
    return Choice(choice_id, raw["question"].strip(), options, labels, shows)


def _label(option: Any) -> str:
    return str(option).replace("_", " ")


def _key_point(raw: dict, dimensions: dict[str, str]) -> KeyPoint:
    if raw["dimension"] not in dimensions:
        raise ScriptError(f"key point '{raw['point']}': unknown dimension '{raw['dimension']}'")
    if raw["level"] not in LEVELS:
        raise ScriptError(f"key point '{raw['point']}': level must be one of {', '.join(LEVELS)}")
    if not raw.get("terms") and not raw.get("pattern"):
        raise ScriptError(f"key point '{raw['point']}' needs terms or a pattern")
    if raw.get("pattern"):
        re.compile(raw["pattern"])
    return KeyPoint(
        raw["dimension"],
        raw["level"],
        raw["point"],
        tuple(raw.get("terms", ())),
        raw.get("pattern", ""),
        tuple(raw.get("phrasings", ())),
        tuple(raw.get("nearby", ())),
    )


def _followup(raw: dict, step_ids: list[str]) -> FollowUp:
    if raw["step"] not in step_ids:
        raise ScriptError(f"follow-up '{raw['id']}': unknown step '{raw['step']}'")
    conditions = {
        choice: tuple(value if isinstance(value, list) else [value])
        for choice, value in raw.get("if_choice", {}).items()
    }
    return FollowUp(
        id=raw["id"],
        step=raw["step"],
        ask=raw["ask"].strip(),
        if_choice=tuple(conditions.items()),
        if_mentions=tuple(raw.get("if_mentions", ())),
        if_missing=tuple(raw.get("if_missing", ())),
    )
