"""The Capacity view: replicas, cores, memory and cost for an audience, from this version's measured
time per request (or its load test's throughput at the SLO), with every formula shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.serving import capacity, sizing
from engine.serving.registry import Registry
from engine.study import Study
from ui.production.common import batch_profile, loaded, pick_version, scope
from ui.state import production


def view(study: Study, registry: Registry) -> None:
    model = pick_version(study, registry, "capacity")
    if model is None:
        return
    a, b, c = st.columns(3)
    keys = scope(study, "capacity")
    inputs = capacity.Inputs(
        dau=int(a.number_input("Daily active users", 1_000, 10**9, 1_000_000, 100_000, key=keys.key("dau"))),
        requests_per_user=b.number_input("Requests per user per day", 0.1, 1000.0, 10.0, key=keys.key("rpu")),
        peak_factor=c.number_input("Peak-to-average factor", 1.0, 20.0, 3.0, key=keys.key("peak")),
        slo_p99_ms=a.number_input("p99 SLO (ms)", 1.0, 10_000.0, 100.0, key=keys.key("slo")),
        usd_per_core_hour=b.number_input(
            "$ per core-hour", 0.001, 5.0, 0.05, format="%.3f", key=keys.key("usd")
        ),
        utilisation=c.slider("Target utilisation", 0.1, 0.9, 0.6, 0.05, key=keys.key("util")),
    )
    predictor = loaded(study, registry, model)
    last = production(study.id).loadtest
    levels = last["levels"] if last and last["version"] == model.version else ()
    profile = batch_profile(study.id, model.version, model.sha256, predictor)
    measured = _measured(
        study.id, model.version, model.sha256, inputs, tuple(levels), study, model, predictor, profile
    )
    lines = capacity.plan(inputs, measured)
    st.dataframe(
        pd.DataFrame(
            {
                "": [line.label for line in lines],
                "value": [_figure(line.value) for line in lines],
                "unit": [line.unit for line in lines],
                "how": [line.formula for line in lines],
            }
        ),
        hide_index=True,
        column_config={"how": st.column_config.TextColumn(width="large")},
    )
    if not levels:
        st.caption(
            "Throughput per core is an in-process estimate (1000 ÷ ms per request, no HTTP). Run a load test "
            "of this version to plan from the endpoint's measured throughput at the SLO."
        )


def _figure(value: float) -> str:
    if float(value).is_integer() or value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


@st.cache_data(max_entries=64, show_spinner="Measuring this version…")
def _measured(study_id, version, sha256, inputs, levels, _study, _model, _predictor, _profile):
    return sizing.measure(_study, _model, _predictor, inputs, levels, _profile)
