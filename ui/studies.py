"""Choosing a study, the same way on every page that has a study picker, and keeping the choice
when the learner moves between pages."""

from __future__ import annotations

import streamlit as st

import engine
from engine.study import Study

CHOSEN = "chosen_study"  # not a widget's key: Streamlit drops a widget's state on a page switch


def pick_study() -> Study:
    """The study named by `?study=<id>`, else the one last chosen on any page of this session (the
    top navigation's links carry no query parameters), else the flagship. Synced by hand: a bound
    selectbox would put the formatted title, not the id, into the URL."""
    studies = {s.id: s for s in engine.list_studies()}
    ids = list(studies)
    requested = st.query_params.get("study")
    wanted = requested if requested in ids else st.session_state.get(CHOSEN)
    chosen = st.sidebar.selectbox(
        "Case study",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        key="study",
        format_func=lambda i: studies[i].title,
    )
    if requested is not None and requested not in ids and st.session_state.get("study.unknown") is None:
        st.session_state["study.unknown"] = requested  # the selectbox rewrites the URL: keep the message
    unknown = st.session_state.get("study.unknown")
    if unknown is not None and chosen == ids[0]:
        st.warning(
            f"There is no case study called `{unknown}`; showing {studies[chosen].title}. "
            f"The studies are: {', '.join(ids)}.",
            icon=":material/link_off:",
        )
    st.session_state[CHOSEN] = chosen
    st.query_params["study"] = chosen
    return studies[chosen]
