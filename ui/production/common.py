"""What several Production views use: the view's key namespace, the registered version a view works
on, registering the study page's design, and artifacts loaded once per process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from engine.jobs import QUEUE, Turn
from engine.memo import Memo
from engine.serving import batch
from engine.serving.registry import ModelVersion, Registry
from engine.study import Study, get_study
from ui.knobs import current_config, current_seed
from ui.state import Scope


def scope(study: Study, view: str) -> Scope:
    """The session-state namespace of one Production view for `study`."""
    return Scope(study.id, "production", view)


def holder() -> str:
    """This session's name among an endpoint's holders."""
    return st.session_state.setdefault("production.holder", uuid.uuid4().hex[:12])


@contextmanager
def heavy_job(study: Study, kind: str, exclusive: bool = False) -> Iterator[Turn]:
    """Wait for this job's turn on the server's queue (engine/jobs.py), showing its place and an
    estimate, with a Cancel button: any click interrupts the wait, and the ticket is withdrawn."""
    status, cancel = st.empty(), st.empty()
    drawn = []

    def waiting(place: int, estimate: float | None) -> None:
        if not drawn:
            cancel.button("Cancel", icon=":material/close:", key=scope(study, "queue").key(kind))
            drawn.append(True)
        running, queued = QUEUE.busy()
        about = f", about {estimate:.0f} s" if estimate is not None else ""
        status.info(
            f"Waiting for a turn: {place} in line{about}. The server runs {running} heavy job(s) for other "
            f"sessions now ({queued} waiting), at most {QUEUE.max_running} at once"
            + (", and a load test alone" if exclusive else "")
            + ".",
            icon=":material/hourglass_top:",
        )

    with QUEUE.turn(kind, exclusive, waiting) as turn:
        status.empty()
        cancel.empty()
        yield turn


def register_current(study: Study, registry: Registry, alias: str | None = None) -> None:
    """Register the design the study page's knobs and seed describe (in this session)."""
    with st.spinner("Training this design and writing its artifact…", show_time=True):
        model = registry.register(study, current_config(study), current_seed(study))
    if alias:
        registry.set_alias(study.id, alias, model.version)
    named = f" as the {alias}" if alias else ""
    st.toast(f"Registered {study.title} version {model.version}{named}", icon=":material/inventory_2:")


def pick_version(study: Study, registry: Registry, view: str) -> ModelVersion | None:
    """The registered version a view works on (the champion by default), or None with a hint."""
    versions = registry.versions(study.id)
    if not versions:
        st.info("Register a version first (the *Registry* view).", icon=":material/inventory_2:")
        return None
    aliases = {v: a for a, v in registry.aliases(study.id).items()}
    numbers = [v.version for v in versions]
    default = registry.resolve(study.id).version
    chosen = st.selectbox(
        "Model version",
        numbers,
        index=numbers.index(default),
        key=scope(study, view).key("version"),
        format_func=lambda n: f"v{n}" + (f" ({aliases[n]})" if n in aliases else ""),
    )
    return registry.get(study.id, chosen)


@st.cache_resource(max_entries=6, show_spinner=False)
def predictor(study_id: str, version: int, sha256: str, _registry: Registry, _model: ModelVersion):
    """A registered version's artifact, loaded once per process (checked against its sha256)."""
    return _registry.load(_model)


def loaded(study: Study, registry: Registry, model: ModelVersion):
    return predictor(study.id, model.version, model.sha256, registry, model)


_profiles = Memo(max_entries=16)


def batch_profile(study_id: str, version: int, sha256: str, predictor) -> batch.Profile:
    """The batch job, its replay against live traffic, and in-process online time per request, once
    per version, behind a progress bar (a study's whole population can take a minute)."""

    def measure() -> batch.Profile:
        with heavy_job(get_study(study_id), "batch job"):
            bar = st.progress(0.0, text="Scoring the population…")
            profile = batch.profile(
                predictor, lambda share: bar.progress(share, text=f"Scoring the population: {share:.0%}")
            )
            bar.empty()
        return profile

    return _profiles.get((study_id, version, sha256), measure)
