"""Pieces of the Production page: the session's endpoint, cached artifacts and measurements, and
the plotly charts (drawn once per action, so plotly's per-chart cost is paid once)."""

from __future__ import annotations

import time

import plotly.graph_objects as go
import streamlit as st

from engine import palette
from engine.memo import Memo
from engine.serving import batch, process
from engine.serving.loadtest import Level, knee
from engine.serving.registry import ModelVersion, Registry
from engine.study import Study
from ui.plots import layout


@st.cache_resource(max_entries=6, show_spinner=False)
def predictor(study_id: str, version: int, sha256: str, _registry: Registry, _model: ModelVersion):
    """A registered version's artifact, loaded once per process (checked against its sha256)."""
    return _registry.load(_model)


# -- the endpoint of this session ---------------------------------------------------------------
def server(study: Study) -> process.ServerProcess | None:
    handle = st.session_state.get(f"{study.id}.server")
    if handle is not None and not handle.alive:  # it stopped itself (idle) or was killed
        st.session_state.pop(f"{study.id}.server")
        return None
    return handle


def start_server(study: Study, version: int, db_url: str, max_batch: int, max_wait_ms: float) -> None:
    stop_server(study)
    st.session_state[f"{study.id}.server"] = process.start(study.id, version, db_url, max_batch, max_wait_ms)


def stop_server(study: Study) -> None:
    handle = st.session_state.pop(f"{study.id}.server", None)
    if handle is not None:
        handle.stop()


def uptime(handle: process.ServerProcess) -> str:
    seconds = int(time.time() - handle.started_at)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


# -- charts ----------------------------------------------------------------------------------------
def latency_throughput(runs: dict[str, list[Level]], slo_ms: float) -> go.Figure:
    """p50 (solid) and p99 (dashed) against the throughput each concurrency reached, one colour per
    load-test run (batching off, on...); the knee of the latest run marked."""
    fig = go.Figure()
    for index, (label, levels) in enumerate(runs.items()):
        colour = palette.SERIES[index % len(palette.SERIES)]
        for name, values, dash in (
            ("p50", [lv.p50_ms for lv in levels], "solid"),
            ("p99", [lv.p99_ms for lv in levels], "dash"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=[lv.rps for lv in levels],
                    y=values,
                    name=f"{name}, {label}",
                    mode="lines+markers+text",
                    text=[f"c={lv.concurrency}" for lv in levels],
                    textposition="top left",
                    line={"color": colour, "dash": dash},
                )  # fmt: skip
            )
    # Lines and markers as traces, not add_hline/add_vline annotations: on a log axis plotly places
    # those annotations at 10^value and stretches the axis to 10^100.
    every = [lv.rps for levels in runs.values() for lv in levels]
    fig.add_trace(
        go.Scatter(
            x=[min(every), max(every)],
            y=[slo_ms, slo_ms],
            name=f"p99 SLO {slo_ms:g} ms",
            mode="lines",
            line={"color": palette.RED, "dash": "dot"},
        )  # fmt: skip
    )
    bend = knee(list(runs.values())[-1])
    if bend is not None:
        fig.add_trace(
            go.Scatter(
                x=[bend.rps],
                y=[bend.p50_ms],
                name=f"knee (c={bend.concurrency})",
                mode="markers",
                marker={"symbol": "circle-open", "size": 18, "color": palette.INK, "line": {"width": 2}},
            )  # fmt: skip
        )
    fig.update_yaxes(type="log")
    return layout(fig, "throughput (requests/s)", "latency (ms, log scale)")


def run_label(version: int, max_batch: int, max_wait_ms: float) -> str:
    batching = f"batches ≤ {max_batch} within {max_wait_ms:g} ms" if max_batch > 1 else "no batching"
    return f"v{version}, {batching}"


def batch_vs_online(rows_per_s: dict[str, float]) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=list(rows_per_s.values()),
            y=list(rows_per_s),
            orientation="h",
            marker={"color": [palette.SERIES[i % len(palette.SERIES)] for i in range(len(rows_per_s))]},
            text=[f"{v:,.0f}/s" for v in rows_per_s.values()],
            textposition="auto",
        )
    )
    fig.update_xaxes(type="log")
    fig.update_layout(height=260)
    return layout(fig, "rows (requests) per second, log scale", "")


_profiles = Memo(max_entries=16)


def batch_profile(study_id: str, version: int, sha256: str, predictor) -> batch.Profile:
    """The batch job, its replay against live traffic, and in-process online time per request, once
    per version, behind a progress bar (a study's whole population can take a minute)."""

    def measure() -> batch.Profile:
        bar = st.progress(0.0, text="Scoring the population…")
        profile = batch.profile(
            predictor, lambda share: bar.progress(share, text=f"Scoring the population: {share:.0%}")
        )
        bar.empty()
        return profile

    return _profiles.get((study_id, version, sha256), measure)
