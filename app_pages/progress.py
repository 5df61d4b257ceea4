"""Progress over weeks: attempts, scores per dimension over time, time per step, the weakest
dimension and a spaced-repetition plan of what to practise next."""

import time
from collections import defaultdict

import pandas as pd
import streamlit as st

import engine
from engine.interview import load_script
from engine.interview.export import minutes
from engine.interview.plan import plan, practice_step, weakest
from engine.interview.scoring import verdict
from ui import db, plots


def started(attempt) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(attempt.created_at))


store = db.store()
st.title("Your progress")
attempts = store.attempts()
if not attempts:
    st.info(
        "No interviews yet. Your attempts, scores and a practice plan will appear here.",
        icon=":material/insights:",
    )
    st.page_link("app_pages/interview.py", label="Start a mock interview", icon=":material/play_arrow:")
    st.stop()

rows = store.scores()
dimension_titles = load_script(attempts[0].study).dimensions
finished = [a for a in attempts if a.finished]
left, middle, right = st.columns(3)
left.metric("Interviews finished", len(finished), border=True)
middle.metric("Time practised", minutes(sum(a.elapsed for a in attempts)), border=True)
if rows:
    focus = weakest(store.practice(), time.time())
    if focus is not None:
        right.metric(
            "Weakest dimension",
            dimension_titles[focus.dimension],
            help=f"Scored {focus.last_score:.2f} / 4 last time in {engine.get_study(focus.study).title}: the "
            "lowest of the items due now, the same rule that picks what to practise next.",
            border=True,
        )

st.subheader("What to practise next", divider="gray")
now = time.time()
reviews = plan(store.practice(), now)
if not reviews:
    st.caption(
        "Finish an interview and the plan fills in: weak dimensions come back the next day, "
        "strong ones later."
    )
else:
    first = weakest(reviews, now)
    study = engine.get_study(first.study)
    step_title = load_script(first.study).step(practice_step(first.dimension)).title
    st.page_link(
        "app_pages/interview.py",
        label=f"Next: {study.question}, and put most of your time into *{step_title}* "
        f"({dimension_titles[first.dimension].lower()}, last {first.last_score:.2f})",
        icon=":material/play_arrow:",
        query_params={"study": first.study},
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Study": [engine.get_study(r.study).title for r in reviews],
                "Practise in step": [
                    load_script(r.study).step(practice_step(r.dimension)).title for r in reviews
                ],
                "Dimension": [dimension_titles[r.dimension] for r in reviews],
                "Last score": [r.last_score for r in reviews],
                "Due": [
                    "now" if r.is_due(now) else time.strftime("%Y-%m-%d", time.localtime(r.due_at))
                    for r in reviews
                ],
                "Next gap (days)": [r.interval_days for r in reviews],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "Spaced repetition: a dimension below *strong* (2.5) comes back the next day; each time it "
        "holds up, the gap grows."
    )

if rows:
    st.subheader("Scores over time", divider="gray")
    studied = list(dict.fromkeys(a.study for a in finished))  # newest first
    shown = st.selectbox(
        "Study", studied, format_func=lambda i: engine.get_study(i).title, key="progress.study"
    )
    of_study = {a.id for a in finished if a.study == shown}
    order = [a.id for a in sorted(finished, key=lambda a: a.created_at) if a.id in of_study]
    labels = {a.id: started(a) for a in finished if a.id in of_study}  # one time base: the start
    finals = {(r["attempt_id"], r["dimension"]): r["final"] for r in rows}
    scores = {title: [finals.get((a, d)) for a in order] for d, title in dimension_titles.items()}
    chart = plots.lines([labels[a] for a in order], scores, "score (0-4)", (0, 4.1))
    st.plotly_chart(chart, key="scores_over_time")

st.subheader("Time per step", divider="gray")
steps = load_script(attempts[0].study).steps
mean_minutes = [sum(a.seconds.get(s.id, 0) for a in attempts) / len(attempts) / 60 for s in steps]
chart = plots.bars([s.title for s in steps], {"Mean minutes per attempt": mean_minutes}, "minutes")
st.plotly_chart(chart, key="progress_time")

st.subheader("Attempts", divider="gray")
overall_by_attempt = defaultdict(list)
for row in rows:
    overall_by_attempt[row["attempt_id"]].append(row["final"])
st.dataframe(
    pd.DataFrame(
        {
            "Started": [started(a) for a in attempts],
            "Study": [engine.get_study(a.study).title for a in attempts],
            "Level": [a.level for a in attempts],
            "Time used": [f"{minutes(a.elapsed)} of {a.minutes}:00" for a in attempts],
            "Overall": [
                f"{sum(v) / len(v):.2f} ({verdict(sum(v) / len(v))})"
                if (v := overall_by_attempt.get(a.id))
                else "in progress"
                for a in attempts
            ],
            "Open": [f"/interview?attempt={a.id}" for a in attempts],
        }
    ),
    hide_index=True,
    width="stretch",
    column_config={"Open": st.column_config.LinkColumn(display_text="Open")},
)
