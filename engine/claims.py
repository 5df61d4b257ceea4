"""The sentences a study's text uses to assert a direction ("raises", "beats", "more … than") and
whether each is backed by a measurement where it stands: a `{{lesson.ID}}` (a claim the suite
proves) or placeholders that quote both sides of the comparison. `python -m engine claims [STUDY]`
lists the rest for review: each should become a lesson, quote its numbers, or be rephrased."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from engine.study import Study

DIRECTION = re.compile(
    r"\b(raises?|lowers?|beats?|hurts?|improves?|lifts?|outperforms?|helps?|rescues?|wins?"
    r"|(?:better|worse|more|fewer|less|higher|lower|faster|slower) than)\b",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*])|\n\s*[-*|] |\n\s*\n")
PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")


@dataclass(frozen=True)
class Claim:
    source: str  # "walkthrough", "model answer: evaluation", "knob: candidates"
    sentence: str
    backed: bool  # a lesson quoted, both sides measured, or (a knob's help) a lesson on that knob


def claims(study: Study) -> list[Claim]:
    """Every sentence of the walkthrough, the model answers and the knobs' help that asserts a
    direction."""
    texts = [("walkthrough", (study.content_dir / "walkthrough.md").read_text(encoding="utf-8"))]
    script = study.content_dir / "interview.toml"
    if script.is_file():
        steps = tomllib.loads(script.read_text(encoding="utf-8")).get("steps", {})
        texts += [(f"model answer: {step}", own.get("model_answer", "")) for step, own in steps.items()]
    texts += [(f"knob: {knob.id}", knob.trades) for knob in study.knobs]
    taught = {knob for lesson in study.lessons for knob in lesson.change}
    return [
        Claim(source, " ".join(sentence.split()), _backed(sentence, source, taught))
        for source, text in texts
        for sentence in SENTENCE.split(text)
        if DIRECTION.search(sentence)
    ]


def _backed(sentence: str, source: str, taught: set[str]) -> bool:
    if source.startswith("knob: "):  # help text has no placeholders: a lesson on the knob proves it
        return source.removeprefix("knob: ") in taught
    return "{{lesson." in sentence or len(PLACEHOLDER.findall(sentence)) >= 2


def unbacked(study: Study) -> list[Claim]:
    return [claim for claim in claims(study) if not claim.backed]
