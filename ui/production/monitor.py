"""The Production page's Monitor view: a registered design served through a drift scenario, its
monitors as a heatmap, its quality metric once labels arrive, and the retraining policy's cost.
Charts are plotly, drawn once per run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine import palette
from engine.monitoring import lab, monitors, simulate
from engine.monitoring.lesson import window_lesson
from engine.serving.registry import Registry
from engine.study import Study
from ui.plots import day_marks, layout
from ui.production.common import heavy_job, pick_version, scope
from ui.state import production

WINDOWS = (100, 300, 1000, 3000, 10_000)
POLICY_LABELS = {"never": "never", "scheduled": "weekly", "on_alert": "on alert"}
PRESET_LABELS = {"evidently": "Evidently's default rule", "psi": "PSI 0.1 / 0.25"}


def view(study: Study, registry: Registry) -> None:
    if study.drift is None:
        st.info("This study declares no live world to monitor.", icon=":material/info:")
        return
    model = pick_version(study, registry, "monitor")
    if model is None:
        return
    production(study.id).used = True  # the study page's graph gains the router and the monitor
    keys, state = scope(study, "monitor"), production(study.id)
    scenarios = {s.name: s for s in study.drift.scenarios}
    with st.form(keys.key("form"), border=True):
        a, b = st.columns([2, 3])
        name = a.selectbox(
            "Drift scenario",
            list(scenarios),
            key=keys.key("scenario"),
            format_func=lambda n: scenarios[n].label,
            help="\n\n".join(f"**{s.label}**: {s.what}" for s in scenarios.values()),
        )
        day = b.slider("Drift starts on day", 1, 27, 14, key=keys.key("drift_day"))
        c, d, e = st.columns([2, 2, 2])
        window = c.select_slider(
            "Requests per daily window", WINDOWS, 1000, key=keys.key("window"),
            help="Small windows raise false alarms on noise; large ones let KS flag shifts too small to "
            "matter.",
        )  # fmt: skip
        preset = d.radio(
            "Drift rule", monitors.PRESETS, key=keys.key("preset"), format_func=PRESET_LABELS.get
        )
        policy = e.radio(
            "Retraining", simulate.POLICIES, key=keys.key("policy"), format_func=POLICY_LABELS.get,
            help="Weekly: every 7 days. On alert: once the alert's day is labelled (its day + the label "
            "delay).",
        )  # fmt: skip
        run = st.form_submit_button("Run the serving period", icon=":material/monitor_heart:", type="primary")
    if run:
        with heavy_job(study, "serving period"):
            with st.spinner("Building the live world and the model in service…", show_time=True):
                period = lab.period(study, model, name, day)
            bar = st.progress(0.0, "Serving…")
            report = simulate.simulate(
                period, int(window), preset, policy, progress=lambda s, t: bar.progress(s, t)
            )
            bar.empty()
        state.monitor = (model.version, report)
    last = state.monitor
    if not last or last[0] != model.version:
        st.caption(
            "Each simulated day serves a window of live requests with the model in service; the monitors "
            "compare every feature and the score with the model's training-time traffic, and the quality "
            "metric arrives only after the label delay."
        )
        return
    show_report(study, registry, model, last[1])


def show_report(study: Study, registry: Registry, model, report: simulate.Report) -> None:
    period = report.period
    scenario = study.drift.scenario(period.scenario)
    st.markdown(f"**{scenario.label}**: {scenario.what}")
    alert, drop = report.first_alert, report.first_measured_drop
    cols = st.columns(4)
    cols[0].metric(
        "Drift starts", "—" if period.drift_day is None else f"day {period.drift_day}", border=True
    )
    cols[1].metric("First alert", "none" if alert is None else f"day {alert}", border=True)
    cols[2].metric(
        f"{period.metric_label} drop measured",
        "none" if drop is None else f"day {drop}",
        None if drop is None or alert is None else f"{drop - alert:+d} days after the alert",
        delta_color="off",
        help=f"Labels arrive {period.label_delay_days} day(s) late; the metric pools "
        f"{period.metric_days} days.",
        border=True,
    )
    cols[3].metric(
        "Retrains",
        len(report.retrains),
        f"{report.retrain_seconds:.2f} s of training",
        delta_color="off",
        border=True,
    )
    keys = scope(study, "monitor")
    st.plotly_chart(heatmap(report), key=keys.key("heatmap"))
    methods = sorted(set(report.method.values()))
    st.caption(
        f"Drift score = the statistic over its threshold ({', '.join(methods)}); 1 or more drifts. "
        + (
            "The window alerts when at least half of the columns drift."
            if report.preset == "evidently"
            else "The window alerts when any column's PSI passes 0.25."
        )
    )
    st.plotly_chart(metric_chart(report), key=keys.key("metric_chart"))
    if report.retrains:
        st.dataframe(
            pd.DataFrame(
                {
                    "serves from day": [r.day for r in report.retrains],
                    "why": [r.reason for r in report.retrains],
                    "training time": [f"{r.train_ms / 1000:.2f} s" for r in report.retrains],
                }
            ),
            hide_index=True,
        )
        if st.button(
            f"Register the {len(report.retrains)} retrained model(s)", icon=":material/inventory_2:"
        ):
            added = lab.register_retrains(registry, model, report)
            st.toast("Registered " + ", ".join(f"v{v.version}" for v in added), icon=":material/inventory_2:")
    lesson(study, report)


def heatmap(report: simulate.Report) -> go.Figure:
    scores = report.drift_score.T
    fig = go.Figure(
        go.Heatmap(
            z=np.minimum(scores.to_numpy(), 3.0),
            x=list(range(scores.shape[1])),
            y=list(scores.index),
            zmin=0,
            zmax=3,
            colorscale=[[0, "#ffffff"], [1 / 3, "#fde2e2"], [1 / 3 + 1e-9, "#ffb3b3"], [1, palette.RED]],
            colorbar={
                "title": "drift score",
                "tickvals": [0, 1, 2, 3],
                "ticktext": ["0", "1 (line)", "2", "≥ 3"],
            },
            customdata=report.psi.T.to_numpy(),
            hovertemplate="%{y}, day %{x}: drift score %{z:.2f}, PSI %{customdata:.3f}<extra></extra>",
        )  # fmt: skip
    )
    alerts = np.flatnonzero(report.alerts)
    fig.add_trace(
        go.Scatter(
            x=alerts,
            y=[scores.index[-1]] * alerts.size,
            mode="markers",
            name="alert",
            marker={"symbol": "triangle-down", "size": 11, "color": palette.INK},
            yaxis="y",
        )  # fmt: skip
    )
    if report.period.drift_day is not None:
        fig.add_vline(x=report.period.drift_day - 0.5, line={"color": palette.INK, "dash": "dot"})
    fig.update_layout(height=max(260, 22 * len(scores.index) + 80))
    return layout(fig, "serving day", "")


def metric_chart(report: simulate.Report) -> go.Figure:
    """The quality metric of each day, drawn on the day it becomes known (its labels arrive)."""
    period = report.period
    known = np.arange(report.metric.size) + period.label_delay_days
    fig = go.Figure(
        go.Scatter(
            x=known,
            y=report.metric,
            mode="lines+markers",
            name=f"{period.metric_label}, on the day it is known",
            line={"color": palette.BLUE},
        )  # fmt: skip
    )
    finite = report.metric[np.isfinite(report.metric)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    marks = [
        ("drift starts", period.drift_day, palette.INK),
        ("first alert", report.first_alert, palette.RED),
        ("drop measured", report.first_measured_drop, palette.SERIES[1]),
        *(("retrain", r.day, palette.SERIES[2]) for r in report.retrains),
    ]
    day_marks(fig, marks, low, high)
    fig.update_xaxes(range=[-0.5, period.days + period.label_delay_days])
    return layout(fig, "day", period.metric_label)


def lesson(study: Study, report: simulate.Report) -> None:
    """The window-size lesson on demand, in a box that stays open: inside a collapsed expander, the
    table a 3.5 s *Measure* drew was hidden, and the press looked like it did nothing."""
    keys = scope(study, "monitor")
    measured = keys.get("lesson")
    with st.container(border=True):
        st.markdown("**Window size and the statistics: measured on this model's score**")
        st.caption(
            "Windows of the score before any drift, compared with the training-time reference, as they "
            "are and moved by 0.1 σ and 0.5 σ (resampled with exponential weights, so the score keeps its "
            "shape). Shares of 40 windows each."
        )
        if st.button("Measure", key=keys.key("lesson_button")):
            with st.spinner("Drawing windows…", show_time=True):
                measured = (id(report.period), window_lesson(report.period))
            keys["lesson"] = measured
        if measured is not None and measured[0] == id(report.period):
            table = measured[1]
            st.dataframe(
                table,
                hide_index=True,
                column_config={
                    c: st.column_config.NumberColumn(format="percent" if ">" in c or "<" in c else "%.3f")
                    for c in table.columns
                    if c not in ("window", "shift (σ)")
                },
            )
