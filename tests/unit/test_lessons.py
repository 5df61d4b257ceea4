"""Every trade-off the lab teaches is a declared lesson, and every lesson holds at its seeds: if the
engine disagrees, the world, the system or the sentence is wrong, never this check."""

from __future__ import annotations

import json

import pytest

import engine
from engine import lessons
from engine.cli import main
from engine.content import render, variants
from engine.declare import Lesson

LESSONS = [(s, lesson) for s in engine.list_studies() for lesson in s.lessons]


@pytest.mark.parametrize(("study", "lesson"), LESSONS, ids=[f"{s.id}.{x.id}" for s, x in LESSONS])
def test_the_lesson_holds_at_every_seed_it_declares(study, lesson):
    found = lessons.verdict(study, lesson)
    assert found.holds, "; ".join(f"seed {e.seed}: {lessons.render(study, e)}" for e in found.failures())


def test_every_study_teaches_lessons():
    assert all(len(study.lessons) >= 8 for study in engine.list_studies())


def effect(direction: str, before: float, after: float, band: float, at_least: float = 0.0):
    lesson = Lesson("x", "claim", {"k": 1}, "m", direction, at_least=at_least)
    return lessons.Effect(lesson, 0, before, after, band)


def test_a_lesson_holds_only_beyond_its_band_and_its_declared_size():
    assert effect("up", 0.50, 0.52, band=0.01).holds
    assert not effect("up", 0.50, 0.505, band=0.01).holds  # inside the noise
    assert not effect("up", 0.50, 0.52, band=0.01, at_least=0.05).holds  # real, but smaller than claimed
    assert not effect("up", 0.50, 0.40, band=0.01).holds  # the other way
    assert effect("down", 0.50, 0.40, band=0.01).holds
    assert effect("same", 0.50, 0.505, band=0.01).holds and not effect("same", 0.5, 0.6, band=0.01).holds
    assert effect("not_up", 0.50, 0.505, band=0.01).holds and effect("not_up", 0.5, 0.3, band=0.01).holds
    assert not effect("not_up", 0.50, 0.52, band=0.01).holds
    assert effect("not_down", 0.50, 0.495, band=0.01).holds and not effect("not_down", 0.5, 0.4, 0.01).holds


def test_a_lesson_renders_its_measured_effect_and_says_when_the_learners_settings_break_it():
    study = engine.get_study("recommendation")
    lesson = study.lesson("pool_recall")
    text = lessons.render(study, lessons.measure(study, lesson, seed=0))
    assert text.startswith("Candidate recall@N 0.486 → 0.901 (+0.414 ± ")
    spec = engine.get_study("recommendation").metric("online_ctr")
    assert spec.label in lessons.render(study, lessons.measure(study, study.lesson("mmr_clicks"), seed=0))
    broken = lessons.Effect(lesson, 0, 0.5, 0.49, 0.02)
    assert lessons.render(study, broken).endswith(": inside the noise at these settings")


def test_content_quotes_a_lesson_live_from_the_current_configuration():
    study = engine.get_study("recommendation")
    text = "Here: {{lesson.pool_recall}}."
    current = engine.run(study, {"ranker": "none"}, seed=0)
    quoted = variants(text, study, current.config)
    assert {c["candidates"] for c in quoted} == {50, 500} and all(c["ranker"] == "none" for c in quoted)
    rendered = render(text, study, current, lambda cfg: engine.run(study, cfg, seed=0))
    assert rendered.startswith("Here: Candidate recall@N 0.486 → 0.901")


def test_the_lessons_command_lists_each_lesson_with_its_effect_at_every_seed(capsys):
    assert main(["lessons", "fraud", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["lesson"] for row in rows] == [lesson.id for lesson in engine.get_study("fraud").lessons]
    first = rows[0]
    assert first["holds"] and [s["seed"] for s in first["seeds"]] == [0, 1, 2]
    assert {"before", "after", "delta", "band", "holds"} <= set(first["seeds"][0])
