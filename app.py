"""MLSD Lab: navigation only. Pages live in app_pages/, the work in engine/ and case_studies/."""

from pathlib import Path

import streamlit as st

from ui import style

# A local icon: a Material icon as the favicon is fetched from fonts.gstatic.com, and the lab runs offline.
ICON = Path(__file__).parent / "ui" / "assets" / "favicon.png"
st.set_page_config(page_title="MLSD Lab", page_icon=str(ICON), layout="wide")
PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/study.py", title="Case studies", icon=":material/science:", url_path="study"),
    st.Page(
        "app_pages/interview.py",
        title="Mock interview",
        icon=":material/record_voice_over:",
        url_path="interview",
    ),
    st.Page("app_pages/production.py", title="Production", icon=":material/dns:", url_path="production"),
    st.Page("app_pages/progress.py", title="Progress", icon=":material/insights:", url_path="progress"),
]
navigation = st.navigation(PAGES, position="top")
style.phone_navigation(PAGES)
navigation.run()
