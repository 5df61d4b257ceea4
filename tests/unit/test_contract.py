"""The study contract from a new author's side: the template `new-study` copies passes the whole
conformance check, and a study broken in each of the ways an author breaks one fails it with a
message that names the study, the part and the fix."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from engine import study as registry
from engine.check import CHECKS, StudyContractError, check_study
from engine.cli import main
from engine.template import create


def new_study(tmp_path: Path, monkeypatch, study_id: str, *edits: tuple[str, str, str]):
    """`python -m engine new-study ID` into a temporary folder, with `edits` ((file, old, new) each)
    applied, imported and known to the registry (the CLI check looks studies up by id)."""
    target = create(study_id, tmp_path)
    for name, old, new in edits:
        path = target / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    study = importlib.import_module(f"{study_id}.spec").STUDY
    monkeypatch.setitem(registry._registry(), study_id, study)
    return study


def problems(study, part: str) -> str:
    with pytest.raises(StudyContractError) as raised:
        check_study(study, only=(part,))
    return str(raised.value)


def test_the_template_passes_every_check_and_the_cli_says_so(tmp_path, monkeypatch, capsys):
    study = new_study(tmp_path, monkeypatch, "spam_filter")
    check_study(study)  # every part: raises on any problem
    assert main(["check", "spam_filter"]) == 0
    assert "every check passed" in capsys.readouterr().out
    assert main(["new-study", "spam_filter", "--into", str(tmp_path)]) == 2  # not over an existing one


def test_a_knob_missing_from_a_steps_declaration_is_named_with_its_fix(tmp_path, monkeypatch):
    study = new_study(
        tmp_path,
        monkeypatch,
        "forgot_a_knob",
        ("pipeline.py", '"model", ("model",), after=(WORLD,))', '"model", (), after=(WORLD,))'),
    )
    message = problems(study, "knobs")
    assert message.startswith("forgot_a_knob: knobs: step 'model'")
    assert "read knob 'model'" in message and "add 'model' to the step's knobs" in message


def test_a_lesson_the_engine_contradicts_is_named_with_the_measurement(tmp_path, monkeypatch):
    study = new_study(
        tmp_path,
        monkeypatch,
        "wrong_lesson",
        ("spec.py", 'direction="up"', 'direction="down"'),  # the first lesson: precision
    )
    message = problems(study, "lessons")
    assert message.startswith("wrong_lesson: lessons: lesson 'threshold_precision'")
    assert "fails at seed 0" in message and "Precision" in message and "rephrase the claim" in message


def test_a_placeholder_that_does_not_resolve_is_named_with_its_step(tmp_path, monkeypatch):
    study = new_study(
        tmp_path,
        monkeypatch,
        "broken_text",
        ("content/walkthrough.md", "{{latency_p99_ms}}", "{{latency_ms}}"),
    )
    message = problems(study, "content")
    assert message.startswith("broken_text: content: step 6 (Serving)")
    assert "latency_ms" in message


def test_a_part_without_its_hook_is_named(tmp_path, monkeypatch):
    study = new_study(
        tmp_path,
        monkeypatch,
        "no_probe_hook",
        ("spec.py", "from engine import Knob,", "from engine import Probe, Knob,"),
        ("spec.py", "    lessons=LESSONS,\n)", '    lessons=LESSONS,\n    probe=Probe("Type", "", "x"),\n)'),
    )
    assert "no_probe_hook: implementation: " in problems(study, "implementation")
    assert "System.probe" in problems(study, "implementation")


def test_every_real_studys_memoised_steps_are_declared():
    from engine.memo import steps_of

    for study in registry.list_studies():
        study.implementation()  # imports its modules, which declare their steps
        steps = steps_of(study.id)
        assert steps, study.id
        knob_ids = {k.id for k in study.knobs}
        for step in steps:
            assert set(step.knobs) <= knob_ids, (study.id, step.name)


def test_the_checks_are_the_documented_parts():
    documented = (Path(__file__).parents[2] / "docs" / "adding-a-study.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in documented for name in CHECKS)
