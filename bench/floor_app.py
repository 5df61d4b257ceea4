"""The smallest page with the lab's interaction (one slider in a fragment, one metric): the floor
that Streamlit, the websocket and the browser set for any slider repaint on this machine."""

import streamlit as st


@st.fragment
def panel() -> None:
    pool = st.slider("Candidate pool N", 10, 500, 200, 10)
    st.metric("Candidate recall@N", f"{pool / 1000:.3f}", border=True)


panel()
