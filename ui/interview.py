"""The mock interview while it runs: timer, the interviewer's prompt, design choices run live, the
autosaving answer, hints and follow-ups. Everything typed or chosen is written to the database at once."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import streamlit as st

from engine.interview import clarify
from engine.interview.clarify import CLARIFY
from engine.interview.design import SERVING_MODE, design_config, effects, sentence, serving_sentence
from engine.interview.export import minutes
from engine.interview.followups import probe, probe_by_id, triggered
from engine.interview.hints import HINT, next_hint, shown_hints
from engine.interview.scoring import HINT_COST, PROBE
from engine.interview.script import Choice, Script, Step
from engine.interview.store import FOLLOW_UP, Attempt, Store
from engine.knobs import same_option
from engine.result import RunResult
from ui import runs
from ui.answer_box import answer_box

MAX_TICK = 90.0  # seconds; a longer gap (a sleeping laptop) is not interview time
WARNINGS = (300, 60)  # seconds left when the timer warns


def run_design(script: Script, attempt: Attempt, config: dict[str, Any]) -> RunResult:
    return runs.run_config(script.study, config, attempt.seed, None)


# -- timer ----------------------------------------------------------------------------------------
def _clock(attempt: Attempt) -> dict:
    """This session's running time per step, started from what the database holds, so a reload or
    a new server resumes the timer where it stopped."""
    return st.session_state.setdefault(
        f"{attempt.id}.clock", {"seconds": dict(attempt.seconds), "last": time.monotonic(), "warned": set()}
    )


@st.fragment(run_every=1)
def timer(store: Store, script: Script, attempt: Attempt, step: Step) -> None:
    clock = _clock(attempt)
    now = time.monotonic()
    tick = min(now - clock["last"], MAX_TICK)
    clock["last"] = now
    if tick > 0:
        clock["seconds"][step.id] = clock["seconds"].get(step.id, 0.0) + tick
        store.add_time(attempt.id, step.id, tick)
    used = sum(clock["seconds"].values())
    total = 60.0 * attempt.minutes
    budget = script.budgets(attempt.minutes)[step.id]
    on_step = clock["seconds"].get(step.id, 0.0)
    left, middle = st.columns(2)
    left.progress(min(used / total, 1.0), text=f"Interview time {minutes(used)} of {attempt.minutes}:00")
    middle.progress(
        min(on_step / budget, 1.0),
        text=f"{step.title}: {minutes(on_step)} of a {minutes(budget)} budget"
        + (" (over budget: move on)" if on_step > budget else ""),
    )
    for mark in WARNINGS:
        if total - used <= mark and mark not in clock["warned"]:
            clock["warned"].add(mark)
            st.toast(f"{mark // 60} minute{'s' if mark > 60 else ''} left.", icon=":material/timer:")
    if used >= total:
        st.warning(
            "Time is up. Wrap up and finish: the scores show which steps you never reached.",
            icon=":material/timer_off:",
        )


# -- one step ---------------------------------------------------------------------------------------
def step_view(store: Store, script: Script, attempt: Attempt, step: Step) -> None:
    with st.chat_message("assistant", avatar=":material/record_voice_over:"):
        st.markdown(step.prompt)
    if step.choices:
        choices_panel(store, script, attempt, step)
    answer(store, attempt, step.id, "Your answer", 220)
    clarifications_panel(store, script, attempt)
    hints_panel(store, script, attempt, step)
    followups_panel(store, script, attempt, step)


def clarifications_panel(store: Store, script: Script, attempt: Attempt) -> None:
    """Ask the interviewer: answers come from the study's live world, and every question is kept
    (asking the right ones is part of the requirements step)."""
    asked = [(slot, text) for slot, text in attempt.answers.items() if slot.startswith(CLARIFY)]
    with st.expander(f"Ask the interviewer a clarifying question ({len(asked)} asked)", expanded=bool(asked)):
        reference = run_design(script, attempt, script.study.defaults())
        for _, question in asked:
            with st.chat_message("user"):
                st.text(question)  # the candidate's words, never rendered as Markdown
            with st.chat_message("assistant", avatar=":material/record_voice_over:"):
                st.markdown(reply(script, attempt, question, reference)[1])
        with st.form(f"{attempt.id}.clarify", clear_on_submit=True, border=False):
            question = st.text_input("Your question", max_chars=300, placeholder="How many users do we have?")
            if st.form_submit_button("Ask", icon=":material/help:") and question.strip():
                store.save_answer(attempt.id, f"{CLARIFY}{len(asked) + 1:03d}", question.strip())
                st.rerun()


def reply(script: Script, attempt: Attempt, question: str, reference: RunResult) -> tuple[str | None, str]:
    return clarify.answer(script, question, reference, lambda config: run_design(script, attempt, config))


def answer(store: Store, attempt: Attempt, slot: str, label: str, height: int) -> None:
    key = f"{attempt.id}.answer.{slot}"
    answer_box(
        label,
        key=key,
        value=attempt.answers.get(slot, ""),
        height=height,
        on_change=partial(_save_answer, store, attempt.id, slot, key),
    )


def _save_answer(store: Store, attempt_id: str, slot: str, key: str) -> None:
    store.save_answer(attempt_id, slot, st.session_state[key]["text"])


def choices_panel(store: Store, script: Script, attempt: Attempt, step: Step) -> None:
    with st.container(border=True):
        st.markdown("**Your design choices**")
        for choice in step.choices:
            _choice_widget(store, attempt, choice)
        live = [c for c in step.choices if script.is_knob(c.id) and c.id in attempt.choices]
        mode = attempt.choices.get(SERVING_MODE) if any(c.id == SERVING_MODE for c in step.choices) else None
        if mode is not None:
            with st.spinner("Measuring batch and online inference on your design…"):
                text = serving_sentence(script, mode, design_config(script, attempt.choices), attempt.seed)
            st.caption(f"**{script.choice(SERVING_MODE).question}** {text}")
        if not live:
            st.caption("Pick an option and the lab runs your design on the study's world.")
            return
        design = design_config(script, attempt.choices)
        with st.spinner("Running your design on the live system..."):
            chosen = run_design(script, attempt, design)
            reference = run_design(script, attempt, script.study.defaults())
        columns = st.columns(2)
        for column, effect in zip(columns, effects(script, chosen, reference), strict=True):
            column.metric(
                f"Your design: {effect.label}",
                effect.value,
                delta=effect.delta or None,
                # As on the study page: green when the metric moved the good way, whatever the sign.
                delta_color="normal" if effect.better == effect.delta.startswith("+") else "inverse",
                help="Against the study's reference design, on the same seeded world.",
            )
        for choice in live:
            default = script.study.knob(choice.id).default
            other = run_design(script, attempt, {**design, choice.id: default})
            st.caption(
                f"**{choice.question}**: "
                + sentence(choice, design[choice.id], default, effects(script, chosen, other, choice.shows))
            )


def _choice_widget(store: Store, attempt: Attempt, choice: Choice) -> None:
    key = f"{attempt.id}.choice.{choice.id}"
    current = attempt.choices.get(choice.id)
    index = next(
        (i for i, o in enumerate(choice.options) if current is not None and same_option(current, o)), None
    )
    st.radio(
        choice.question,
        range(len(choice.options)),
        index=index,
        format_func=lambda i: choice.labels[i],
        horizontal=True,
        key=key,
        on_change=lambda: store.set_choice(attempt.id, choice.id, choice.options[st.session_state[key]]),
    )


def hints_panel(store: Store, script: Script, attempt: Attempt, step: Step) -> None:
    shown = shown_hints(attempt.answers, step.id)
    for index in shown:
        st.info(step.hints[index], icon=":material/lightbulb:")
    upcoming = next_hint(script, step, attempt.answers.get(step.id, ""), shown, attempt.level)
    if upcoming is not None:
        st.button(
            f"Ask for a hint (costs {HINT_COST:g} points on {script.dimensions[step.id].lower()})",
            icon=":material/lightbulb:",
            key=f"{attempt.id}.hint.{step.id}",
            on_click=_take_hint,
            args=(store, attempt.id, step.id, upcoming),
        )
    elif len(shown) < len(step.hints):
        st.caption("Your answer already covers what the remaining hints would point you to.")


def _take_hint(store: Store, attempt_id: str, step_id: str, index: int) -> None:
    store.take_hint(attempt_id, step_id)
    store.save_answer(attempt_id, f"{HINT}{step_id}:{index}", "")


def followups_panel(store: Store, script: Script, attempt: Attempt, step: Step) -> None:
    asked = attempt.asked()
    new = triggered(script, step.id, attempt.answers, attempt.choices)
    if not any(a.startswith(f"{PROBE}{step.id}-") for a in asked):  # one probe per step
        new += [p for p in [probe(script, step.id, attempt.answers, attempt.level)] if p]
    for followup in new:
        if followup.id not in asked:
            store.ask(attempt.id, followup.id)  # stays asked even if the choice behind it changes
            asked.append(followup.id)
    scripted = {f.id: f for f in script.followups}
    for followup_id in asked:
        followup = scripted.get(followup_id) or probe_by_id(script, followup_id)
        if followup is not None and followup.step == step.id:
            with st.chat_message("assistant", avatar=":material/record_voice_over:"):
                st.markdown(f"**Follow-up:** {followup.ask}")
            answer(store, attempt, FOLLOW_UP + followup_id, "Your answer to the follow-up", 130)
