"""The Batch view: the nightly batch job over the study's population with the artifact the endpoint
serves, its rows per second against online serving, and how much live traffic a batch can answer."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from engine import palette
from engine.serving.registry import Registry
from engine.study import Study
from ui.plots import layout, log_ticks
from ui.production.common import batch_profile, loaded, pick_version, scope
from ui.state import production


def view(study: Study, registry: Registry) -> None:
    model = pick_version(study, registry, "batch")
    if model is None:
        return
    predictor = loaded(study, registry, model)
    state = production(study.id)
    clicked = st.button(
        f"Run the batch job over {study.serving.population_label}", icon=":material/table_view:"
    )
    if not clicked and model.version not in state.batched:
        st.caption("The batch job scores the whole population with the same artifact the endpoint serves.")
        return
    job = batch_profile(study.id, model.version, model.sha256, predictor).to_dict()
    state.batched.add(model.version)
    online_rps = 1000 / job["online_ms"]
    rates = {"batch job": job["rows_per_s"], "online, in process": online_rps}
    last = state.loadtest
    if last and last["version"] == model.version:
        best = max(last["levels"], key=lambda lv: lv.rps)
        rates[f"online over HTTP (c={best.concurrency})"] = best.rps
    cols = st.columns(4)
    cols[0].metric("Rows", f"{job['rows']:,}", border=True)
    cols[1].metric("Wall time", f"{job['seconds']:.2f} s", border=True)
    cols[2].metric("Rows per second", f"{job['rows_per_s']:,.0f}", border=True)
    cols[3].metric("Output", f"{job['output_mb']:.2f} MB", border=True)
    st.plotly_chart(batch_vs_online(rates), key=scope(study, "batch").key("chart"))
    st.markdown(
        f"- Per row, the batch job is **{job['batch_speedup']:,.1f}×** single online calls in process, "
        f"**{job['rows_per_s'] / min(rates.values()):,.1f}×** the slowest online path above "
        f"(in process {job['online_ms']:.3f} ± {job['online_noise_ms']:.3f} ms per request, median of "
        "5 passes)."
    )
    if job["hit_rate"] is None:
        st.markdown(
            "- **Nothing can be served from a batch**: each answer depends on the request itself (a "
            "payment's amount, terminal and moment), so this study must score online. The batch job "
            "serves analysts and reports, not requests."
        )
        return
    fallbacks = ", ".join(f"{reason}: {n:,}" for reason, n in job["fallbacks"].items()) or "none"
    st.markdown(
        f"- Replaying 2,000 requests of live traffic against a batch computed at the start: "
        f"**{job['hit_rate']:.1%}** served from the batch; the rest fall back to online ({fallbacks})."
    )


def batch_vs_online(rates: dict[str, float]) -> go.Figure:
    """Rows per second of each path as points on a log axis: bars on a log axis do not start at
    zero, so their lengths misstate the ratios; the values are printed beside the points."""
    colours = [palette.SERIES[i % len(palette.SERIES)] for i in range(len(rates))]
    fig = go.Figure(
        go.Scatter(
            x=list(rates.values()),
            y=list(rates),
            mode="markers+text",
            marker={"size": 14, "color": colours},
            text=[f"{v:,.0f}/s" for v in rates.values()],
            textposition="middle right",
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(**log_ticks(list(rates.values())))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=240, showlegend=False)
    return layout(fig, "rows (requests) per second, log scale", "")
