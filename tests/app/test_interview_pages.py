"""The mock interview and progress pages in AppTest, on a fresh database per test."""

import pytest
from sqlalchemy import create_engine
from streamlit.proto.Metric_pb2 import Metric as MetricProto

import engine
from engine.interview.store import Store
from tests.app.pages import open_page

INTERVIEW, PROGRESS = "app_pages/interview.py", "app_pages/progress.py"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    monkeypatch.setenv("MLSD_LAB_DB", url)
    return Store(create_engine(url))


def button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


def type_answer(at, slot, text):
    """What the answer box sends after the candidate pauses typing."""
    key = f"{at.query_params['attempt']}.answer.{slot}"
    at.session_state[key] = {"text": text}
    at.run()
    assert not at.exception, at.exception


def test_starting_an_interview_puts_its_id_in_the_url_and_the_database(store):
    at = open_page(INTERVIEW, study="fraud")
    assert at.selectbox[0].value == "fraud"  # preselected from ?study=
    at.button[0].click().run()
    attempt_id = at.query_params["attempt"]
    attempt = store.get(attempt_id)
    assert (attempt.study, attempt.level, attempt.minutes) == ("fraud", "senior", 45)
    assert at.title[0].value == "Design a fraud detection pipeline for PayPal"
    assert at.subheader[0].value == "1. Clarify requirements"
    assert at.get("bidi_component")[0].value == {"text": ""}


def test_answers_save_as_typed_and_a_new_session_resumes_them(store):
    attempt_id = store.create("recommendation", "senior", 30)
    at = open_page(INTERVIEW, attempt=attempt_id)
    type_answer(at, "requirements", "Goal: watch time. " + XSS)
    button(at, "Next step").click().run()
    answers = store.get(attempt_id).answers
    assert answers["requirements"] == "Goal: watch time. " + XSS
    # The next step opens with a probe into what that answer missed, asked once and kept.
    assert [slot for slot in answers if slot != "requirements"] == ["followup:probe-framing-0"]
    assert any("Back to *clarify requirements*" in m.value for m in at.markdown)
    assert store.get(attempt_id).step_index == 1

    again = open_page(INTERVIEW, attempt=attempt_id)  # a reload: a new session on the same URL
    assert again.subheader[0].value == "2. Frame as an ML task"
    button(again, "Previous step").click().run()
    box = again.get("bidi_component")[0]
    assert box.value == {"text": "Goal: watch time. " + XSS}
    assert all(XSS not in m.value for m in again.markdown)  # never rendered as Markdown or HTML


def test_a_design_choice_runs_live_and_triggers_its_follow_up(store):
    attempt_id = store.create("recommendation", "senior", 45)
    store.set_step(attempt_id, 3)  # Model
    at = open_page(INTERVIEW, attempt=attempt_id)
    at.radio(key=f"{attempt_id}.choice.ranker").set_value(0).run()  # no ranker
    assert store.get(attempt_id).choices == {"ranker": "none"}
    quality = next(m for m in at.metric if m.label == "Your design: nDCG@10")
    cost = next(m for m in at.metric if m.label == "Your design: Serving cost")
    assert quality.delta.startswith("-") and cost.delta.startswith("-")
    # Worse quality shows red, a lower cost green: the colour follows the metric, not the sign.
    assert (quality.proto.color, cost.proto.color) == (
        MetricProto.MetricColor.RED,
        MetricProto.MetricColor.GREEN,
    )
    assert any("Against gradient-boosted trees (the reference): nDCG@10 -" in c.value for c in at.caption)

    store.set_step(attempt_id, 5)  # Serving
    at = open_page(INTERVIEW, attempt=attempt_id)
    assert not any("Traffic spikes" in m.value for m in at.markdown)
    at.radio(key=f"{attempt_id}.choice.serving_mode").set_value(1).run()  # online
    assert any("Traffic spikes 10x" in m.value for m in at.markdown)
    assert "spike" in store.get(attempt_id).asked()
    assert len(at.get("bidi_component")) == 2 + 1  # the answer and two follow-ups: spike, no_latency


def test_hints_are_recorded_and_shown(store):
    attempt_id = store.create("search", "junior", 60)
    at = open_page(INTERVIEW, attempt=attempt_id)
    assert not at.info
    button(at, "Ask for a hint").click().run()
    assert len(at.info) == 1
    assert store.get(attempt_id).hints == {"requirements": 1}
    button(at, "Ask for a hint").click().run()
    assert len(at.info) == 2 and not [b for b in at.button if b.label.startswith("Ask for a hint")]


