"""The panels of a study page: headline metrics, architecture graph, quality-vs-cost, compare."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from engine import palette
from engine.graph import architecture, canvas_height, echarts_option, format_latency
from engine.result import RunResult
from engine.study import NO_CHANGE, Study
from engine.tradeoffs import changed_knobs, pareto_front
from ui.state import Scope, production, study_page

BETTER = palette.SERIES[2]  # green-teal: a change in the good direction


def metric_row(study: Study, result: RunResult, baseline: RunResult | None, keys: Iterable[str]) -> None:
    keys = list(keys)
    columns = [c for _ in range(0, len(keys), 3) for c in st.columns(3)]
    for column, key in zip(columns, keys, strict=False):
        spec = study.metric(key)
        value = result.metrics[key]
        base = baseline.metrics[key] if baseline else None
        noise = result.noise_against(baseline, key) if baseline else result.noise(key)
        delta = spec.format_delta(value, base, noise)
        column.metric(
            spec.label,
            spec.format(value),
            delta=delta,
            help=spec.help,
            border=True,
            **delta_style(delta, spec.higher_is_better),
        )


def delta_style(delta: str | None, higher_is_better: bool) -> dict[str, str]:
    """How `st.metric` draws a change: "≈ no change" uncoloured and with no arrow (an up arrow on it
    read as a gain), a real change coloured by whether it is better."""
    if delta == NO_CHANGE:
        return {"delta_color": "off", "delta_arrow": "off"}
    return {"delta_color": "normal" if higher_is_better else "inverse"}


def ranges_caption(study: Study, result: RunResult) -> None:
    if text := ranges_text(study, result):
        st.caption(text)


def ranges_text(study: Study, result: RunResult) -> str | None:
    """The metrics a study reports with a range, in one line that says what "≈" tests: a change
    against the baseline is judged on the difference unit by unit (the same users, queries or days
    scored twice), whose range is narrower than these, so a change smaller than them can be real."""
    uncertainty = result.uncertainty
    parts = [
        f"{study.metric(key).label} {study.metric(key).format(low)}–{study.metric(key).format(high)}"
        for key, (low, high) in uncertainty.intervals.items()
    ]
    if not parts:
        return None
    unit = uncertainty.unit
    text = f"95 % ranges over resampled {unit}: " + "; ".join(parts) + "."
    if not uncertainty.paired:
        return text + " A change against the baseline reads ≈ when it is inside both runs' ranges added."
    scored = unit.split(" ", 1)[-1]  # "2,000 evaluation users" -> "evaluation users"
    return text + (
        f" A change against the baseline reads ≈ when its paired difference (the same {scored} scored by"
        " both) is inside that difference's own 95 % range, which is narrower than these: a "
        "change smaller than them can still be real, and is coloured."
    )


def study_panels(study: Study, result: RunResult, baseline: RunResult | None) -> None:
    """The charts a study adds to its lab, two to a row."""
    columns = st.columns(2, gap="medium") if study.panels else []
    for index, panel in enumerate(study.panels):
        option = panel.build(result, baseline)
        if option is None:
            continue
        with columns[index % 2]:
            st.markdown(f"**{panel.title}**")
            key = Scope(study.id, "study", "lab").key(f"panel{index}")
            st.echarts_chart(option, key=key, height=300, alt=panel.title)
            st.caption(panel.caption)


def endpoint_caption(study: Study) -> None:
    """The request path as the endpoint measured it, when this session load-tested one."""
    last = production(study.id).loadtest
    if not last:
        return
    first = last["levels"][0]
    st.caption(
        f"Over HTTP (last load test on the Production page, v{last['version']}, c={first.concurrency}): "
        f"p50 {first.p50_ms:.2f} ms, p99 {first.p99_ms:.2f} ms, {first.rps:,.0f} requests/s; "
        f"{first.server_ms:.2f} ms of it inside the server."
    )


def architecture_panel(study: Study, result: RunResult, touched: list[str]) -> None:
    """The system as a graph of its stages; clicking a node opens its details underneath."""
    page, chart_key = study_page(study.id), Scope(study.id, "study", "lab").key("architecture")
    graph = architecture(study, result, touched, production(study.id).used)
    names = list(graph.nodes)

    def on_select() -> None:
        for group in st.session_state[chart_key].selection.selected:
            if group.get("data_type") == "node" and group["data_indices"]:
                page.node = names[group["data_indices"][0]]

    selected = page.node
    st.echarts_chart(
        echarts_option(graph, selected),
        key=chart_key,
        on_select=on_select,
        height=canvas_height(graph),
        renderer="svg",  # crisp text, and stages are real DOM nodes a browser test can click
        alt=f"Architecture of the {study.title.lower()} system",
    )
    if touched:
        labels = ", ".join(study.knob(k).label for k in touched)
        st.caption(
            f":red[Red] stages are touched by the knob you moved last: {labels}. Click any stage for details."
        )
    else:
        st.caption("Blue: the request path. Grey: offline jobs. Click any stage for details.")
    endpoint_caption(study)
    if selected in graph:
        stage_details(study, graph.nodes[selected], selected, result)


def stage_details(study: Study, node: dict, stage_id: str, result: RunResult) -> None:
    with st.container(border=True, key="stage_details"):
        latency = format_latency(node["ms"], node["online"])
        st.markdown(f"**{node['label']}**" + (f" · measured {latency}" if latency else ""))
        st.write(node["what"])
        for knob_id in node["knobs"]:
            knob = study.knob(knob_id)
            st.markdown(f"- **{knob.label}** = `{result.config[knob_id]}`: {knob.trades}")
        if not node["knobs"]:
            st.caption("No knob acts on this stage directly.")


def pareto_chart(study: Study, runs: dict[tuple, RunResult], current: tuple, baseline: tuple | None) -> None:
    """Quality against cost for every configuration tried this session; the frontier is drawn."""
    quality, cost = study.metric(study.quality_metric), study.metric(study.cost_metric)
    st.echarts_chart(
        pareto_option(study, runs, current, baseline),
        key=Scope(study.id, "study", "lab").key("pareto"),
        height=340,
        alt=f"{quality.label} against {cost.label} for every configuration tried",
    )


def pareto_option(study: Study, runs: dict[tuple, RunResult], current: tuple, baseline: tuple | None) -> dict:
    """A plain ECharts option: building it costs microseconds, which keeps warm slider reruns fast."""
    quality, cost = study.metric(study.quality_metric), study.metric(study.cost_metric)
    # A run can have no score to plot (an upload whose test days hold no fraud): leave it out.
    keys = [k for k in runs if all(math.isfinite(runs[k].metrics[m.key]) for m in (quality, cost))]
    points = [(runs[k].metrics[cost.key], runs[k].metrics[quality.key]) for k in keys]
    # The front is for "cheaper and better": flip a metric whose direction is the other way.
    cost_sign, quality_sign = (-1 if cost.higher_is_better else 1), (1 if quality.higher_is_better else -1)
    on_front = pareto_front([(cost_sign * c, quality_sign * q) for c, q in points])

    def point(key, x, y):
        label = f"{describe(study, runs[key].config)}: {quality.format(y)} at {cost.format(x)}"
        return {"value": [round(x, 4), round(y, 4)], "name": label}

    tried = [point(k, *p) for k, p, front in zip(keys, points, on_front, strict=True) if not front]
    frontier = sorted(
        (point(k, *p) for k, p, front in zip(keys, points, on_front, strict=True) if front),
        key=lambda item: item["value"][0],
    )
    marked = [
        {
            "type": "scatter",
            "name": name,
            "symbol": symbol,
            "symbolSize": 20,
            "z": 3,
            "data": [point(key, runs[key].metrics[cost.key], runs[key].metrics[quality.key])],
        }
        for key, name, symbol in (
            ((current, "Current (the baseline)", "pin"),)
            if baseline == current
            else ((baseline, "Baseline", "diamond"), (current, "Current", "pin"))
        )
        if key in keys
    ]
    top = max((y for _, y in points), default=1.0)
    return {
        "animation": False,
        "legend": {"bottom": 0},
        "grid": {"left": 10, "right": 20, "top": 30, "bottom": 70, "containLabel": True},
        "tooltip": {"trigger": "item", "formatter": "{b}"},
        "xAxis": {
            "type": "value",
            "scale": True,
            "name": f"{cost.label} ({cost.prefix}{cost.unit}) →",
            "nameLocation": "middle",
            "nameGap": 32,
        },
        "yAxis": {
            "type": "value",
            "scale": True,
            "name": f"↑ {quality.label}",
            "nameTextStyle": {"align": "left"},  # centred, a long name is clipped at the left edge
            # A score bounded by 1 gets an axis that stops there, not at ECharts' next round number.
            **({"max": min(1.0, math.ceil((top + 0.05) * 20) / 20)} if top <= 1 else {}),
        },
        "series": [
            {
                "type": "line",
                "name": "Pareto frontier",
                "data": frontier,
                "symbolSize": 10,
                "lineStyle": {"type": "dashed"},
            },
            {
                "type": "scatter",
                "name": "Dominated",
                "data": tried,
                "symbolSize": 9,
                "itemStyle": {"color": palette.LIGHT_GREY},
            },
            *marked,
        ],
    }


def describe(study: Study, config: dict) -> str:
    """The knobs `config` moves from the defaults, by their labels: "Candidate pool N = 500"."""
    defaults = study.defaults()
    moved = [k for k, v in config.items() if k in defaults and defaults[k] != v]
    changes = [f"{study.knob(k).label} = {study.knob(k).format_value(config[k])}" for k in moved]
    return ", ".join(changes) or "defaults"


def compare_table(study: Study, left: RunResult, right: RunResult, comparable: bool = True):
    """Two configurations side by side: the knobs that differ, then every metric with its change,
    the change coloured by whether it is better (green) or worse (red), none inside the noise. Runs
    of two worlds (`comparable` False) show no change: every metric moves with the world."""
    rows, colours = [], []
    for knob_id in changed_knobs(left.config, right.config):
        knob = study.knob(knob_id)
        rows.append(
            {
                "": knob.label,
                "A": knob.format_value(left.config[knob_id]),
                "B": knob.format_value(right.config[knob_id]),
                "B − A": "",
            }
        )
        colours.append("")
    for spec in study.metrics:
        a, b = left.metrics[spec.key], right.metrics[spec.key]
        delta = (spec.format_delta(b, a, right.noise_against(left, spec.key)) or "") if comparable else ""
        rows.append({"": spec.label, "A": spec.format(a), "B": spec.format(b), "B − A": delta})
        moved = delta not in ("", NO_CHANGE)
        better = moved and delta.startswith("+") == spec.higher_is_better
        colours.append(f"color: {BETTER if better else palette.RED}" if moved else "")
    table = pd.DataFrame(rows).set_index("")
    return table.style.apply(lambda _: colours, subset=["B − A"], axis=0)
