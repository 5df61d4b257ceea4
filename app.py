"""MLSD Lab: navigation only. Pages live in app_pages/, the work in engine/ and case_studies/."""

import streamlit as st

st.set_page_config(page_title="MLSD Lab", page_icon=":material/hub:", layout="wide")
navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/study.py", title="Case studies", icon=":material/science:", url_path="study"),
    ],
    position="top",
)
navigation.run()
