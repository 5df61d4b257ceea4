"""Mock interview: start one, answer step by step against the clock, then see the scores.

The attempt id lives in the URL (`?attempt=<id>`), so a reload or a restarted server resumes it."""

import streamlit as st

import engine
from engine.interview import DEFAULT_LENGTH, LENGTHS, LEVELS, has_script, load_script
from engine.interview.export import minutes
from engine.interview.scoring import score
from engine.interview.script import Script
from engine.interview.store import Attempt, NotYours, Store
from ui import db, interview, results

RATINGS = {1: "1 · very weak", 2: "2 · weak", 3: "3 · strong", 4: "4 · very strong"}


def start(store: Store) -> None:
    st.title("Mock interview")
    st.markdown(
        "A timed ML system design interview on a live case study. Answer each of the seven steps in "
        "writing, pick design options and see what they measure on the running system, answer the "
        "interviewer's follow-ups, and get a rubric score with the points you missed. Everything you "
        "type is saved as you type it: reload, close the tab or come back tomorrow."
    )
    studies = [s for s in engine.list_studies() if has_script(s)]
    ids = [s.id for s in studies]
    requested = st.query_params.get("study")
    with st.form("start"):
        study_id = st.selectbox(
            "Case study",
            ids,
            index=ids.index(requested) if requested in ids else 0,
            format_func=lambda i: engine.get_study(i).question,
        )
        left, right = st.columns(2)
        length = left.radio(
            "Length",
            LENGTHS,
            index=LENGTHS.index(DEFAULT_LENGTH),
            horizontal=True,
            format_func=lambda m: f"{m} min",
        )
        level = right.radio(
            "Level to aim for",
            LEVELS,
            index=1,
            horizontal=True,
            format_func=str.capitalize,
            help="Higher levels expect more of the rubric: a senior also quantifies trade-offs and handles "
            "drift and cold start; staff also anticipates feedback loops and business impact.",
        )
        if st.form_submit_button("Start the interview", type="primary", icon=":material/play_arrow:"):
            st.query_params.clear()
            st.query_params["attempt"] = store.create(study_id, level, length)
            st.rerun()
    unfinished = [a for a in store.attempts() if not a.finished]
    if unfinished:
        st.subheader("Pick up where you left off")
        for attempt in unfinished[:10]:
            st.page_link(
                "app_pages/interview.py",
                label=f"{engine.get_study(attempt.study).question} · {attempt.level} · "
                f"{minutes(attempt.elapsed)} of {attempt.minutes}:00 used",
                icon=":material/resume:",
                query_params={"attempt": attempt.id},
            )


def active(store: Store, attempt: Attempt) -> None:
    script = load_script(attempt.study)
    st.title(script.study.question)
    st.caption(
        f"Mock interview · {attempt.level.capitalize()} level · {attempt.minutes} minutes · "
        "answers save as you type"
    )
    index = min(attempt.step_index, len(script.steps) - 1)
    step = script.steps[index]
    interview.timer(store, script, attempt, step)
    if st.session_state.get(f"{attempt.id}.finishing"):
        self_assessment(store, script, attempt)
        return
    titles = [s.title for s in script.steps]
    chosen = st.radio(
        "Step",
        range(len(titles)),
        index=index,
        horizontal=True,
        key=f"{attempt.id}.step.{index}",
        format_func=titles.__getitem__,
        label_visibility="collapsed",
    )
    if chosen != index:
        store.set_step(attempt.id, chosen)
        st.rerun()
    st.subheader(f"{index + 1}. {step.title}", divider="gray")
    interview.step_view(store, script, attempt, step)
    back, forward, finish = st.columns([1, 1, 2])
    back.button(
        "Previous step",
        icon=":material/arrow_back:",
        disabled=index == 0,
        on_click=store.set_step,
        args=(attempt.id, index - 1),
    )
    last = index == len(script.steps) - 1
    forward.button(
        "Next step",
        icon=":material/arrow_forward:",
        type="primary",
        disabled=last,
        on_click=store.set_step,
        args=(attempt.id, index + 1),
    )
    finish.button(
        "Finish the interview",
        icon=":material/flag:",
        type="primary" if last else "secondary",
        on_click=st.session_state.__setitem__,
        args=(f"{attempt.id}.finishing", True),
    )


def self_assessment(store: Store, script: Script, attempt: Attempt) -> None:
    st.subheader("Rate yourself", divider="gray")
    st.markdown(
        "Before the scores: how did each part go, on the interviewers' four-point scale? Your rating "
        "is averaged with what your text covers, and counts up to one point above it. Leave a part "
        "unrated and only your text counts there."
    )
    with st.form("self"):
        given = {
            dimension: st.segmented_control(
                title, list(RATINGS), format_func=RATINGS.get, key=f"{attempt.id}.rate.{dimension}"
            )
            for dimension, title in script.dimensions.items()
        }
        ratings = {dimension: value for dimension, value in given.items() if value is not None}
        submitted = st.form_submit_button("See my scores", type="primary", icon=":material/grading:")
    st.button(
        "Back to the interview",
        on_click=st.session_state.__setitem__,
        args=(f"{attempt.id}.finishing", False),
    )
    if submitted:
        scores = score(script, attempt.answers, attempt.level, attempt.hints, ratings)
        store.finish(attempt.id, ratings, scores)
        st.rerun()


store = db.store()
attempt_id = st.query_params.get("attempt")
try:
    attempt = store.get(attempt_id) if attempt_id else None
except NotYours:
    st.error("This interview belongs to someone else: its link opens only for them.", icon=":material/lock:")
    st.page_link(
        "app_pages/interview.py",
        label="Start your own interview",
        icon=":material/play_arrow:",
        query_params={},
    )
    st.stop()
if not attempt_id:
    start(store)
elif attempt is None:
    st.error(
        f"There is no interview with the id `{attempt_id}` in this lab's database.", icon=":material/error:"
    )
    st.page_link(
        "app_pages/interview.py", label="Start a new interview", icon=":material/play_arrow:", query_params={}
    )
elif attempt.finished:
    results.show(store, attempt)
else:
    active(store, attempt)
