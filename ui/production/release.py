"""The Production page's Release view: pick a champion and a challenger, shadow, canary, and the
canary's statistics over seeded repeats. Charts are plotly, drawn once per action."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine import palette
from engine.release import canary, lab
from engine.serving.registry import CHALLENGER, CHAMPION, Registry
from engine.study import NO_CHANGE, Study
from ui.plots import layout
from ui.production.common import heavy_job, register_current, scope
from ui.state import production
from ui.views import delta_style


def view(study: Study, registry: Registry) -> None:
    release = study.release
    if release is None:
        st.info("This study declares no online metric to release on.", icon=":material/info:")
        return
    production(study.id).used = True  # the study page's graph gains the router and the monitor
    keys = scope(study, "release")
    versions = registry.versions(study.id)
    if st.button("Register this design as the challenger", icon=":material/add_circle:"):
        register_current(study, registry, alias=CHALLENGER)
        versions = registry.versions(study.id)
    if len(versions) < 2:
        st.info(
            "A release needs two versions: register the current design (or another one from the study "
            "page) as the challenger.",
            icon=":material/inventory_2:",
        )
        return
    aliases = registry.aliases(study.id)
    names = {v: a for a, v in aliases.items()}
    numbers = [v.version for v in versions]
    label = lambda n: f"v{n}" + (f" ({names[n]})" if n in names else "")  # noqa: E731
    first = aliases.get(CHAMPION, numbers[0])
    left, right = st.columns(2)
    champion = left.selectbox(
        "Champion", numbers, numbers.index(first), key=keys.key("champion"), format_func=label
    )
    others = [n for n in numbers if n != champion]
    second = aliases.get(CHALLENGER) if aliases.get(CHALLENGER) in others else others[-1]
    challenger = right.selectbox(
        "Challenger", others, others.index(second), key=keys.key("challenger"), format_func=label
    )
    pair = lab.pick(registry, study.id, champion, challenger)
    with st.spinner("Answering the same live requests with both versions…", show_time=True):
        shadow = lab.shadow(registry, pair)
    shadow_section(study, pair, shadow)
    st.subheader("Canary", divider="gray")
    schedule = _schedule(study)
    if schedule is None:
        return
    canary_section(study, registry, pair, schedule)
    statistics_section(study, registry, pair, schedule)
    st.caption(f"Online metric, {release.metric_label}: {release.metric_help}")


def shadow_section(study: Study, pair: lab.Pair, shadow: lab.Shadow) -> None:
    release = pair.release
    st.subheader("Shadow", divider="gray")
    st.caption(
        f"The challenger answers a copy of {shadow.requests} live requests; users only ever see the "
        "champion's answers. Each request is timed alone on both, in alternating order."
    )
    cols = st.columns(4)
    for col, (name, value) in zip(cols, shadow.agreement.items(), strict=False):
        col.metric(name, f"{value:.0%}" if 0 <= value <= 1 else f"{value:.2f}", border=True)
    cols = st.columns(4)
    for col, q, name in ((cols[0], 0.5, "p50"), (cols[1], 0.99, "p99")):
        (value, _), (base, _) = shadow.quantile(CHALLENGER, q), shadow.quantile(CHAMPION, q)
        overhead, noise = shadow.overhead(q)
        delta = NO_CHANGE if abs(overhead) <= noise else f"{overhead:+.2f} ms"
        col.metric(
            f"challenger {name}",
            f"{value:.2f} ms",
            delta,
            **delta_style(delta, higher_is_better=False),
            help=f"Champion {base:.2f} ms; the 95 % bands of both add to ±{noise:.2f} ms.",
            border=True,
        )
    effect = shadow.challenger_metric / shadow.champion_metric - 1 if shadow.champion_metric else float("nan")
    st.markdown(
        f"- In the world, on these requests' pool: champion **{release.format(shadow.champion_metric)}**, "
        f"challenger **{release.format(shadow.challenger_metric)}** {release.metric_label} "
        f"({effect:+.1%}): the true effect a canary has to find. Shadow cannot measure it: no user "
        "sees the challenger's answers."
    )


def _schedule(study: Study) -> canary.Schedule | None:
    release, keys = study.release, scope(study, "release")
    with st.container(border=True):
        a, b, c, d = st.columns(4)
        steps_text = a.text_input(
            "Traffic steps (%)", "5, 25, 50, 100", key=keys.key("steps"),
            help="Argo Rollouts' setWeight steps; the last (100 %) is the promotion.",
        )  # fmt: skip
        rpm = b.number_input(
            "Requests per minute", 1, 1_000_000, release.default_rpm, 100, key=keys.key("rpm")
        )
        minutes = c.number_input("Minutes per step", 1.0, 240.0, 10.0, 1.0, key=keys.key("step_minutes"))
        interval = d.number_input(
            "Analysis every (min)", 0.5, 60.0, 1.0, 0.5, key=keys.key("interval"),
            help="Flagger's analysis interval: each check tests the metric on everything so far.",
        )  # fmt: skip
        e, f, g, h = st.columns(4)
        alpha = e.select_slider("α (one-sided)", [0.01, 0.025, 0.05, 0.1], 0.05, key=keys.key("alpha"))
        rule = f.radio(
            "Metric test at each check", canary.RULES, key=keys.key("rule"), horizontal=True,
            format_func={"sequential": "O'Brien–Fleming", "peeking": "fixed α (peeking)"}.get,
        )  # fmt: skip
        extra = g.number_input("Inject latency (ms)", 0.0, 5000.0, 0.0, 50.0, key=keys.key("inject_ms"))
        errors = h.number_input("Inject errors (%)", 0.0, 100.0, 0.0, 0.5, key=keys.key("inject_err"))
    try:
        steps = tuple(float(s) for s in steps_text.replace(" ", "").split(",") if s)
        schedule = canary.Schedule(steps, int(rpm), float(minutes), float(interval), float(alpha), rule)
    except ValueError as err:
        st.error(f"That schedule cannot run: {err}.", icon=":material/error:")
        return None
    production(study.id).injection = lab.Injection(float(extra), float(errors) / 100)
    return schedule


def canary_section(study: Study, registry: Registry, pair: lab.Pair, schedule: canary.Schedule) -> None:
    keys, state = scope(study, "release"), production(study.id)
    apply = st.checkbox(
        "Move the registry's champion alias if the canary promotes", True, key=keys.key("apply")
    )
    if st.button("Run the canary", icon=":material/rocket_launch:", type="primary"):
        seed = state.canary_runs
        state.canary_runs += 1  # each run a new seed: a new day of traffic
        with heavy_job(study, "canary"):
            rollout = lab.run_canary(registry, pair, schedule, seed, state.injection, apply)
        state.canary = (pair.champion.version, pair.challenger.version, rollout)
    last = state.canary
    if not last or last[:2] != (pair.champion.version, pair.challenger.version):
        st.caption(
            "Each step sends its share of traffic to the challenger for its minutes; every analysis "
            "interval checks the challenger's success rate (≥ 99 %) and p99 latency (≤ 500 ms), "
            "Flagger's defaults, and tests the online metric against the champion."
        )
        return
    rollout = last[2]
    outcome = str(rollout.outcome[0])
    message = {
        canary.PROMOTED: f"Promoted: v{pair.challenger.version} took 100 % of traffic.",
        canary.ROLLED_BACK: f"Rolled back ({rollout.reason[0]}): traffic returned to "
        f"v{pair.champion.version}.",
        canary.PAUSED: "Paused: a step had too few requests to test (inconclusive). Raise the traffic "
        "or the step's minutes.",
    }[outcome]
    champion_now = registry.aliases(study.id).get(CHAMPION)
    (st.success if outcome == canary.PROMOTED else st.warning)(
        f"{message} The registry's champion is v{champion_now}.", icon=":material/flag:"
    )
    st.plotly_chart(timeline(rollout, pair.release), key=keys.key("timeline"))
    release = pair.release
    rows = [
        {
            "traffic": f"{s['traffic']:g} %",
            "challenger requests": "" if s["n"] is None else f"{s['n']:,}",
            f"Δ {release.metric_label}": ""
            if s["metric_delta"] is None
            else release.format(s["metric_delta"]),
            "relative": "" if s["relative_delta"] is None else f"{s['relative_delta']:+.1%}",
            "95 % interval": "" if s["ci"] is None else " to ".join(release.format(v) for v in s["ci"]),
            "decision": s["decision"] + (f" ({s['reason']})" if s["reason"] else ""),
        }
        for s in rollout.steps()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def timeline(rollout: canary.Rollout, release) -> go.Figure:
    """Per analysis check: the metric difference with its 95 % interval and the rollback line, the
    traffic share on a second axis, and a marker where the rollout ended."""
    schedule, sign = rollout.schedule, 1 if rollout.higher_is_better else -1
    looked = rollout.looked[0]
    minutes = (np.arange(looked.size) + 1) * schedule.interval_minutes
    delta, se = sign * rollout.delta[0], rollout.se[0]
    weights, _, _ = schedule.arm_sizes()
    m, d, s = minutes[looked], delta[looked], se[looked]
    finite = np.isfinite(rollout.bound)[looked]
    fig = go.Figure()
    _band(fig, m, d - 1.96 * s, d + 1.96 * s)
    fig.add_trace(
        go.Scatter(
            x=m,
            y=d,
            mode="lines+markers",
            name=f"challenger − champion, {release.metric_label}",
            line={"color": palette.BLUE},
        )
    )
    line = np.where(finite, -sign * rollout.bound[looked] * s, np.nan)
    side = "below" if rollout.higher_is_better else "above"
    fig.add_trace(
        go.Scatter(
            x=m,
            y=line,
            mode="lines",
            name=f"roll back {side} this",
            line={"color": palette.RED, "dash": "dot"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([[0], minutes[looked]]),
            y=np.concatenate([[weights[0]], weights[looked]]),
            mode="lines",
            line={"shape": "hv", "color": palette.GREY},
            name="traffic to challenger (%)",
            yaxis="y2",
        )  # fmt: skip
    )
    end = int(np.flatnonzero(looked)[-1])
    decision = {canary.PROMOTED: "promote", canary.ROLLED_BACK: "roll back", canary.PAUSED: "pause"}[
        str(rollout.outcome[0])
    ]
    fig.add_trace(
        go.Scatter(
            x=[minutes[end]],
            y=[delta[end]],
            mode="markers+text",
            text=[decision],
            textposition="top center",
            marker={
                "size": 14,
                "symbol": "diamond",
                "color": palette.RED if decision != "promote" else palette.SERIES[2],
            },
            name="decision",
        )  # fmt: skip
    )
    fig.add_hline(y=0, line={"color": palette.INK, "width": 1})
    fig.update_layout(
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "title": "traffic %",
            "tickvals": [0, 25, 50, 75, 100],
            "showgrid": False,
        }  # fmt: skip
    )
    return layout(fig, "minutes since the rollout started", f"Δ {release.metric_label}")


def statistics_section(study: Study, registry: Registry, pair: lab.Pair, schedule: canary.Schedule) -> None:
    st.subheader("What this schedule decides, over seeded repeats", divider="gray")
    keys, state = scope(study, "release"), production(study.id)
    left, right = st.columns(2)
    repeats = left.select_slider("Seeded canaries", [100, 200, 300, 500], 200, key=keys.key("repeats"))
    worse = right.select_slider(
        "Miss rate for a challenger worse by", [0.02, 0.05, 0.1, 0.2], 0.1, key=keys.key("worse_by"),
        format_func="{:.0%}".format,
    )  # fmt: skip
    if st.button(f"Run {repeats} seeded canaries per case", icon=":material/query_stats:"):
        with heavy_job(study, "seeded canaries"):
            bar = st.progress(0.0, "Starting…")
            result = lab.statistics(
                registry, pair, schedule, int(repeats), float(worse), progress=lambda s, t: bar.progress(s, t)
            )
            bar.empty()
        state.statistics = (pair.champion.version, pair.challenger.version, schedule, result)
    last = state.statistics
    if not last or last[:3] != (pair.champion.version, pair.challenger.version, schedule):
        st.caption(
            "The same schedule on this pair, on two equal models, on a challenger worse by the chosen "
            "amount and on a ladder of known effects: how often it promotes, and how often it is wrong."
        )
        return
    result = last[3]
    cols = st.columns(4)
    share = lambda r: f"{r[0]:.1%}"  # noqa: E731
    band = lambda r: f"95 % interval {r[1]:.1%}–{r[2]:.1%}"  # noqa: E731
    cols[0].metric(
        "This pair promoted",
        share(result.actual[canary.PROMOTED]),
        help=band(result.actual[canary.PROMOTED]),
        border=True,
    )
    cols[1].metric(
        "False rollbacks, O'Brien–Fleming", share(result.false_rollback["sequential"]),
        help=f"Equal models: should stay near α = {schedule.alpha:g}. "
        + band(result.false_rollback["sequential"]),
        border=True,
    )  # fmt: skip
    cols[2].metric(
        "False rollbacks, peeking", share(result.false_rollback["peeking"]),
        help="A fixed-α test at every check. " + band(result.false_rollback["peeking"]), border=True,
    )  # fmt: skip
    cols[3].metric(
        f"Missed a {result.worse_by:.0%} drop",
        share(result.miss_rate),
        help=band(result.miss_rate),
        border=True,
    )
    st.plotly_chart(operating_curve(result), key=keys.key("curve"))
    release = pair.release
    st.markdown(
        f"- Over the whole rollout ({schedule.rule} rule) a drop of **{result.detectable:.1%}** in "
        f"{release.metric_label} is caught with 80 % power; smaller drops usually pass."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "step": f"{r['traffic']:g} %",
                    "challenger requests in the step": f"{r['challenger_requests']:,.0f}",
                    f"needed per arm for a {result.worse_by:.0%} drop": f"{r['needed_per_arm']:,}",
                    "minutes needed at this share": f"{r['minutes_needed']:,.1f}",
                }
                for r in result.sample_sizes
            ]
        ),
        hide_index=True,
    )


def operating_curve(result: lab.Statistics) -> go.Figure:
    effects, rate, low, high = (np.array(column) * 100 for column in zip(*result.curve, strict=True))
    fig = go.Figure()
    _band(fig, effects, low, high)
    fig.add_trace(
        go.Scatter(x=effects, y=rate, mode="lines+markers", name="P(promoted)", line={"color": palette.BLUE})
    )
    fig.add_vline(x=0, line={"color": palette.GREY, "dash": "dot"})
    return layout(fig, "challenger's true effect on the metric (%, + is better)", "promoted (% of canaries)")


def _band(fig: go.Figure, x, low, high) -> None:
    """A shaded 95 % interval between `low` and `high` (an invisible upper line, filled down to the lower)."""
    fig.add_trace(
        go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(28,131,225,0.18)",
            name="95 % interval",
        )  # fmt: skip
    )
