import streamlit as st

import engine

st.title("MLSD Lab")
st.markdown(
    "**The machine-learning system design interview, runnable.** Books describe these systems in "
    "boxes and arrows; here every case study is a small, live, seeded system. Move a trade-off "
    "knob and the lab retrains, serves and measures it, so *justify your trade-offs* becomes "
    "*here is the number*."
)
left, middle, right, last = st.columns(4)
left.markdown(
    "##### :material/route: Walk the 7 steps\nRequirements, framing, data, model, "
    "evaluation, serving, monitoring, with numbers taken from the running system."
)
middle.markdown(
    "##### :material/tune: Move the knobs\nQuality, latency, cost and a simulated A/B "
    "test change against a pinned baseline; every configuration lands on a Pareto chart."
)
right.markdown(
    "##### :material/account_tree: See the system\nThe architecture graph is drawn from "
    "the real pipeline, with each stage's measured latency per request."
)
last.markdown(
    "##### :material/record_voice_over: Rehearse the interview\nA timed mock interview on any study: "
    "your design choices run live, follow-ups react to them, and a rubric shows what you missed."
)
st.page_link("app_pages/interview.py", label="Start a mock interview", icon=":material/play_arrow:")

st.subheader("Case studies")
for study in engine.list_studies():
    with st.container(border=True):
        st.markdown(f"**{study.question}**")
        st.write(study.summary)
        st.page_link(
            "app_pages/study.py",
            label=f"Open {study.title.lower()}",
            icon=":material/arrow_forward:",
            query_params={"study": study.id},
        )
st.caption("Everything runs on this machine, offline. Same seed and same knobs give the same metrics.")
