"""Streamlit views shared by every study page. The engine does the work; this only draws it."""
