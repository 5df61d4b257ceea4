"""One widget per knob, bound to the URL so a link reproduces the configuration, and remembered for
the session so the configuration follows the learner to the Production page and back."""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine.knobs import Knob, KnobError
from engine.study import Dataset, Study, data_limits
from ui.state import Scope, link_key, study_page


def widget_key(study: Study, knob: Knob) -> str:
    return link_key(study.id, knob.id)


def _memory(study: Study) -> Scope:
    return Scope(study.id, "knobs")


def knob_panel(study: Study, data: Dataset | None) -> dict[str, Any]:
    """Draw every knob and return the configuration they describe."""
    _spell_switches_as_buttons(study)
    _restore(study)
    current = current_config(study)
    uploaded, limits = data is not None, data_limits(data)
    config = {}
    for knob in study.knobs:
        idle = (
            "Applies to the simulated world only." if uploaded and knob.world else knob.idle_reason(current)
        )
        help_text = knob.trades + (f" (Does nothing now: {idle})" if idle else "")
        config[knob.id] = _widget(knob, widget_key(study, knob), help_text, idle is not None)
        if idle and not (uploaded and knob.world):
            st.caption(f"{knob.label} does nothing now: {idle}")
        elif knob.id in limits and config[knob.id] > limits[knob.id][0]:
            limit, reason = limits[knob.id]
            above = knob.format_value(limit)
            st.caption(f"{knob.label} changes nothing above {above} on your data: {reason}.")
    _memory(study)["config"] = config
    return config


def _restore(study: Study) -> None:
    """Knobs the learner set on an earlier visit to the page take those values again: Streamlit drops
    a widget's state when another page runs, and the top navigation's links carry no URL values."""
    kept = _memory(study).get("config") or {}
    for knob in study.knobs:
        key = widget_key(study, knob)
        if knob.id in kept and key not in st.session_state and key not in st.query_params:
            st.session_state[key] = _to_widget(knob, kept[knob.id])


def current_config(study: Study) -> dict[str, Any]:
    """The values the widgets are about to take, or took when last drawn (session, else the link,
    else what the study page last used, else the default), so a knob drawn before the one it depends
    on can still tell it is idle, and the Production page registers the design the learner built."""
    kept = _memory(study).get("config") or {}
    values = {}
    for knob in study.knobs:
        key = widget_key(study, knob)
        if key in st.session_state:
            values[knob.id] = _from_widget(knob, st.session_state[key])
        elif key not in st.query_params and knob.id in kept:
            values[knob.id] = kept[knob.id]
        else:
            values[knob.id], _ = _from_link(study, knob)
    return values


def _from_link(study: Study, knob: Knob) -> tuple[Any, str | None]:
    """The value a shared link gives `knob` (its default when the link names none, or names one the
    knob cannot take) and, for the latter, what was wrong, for the user."""
    raw = st.query_params.get(widget_key(study, knob))
    if raw is None:
        return knob.default, None
    try:
        return knob.validate(raw), None
    except KnobError:
        return knob.default, f"{knob.label} = `{raw}` (expected {knob.describe_range()})"


def _widget(knob: Knob, key: str, help_text: str, disabled: bool) -> Any:
    common = {"key": key, "help": help_text, "disabled": disabled, "bind": "query-params"}
    if knob.is_switch:
        # On/off buttons under a label, not a toggle: a toggle's label is cut to one line, which in
        # the knob column left "Features: card …" (its label above wraps, as every other knob's does).
        choice = st.segmented_control(
            knob.label, SWITCH_OPTIONS, default=_to_widget(knob, knob.default), required=True, **common
        )
        return _from_widget(knob, choice)
    if knob.is_choice and all(isinstance(o, str) for o in knob.options):
        return st.selectbox(knob.label, knob.options, index=knob.options.index(knob.default), **common)
    if knob.is_choice:
        return st.select_slider(
            knob.label, knob.options, value=knob.default, format_func=knob.format_value, **common
        )
    return st.slider(knob.label, knob.low, knob.high, knob.default, knob.step, **common)


SWITCH_OPTIONS = ("on", "off")


def _to_widget(knob: Knob, value: Any) -> Any:
    """A knob's value as its widget holds it: a switch's buttons hold "on" or "off"."""
    return knob.format_value(value) if knob.is_switch else value


def _from_widget(knob: Knob, value: Any) -> Any:
    return value == "on" if knob.is_switch else value


def _spell_switches_as_buttons(study: Study) -> None:
    """A link's switch written another way ("true", "1": links made before the on/off buttons)
    sets the button it means: the bound widget itself reads only "on" or "off"."""
    for knob in study.knobs:
        key = widget_key(study, knob)
        value, problem = _from_link(study, knob)
        if knob.is_switch and not problem and st.query_params.get(key) not in (None, *SWITCH_OPTIONS):
            st.session_state.setdefault(key, _to_widget(knob, value))


def reset_knobs(study: Study) -> None:
    """Button callback: every knob back to its default."""
    for knob in study.knobs:
        st.session_state[widget_key(study, knob)] = _to_widget(knob, knob.default)


def link_warning(study: Study) -> None:
    """Say which values a shared link asked for that the knobs cannot take (a typo, a link from an
    older version): the widgets fall back to their defaults silently. Kept for the session, since
    the widgets rewrite the URL with the values they use."""
    page = study_page(study.id)
    if page.link_problems is None:
        page.link_problems = [problem for k in study.knobs if (problem := _from_link(study, k)[1])]
    if page.link_problems:
        st.warning(
            "This link asked for values the knobs cannot take, so their defaults are used: "
            + "; ".join(page.link_problems)
            + ".",
            icon=":material/link_off:",
        )


def seed_input(study: Study) -> int:
    """The random seed, bound to the URL and remembered for the session like a knob."""
    key = link_key(study.id, "seed")
    kept = _memory(study).get("seed")
    if kept is not None and key not in st.session_state and key not in st.query_params:
        st.session_state[key] = kept
    seed = st.number_input(
        "Random seed",
        0,
        9999,
        0,
        key=key,
        bind="query-params",
        help="Same seed and knobs give the same metrics; change it to see the noise.",
    )
    _memory(study)["seed"] = int(seed)
    return int(seed)


def current_seed(study: Study) -> int:
    """The seed the study page uses now, or used when last drawn."""
    key = link_key(study.id, "seed")
    if key in st.session_state:
        return int(st.session_state[key])
    return int(_memory(study).get("seed") or 0)
