"""Production: register model versions, serve one on a real local endpoint, load-test it, compare
batch and online inference, plan capacity, release a challenger by shadow and canary, and monitor a
serving period for drift, all from measurements of the running system and its simulated world.

A dispatcher: each view is a module of ui/production/."""

import streamlit as st

from engine.data import DataError
from engine.serving import process
from engine.serving.artifact import ArtifactError
from engine.serving.registry import RegistryError
from ui import db
from ui.production import batch, capacity, monitor, registry, release, serve
from ui.studies import pick_study

VIEWS = {
    "Registry": registry.view,
    "Serve and load-test": serve.view,
    "Batch vs online": batch.view,
    "Capacity plan": capacity.view,
    "Release": release.view,
    "Monitor": monitor.view,
}

study = pick_study()
st.title(f"Production: {study.title.lower()}")
st.caption(
    "Register model versions, serve one on a real local endpoint, load-test it, compare batch and online "
    "inference, plan capacity, release a challenger and watch for drift. Every number is measured on "
    "this machine or in the study's simulated world."
)
with st.sidebar:
    st.page_link(
        "app_pages/study.py",
        label="Back to the study",
        icon=":material/science:",
        query_params={"study": study.id},
    )
    if running := process.running():
        st.caption("Endpoints running: " + ", ".join(f"{s.study} v{s.version} on :{s.port}" for s in running))
if study.serving is None:
    st.info("This study declares nothing to serve yet.", icon=":material/info:")
    st.stop()
view = st.segmented_control(
    "View",
    list(VIEWS),
    key="production.view",
    default="Registry",
    required=True,
    bind="query-params",
    label_visibility="collapsed",
)
try:
    VIEWS[view](study, db.registry())
except (RegistryError, ArtifactError, DataError) as err:
    st.error(str(err), icon=":material/error:")
