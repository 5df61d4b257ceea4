"""How far the grader agrees with hand-graded answers, and what it gives answers built to game it.

A graded set (tests/data/graded/<study>.json) holds, per step, answers labelled strong / adequate /
weak / off_topic, and whole interviews that should score low (questions only, negated claims) or
high (a strong answer in other words). The adversarial keyword lists, pasted rubric terms and the
model answers shuffled across steps are built here from the study's own script."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import spearmanr

from engine.content import render
from engine.interview.scoring import overall, score
from engine.interview.script import Script, load_script
from engine.study import run

LABELS = {"off_topic": 0, "weak": 1, "adequate": 2, "strong": 3}
GRADED = Path(__file__).parents[2] / "tests" / "data" / "graded"
LEVEL = "senior"


@dataclass(frozen=True)
class Agreement:
    study: str
    spearman: float
    mean_by_label: dict[str, float]
    adversarial: dict[str, float]  # whole interviews: their overall score


def step_score(script: Script, step: str, text: str) -> float:
    """One step's answer on its own, scored on that step's dimension."""
    return next(s.auto for s in score(script, {step: text}, LEVEL) if s.dimension == step)


def model_answers(script: Script) -> dict[str, str]:
    reference = run(script.study, {}, 0)
    variant = lambda config: run(script.study, config, 0)  # noqa: E731
    return {s.id: render(s.model_answer, script.study, reference, variant) for s in script.steps}


def adversarial_interviews(script: Script, graded: dict) -> dict[str, dict[str, str]]:
    steps = [s.id for s in script.steps]
    expected = script.expected(LEVEL)
    keyword_lists = {
        step: ". ".join(t for p in expected if p.dimension == step for t in p.terms[:3]) + "."
        for step in steps
    }
    pasted = " ".join(t for p in expected for t in p.terms)
    model = model_answers(script)
    shuffled = {step: model[steps[(i + 3) % len(steps)]] for i, step in enumerate(steps)}
    return {
        "keyword_lists": keyword_lists,
        "pasted_terms": {steps[0]: pasted},
        "questions_only": graded["questions_only"],
        "negated": graded["negated"],
        "model_shuffled": shuffled,
        "strong_paraphrase": graded["strong_paraphrase"],
        "model_answers": model,
    }


def measure(study: str) -> Agreement:
    script = load_script(study)
    graded = json.loads((GRADED / f"{study}.json").read_text(encoding="utf-8"))
    labels, scores = [], []
    by_label: dict[str, list[float]] = {label: [] for label in LABELS}
    for answer in graded["answers"]:
        value = step_score(script, answer["step"], answer["text"])
        labels.append(LABELS[answer["label"]])
        scores.append(value)
        by_label[answer["label"]].append(value)
    rho = spearmanr(labels, scores).statistic
    adversarial = {
        kind: overall(score(script, answers, LEVEL))
        for kind, answers in adversarial_interviews(script, graded).items()
    }
    means = {label: sum(v) / len(v) for label, v in by_label.items()}
    return Agreement(study, float(rho), means, adversarial)
