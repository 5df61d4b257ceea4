"""A finished interview: scores per rubric dimension, the coverage map, what was missed, model
answers, the design choices not taken (run live) and the Markdown export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.content import render
from engine.interview import load_script
from engine.interview.design import Alternative, alternatives, label_of
from engine.interview.export import minutes, to_markdown
from engine.interview.scoring import DimensionScore, grade, score, verdict
from engine.interview.script import Script
from engine.interview.store import Attempt, Store
from ui import plots, runs
from ui.interview import run_design

REACHED_SECONDS = 10  # a step visited for less than this, with no answer, was never really reached


def show(store: Store, attempt: Attempt) -> None:
    script = load_script(attempt.study)
    scores = score(script, attempt.answers, attempt.level, attempt.hints, attempt.self_assessment)
    st.title(f"Your interview: {script.study.question}")
    st.caption(f"{attempt.level.capitalize()} level · attempt `{attempt.id}`")
    result = grade(script, scores, attempt.answers, attempt.elapsed, attempt.minutes)
    left, middle, right = st.columns(3)
    left.metric(
        "Overall",
        f"{result.value:.2f} / 4",
        help="Mean of the nine dimensions' scores, held down when too few steps were answered or too "
        "little of the time was used.",
        border=True,
    )
    middle.metric("Hire signal", result.signal, border=True)
    right.metric("Time used", f"{minutes(attempt.elapsed)} of {attempt.minutes}:00", border=True)
    st.markdown(result.reason)
    coverage_map(script, attempt, scores)
    score_table(scores)
    missed_points(scores)
    time_per_step(script, attempt)
    model_answers(script, attempt)
    paths_not_taken(script, attempt)
    st.download_button(
        "Download the attempt as Markdown",
        to_markdown(script, attempt, scores),
        file_name=f"mlsd-interview-{attempt.study}-{attempt.id}.md",
        mime="text/markdown",
        icon=":material/download:",
    )
    st.page_link(
        "app_pages/progress.py",
        label="See your progress and what to practise next",
        icon=":material/insights:",
    )


def coverage_map(script: Script, attempt: Attempt, scores: list[DimensionScore]) -> None:
    """Running out of time is the commonest failure: show which parts were never reached."""
    st.subheader("Coverage map", divider="gray")
    steps = {s.id: s for s in script.steps}
    badges = []
    for s in scores:
        step = steps.get(s.dimension)
        reached = (
            step is None
            or attempt.answers.get(step.id)
            or attempt.seconds.get(step.id, 0) >= REACHED_SECONDS
            or any(c.id in attempt.choices for c in step.choices)
        )
        if not reached:
            badges.append(f":gray-badge[:material/block: {s.title}: never reached]")
        elif not s.covered:
            badges.append(f":red-badge[:material/close: {s.title}: nothing covered]")
        elif s.missed:
            badges.append(
                f":orange-badge[:material/contrast: {s.title}: {len(s.covered)} of {len(s.expected)}]"
            )
        else:
            badges.append(f":green-badge[:material/check: {s.title}: all {len(s.expected)}]")
    st.markdown(" ".join(badges))


def score_table(scores: list[DimensionScore]) -> None:
    st.subheader("Scores by dimension", divider="gray")
    table = pd.DataFrame(
        {
            "Dimension": [s.title for s in scores],
            "From your text": [s.auto for s in scores],
            "Self-assessment": [s.self_score for s in scores],
            "Hints": [s.hints for s in scores],
            "Score": [s.final for s in scores],
            "Signal": [verdict(s.final) for s in scores],
        }
    )
    # Wide enough for "3.25" beside its bar: on a phone the table scrolls, the dimension pinned
    # (squeezed, the scores read "3." and "1.").
    bar = st.column_config.ProgressColumn(min_value=0, max_value=4, format="%.2f", width="medium")
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "Dimension": st.column_config.TextColumn(pinned=True),
            "From your text": bar,
            "Score": bar,
        },
        width="stretch",
    )
    st.caption(
        "*From your text*: the share of the rubric's key points for your level that your answers "
        "cover, on a 0–4 scale, minus half a point per hint. *Score*: averaged with your "
        "self-assessment, which counts up to one point above the text."
    )


def missed_points(scores: list[DimensionScore]) -> None:
    st.subheader("What you covered and what you missed", divider="gray")
    for s in scores:
        with st.expander(
            f"{s.title}: {len(s.covered)} of {len(s.expected)} points",
            expanded=bool(s.missed) and not s.covered,
        ):
            for point in s.missed:
                st.markdown(f":material/close: {point.point}")
            for point, sentence in s.covered.items():
                st.markdown(f":material/check: {point}, where you wrote:")
                st.text(sentence)  # the candidate's words: shown as text, never as Markdown or HTML


def time_per_step(script: Script, attempt: Attempt) -> None:
    st.subheader("Time per step", divider="gray")
    budgets = script.budgets(attempt.minutes)
    used = [attempt.seconds.get(s.id, 0) / 60 for s in script.steps]
    budget = [budgets[s.id] / 60 for s in script.steps]
    chart = plots.bars([s.title for s in script.steps], {"Used": used, "Budget": budget}, "minutes")
    st.plotly_chart(chart, key="time_per_step")


def model_answers(script: Script, attempt: Attempt) -> None:
    st.subheader("Your answers next to a model answer", divider="gray")
    st.caption("The model answers quote the study's reference design, measured live on the same world.")
    with st.spinner("Measuring the reference design..."):
        reference = run_design(script, attempt, script.study.defaults())
        answers = {
            step.id: render(
                step.model_answer, script.study, reference, lambda c: run_design(script, attempt, c)
            )
            for step in script.steps
        }
    for step in script.steps:
        with st.expander(step.title):
            yours, model = st.columns(2)
            yours.markdown("**You**")
            yours.text(attempt.answers.get(step.id) or "(no answer)")
            model.markdown("**Model answer**")
            model.markdown(answers[step.id])


def paths_not_taken(script: Script, attempt: Attempt) -> None:
    st.subheader("The paths not taken", divider="gray")
    live = [c for c in script.choices() if script.is_knob(c.id)]
    runs_needed = sum(len(c.options) for c in live)
    st.markdown(
        "Every option of every design choice, run on the same world with the rest of your design held, "
        "next to the one you took."
    )
    key = f"{attempt.id}.alternatives"
    if not st.session_state.get(key):
        # Run them in the background while the scores above are read: the button is then quick.
        configs = []
        alternatives(script, attempt.choices, lambda config: configs.append(config))
        runs.warm_ahead(script.study, ("alternatives", attempt.id), configs, attempt.seed, None)
        st.button(
            f"Run them ({runs_needed} configurations)",
            icon=":material/play_arrow:",
            on_click=st.session_state.__setitem__,
            args=(key, True),
        )
        return
    progress = st.progress(0.0, text="Running the alternatives...")
    done = []

    def run(config):
        done.append(config)
        progress.progress(
            len(done) / runs_needed, text=f"Running the alternatives ({len(done)} of {runs_needed})..."
        )
        return run_design(script, attempt, config)

    rows = alternatives(script, attempt.choices, run)
    progress.empty()
    study = script.study
    keys = list(dict.fromkeys([study.quality_metric, study.cost_metric, *study.headline]))[:4]
    table = pd.DataFrame(
        [
            {
                "Choice": row.choice.question,
                "Option": _option_label(row, attempt),
                **{study.metric(k).label: study.metric(k).format(row.result.metrics[k]) for k in keys},
            }
            for row in rows
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    unchosen = [c.question for c in live if c.id not in attempt.choices]
    if unchosen:
        st.caption("Choices you did not make are held at the reference design: " + ", ".join(unchosen) + ".")


def _option_label(row: Alternative, attempt: Attempt) -> str:
    label = label_of(row.choice, row.option)
    if not row.taken:
        return label
    return label + (" (yours)" if row.choice.id in attempt.choices else " (reference)")
