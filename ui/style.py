"""The lab's few style rules, for phones: Streamlit stacks columns on a narrow screen in their order,
so the study page's knob column (about 1,500 px of knobs) pushed every result below the fold; and it
moves the top navigation into the collapsed sidebar, behind a "»" a new user does not open."""

from __future__ import annotations

import streamlit as st

PHONE = "@media (max-width: 640px)"
RULES = f"""
<style>
[class*="st-key-phone_only"] {{ display: none; }}
{PHONE} {{
  /* Results first, then the knobs that produced them. */
  [data-testid="stColumn"]:has(.st-key-knob_panel) {{ order: 2; }}
  /* The pages as a row of links at the top, where the top navigation is on a laptop. */
  [class*="st-key-phone_only"] {{ display: flex; }}
}}
</style>
"""


def phone_navigation(pages) -> None:
    """The pages as links at the top of every page, shown on phones only (any container whose key
    starts with `phone_only` is). The rules ride in the same container, ahead of the links: a
    separate style element arrived after them on a warm server, and the row flashed on laptops."""
    with st.container(key="phone_only_navigation", horizontal=True, gap="small"):
        st.markdown(RULES, unsafe_allow_html=True)
        for page in pages:
            st.page_link(page, label=page.title, icon=page.icon)
