"""One widget per knob, bound to the URL so a link reproduces the configuration."""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine.knobs import Knob, KnobError
from engine.study import Study


def widget_key(study: Study, knob: Knob) -> str:
    return f"{study.id}.{knob.id}"


def knob_panel(study: Study, uploaded: bool) -> dict[str, Any]:
    """Draw every knob and return the configuration they describe."""
    current = _current(study)
    config = {}
    for knob in study.knobs:
        idle = (
            "Applies to the simulated world only." if uploaded and knob.world else knob.idle_reason(current)
        )
        help_text = knob.trades + (f" (Does nothing now: {idle})" if idle else "")
        config[knob.id] = _widget(knob, widget_key(study, knob), help_text, idle is not None)
        if idle and not (uploaded and knob.world):
            st.caption(f"{knob.label} does nothing now: {idle}")
    return config


def _current(study: Study) -> dict[str, Any]:
    """The values the widgets are about to take (session, else the link, else the default), so a
    knob drawn before the one it depends on can still tell it is idle."""
    values = {}
    for knob in study.knobs:
        key = widget_key(study, knob)
        if key in st.session_state:
            values[knob.id] = st.session_state[key]
            continue
        try:
            values[knob.id] = knob.validate(st.query_params.get(key, knob.default))
        except KnobError:
            values[knob.id] = knob.default
    return values


def _widget(knob: Knob, key: str, help_text: str, disabled: bool) -> Any:
    common = {"key": key, "help": help_text, "disabled": disabled, "bind": "query-params"}
    if knob.is_switch:
        return st.toggle(knob.label, value=knob.default, **common)
    if knob.is_choice and all(isinstance(o, str) for o in knob.options):
        return st.selectbox(knob.label, knob.options, index=knob.options.index(knob.default), **common)
    if knob.is_choice:
        return st.select_slider(
            knob.label, knob.options, value=knob.default, format_func=knob.format_value, **common
        )
    return st.slider(knob.label, knob.low, knob.high, knob.default, knob.step, **common)


def reset_knobs(study: Study) -> None:
    """Button callback: every knob back to its default."""
    for knob in study.knobs:
        st.session_state[widget_key(study, knob)] = knob.default


def link_warning(study: Study) -> None:
    """Say which values a shared link asked for that the knobs cannot take (a typo, a link from an
    older version): the widgets fall back to their defaults silently. Kept for the session, since
    the widgets rewrite the URL with the values they use."""
    key = f"{study.id}.link_problems"
    if key not in st.session_state:
        problems = []
        for knob in study.knobs:
            raw = st.query_params.get(widget_key(study, knob))
            if raw is None:
                continue
            try:
                knob.validate(raw)
            except KnobError:
                problems.append(f"{knob.label} = `{raw}` (expected {knob.describe_range()})")
        st.session_state[key] = problems
    if st.session_state[key]:
        st.warning(
            "This link asked for values the knobs cannot take, so their defaults are used: "
            + "; ".join(st.session_state[key])
            + ".",
            icon=":material/link_off:",
        )
