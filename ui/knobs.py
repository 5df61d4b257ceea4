"""One widget per knob, bound to the URL so a link reproduces the configuration."""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine.knobs import Knob
from engine.study import Study


def widget_key(study: Study, knob: Knob) -> str:
    return f"{study.id}.{knob.id}"


def knob_panel(study: Study, uploaded: bool) -> dict[str, Any]:
    """Draw every knob and return the configuration they describe."""
    config = {}
    for knob in study.knobs:
        disabled = uploaded and knob.world
        help_text = knob.trades + (" (Applies to the simulated world only.)" if disabled else "")
        config[knob.id] = _widget(knob, widget_key(study, knob), help_text, disabled)
    return config


def _widget(knob: Knob, key: str, help_text: str, disabled: bool) -> Any:
    common = {"key": key, "help": help_text, "disabled": disabled, "bind": "query-params"}
    if knob.is_switch:
        return st.toggle(knob.label, value=knob.default, **common)
    if knob.is_choice and all(isinstance(o, str) for o in knob.options):
        return st.selectbox(knob.label, knob.options, index=knob.options.index(knob.default), **common)
    if knob.is_choice:
        return st.select_slider(
            knob.label, knob.options, value=knob.default, format_func=lambda v: f"{v:g}{knob.unit}", **common
        )
    return st.slider(knob.label, knob.low, knob.high, knob.default, knob.step, **common)


def reset_knobs(study: Study) -> None:
    """Button callback: every knob back to its default."""
    for knob in study.knobs:
        st.session_state[widget_key(study, knob)] = knob.default