def test_finishing_scores_the_attempt_and_fills_the_progress_page(store):
    attempt_id = store.create("recommendation", "senior", 45)
    store.save_answer(
        attempt_id, "requirements", "The business goal is engagement. I assume 100M users, " + XSS
    )
    store.save_answer(attempt_id, "evaluation", "nDCG@10 offline, then an A/B test.")
    at = open_page(INTERVIEW, attempt=attempt_id)
    button(at, "Finish the interview").click().run()
    assert at.subheader[0].value == "Rate yourself"
    assert len(at.button_group) == 9 and all(g.value is None for g in at.button_group)  # no default
    at.button_group[0].set_value(4)  # rate only the requirements
    at.button[0].click().run()  # "See my scores"
    assert not at.exception, at.exception
    assert store.get(attempt_id).finished
    assert at.title[0].value.startswith("Your interview")
    overall = next(m for m in at.metric if m.label == "Overall")
    assert 0 < float(overall.value.split()[0]) < 1.5  # two steps in no time: held down, and said why
    assert any("held down because only 2 of 7 steps answered" in m.value for m in at.markdown)
    assert store.get(attempt_id).self_assessment == {"requirements": 4}
    coverage = next(m.value for m in at.markdown if "badge" in m.value)
    assert "Deployment, monitoring and iteration: never reached" in coverage
    assert any(XSS in t.value for t in at.text)  # quoted as evidence, as plain text
    assert all(XSS not in m.value for m in at.markdown)
    assert at.get("download_button")
    assert len(at.get("plotly_chart")) == 1 and not at.get("echarts_chart")  # drawn once: plotly

    progress = open_page(PROGRESS)
    assert len(progress.get("plotly_chart")) == 2  # scores over time, time per step
    assert next(m for m in progress.metric if m.label == "Interviews finished").value == "1"
    weakest = next(m for m in progress.metric if m.label == "Weakest dimension")
    # Requirements and evaluation were answered; of the dimensions left at zero, the rubric's first.
    assert weakest.value == "ML problem formulation"
    assert len(store.practice()) == 9


def test_the_interviewer_answers_a_clarifying_question_with_live_numbers(store):
    attempt_id = store.create("fraud", "senior", 45)
    at = open_page(INTERVIEW, attempt=attempt_id)
    at.text_input[0].set_value("How rare is fraud here? " + XSS)
    next(b for b in at.button if b.label == "Ask").click().run()
    assert not at.exception, at.exception
    rate = (
        engine.get_study("fraud")
        .metric("fraud_rate")
        .format(engine.run("fraud", {}, 0).metrics["fraud_rate"])
    )
    assert any(f"Fraud is rare: {rate}" in m.value for m in at.markdown)
    assert any(XSS in t.value for t in at.text) and all(XSS not in m.value for m in at.markdown)
    assert list(store.get(attempt_id).answers.values()) == ["How rare is fraud here? " + XSS]
    at.text_input[0].set_value("Which office do you work in?")
    next(b for b in at.button if b.label == "Ask").click().run()
    assert any("not something I can tell you" in m.value for m in at.markdown)


def test_an_unknown_attempt_id_gets_a_clear_message(store):
    at = open_page(INTERVIEW, attempt="nope")
    assert "no interview with the id `nope`" in at.error[0].value


def test_the_progress_page_invites_a_first_interview(store):
    at = open_page(PROGRESS)
    assert "No interviews yet" in at.info[0].value


def test_an_attempt_link_opened_by_another_signed_in_person_is_refused(store, monkeypatch):
    from ui import db

    attempt_id = store.create("fraud", "senior", 45)  # made without sign-in: owner ''
    monkeypatch.setattr(db, "current_owner", lambda: "bob@example.com")  # as if Bob signed in
    at = open_page(INTERVIEW, attempt=attempt_id)
    assert "belongs to someone else" in at.error[0].value
    assert not at.get("bidi_component")  # none of the attempt's answers reach Bob's page
    progress = open_page("app_pages/progress.py")
    assert not progress.exception
    assert all(attempt_id not in m.value for m in progress.markdown)
