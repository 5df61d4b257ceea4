"""The Serve view: start this session's endpoint for a registered version (a uvicorn process on
127.0.0.1), then load-test it; p50 and p99 against throughput per concurrency level, the knee, and
what micro-batching buys."""

from __future__ import annotations

import json
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine import palette
from engine.jobs import Turn
from engine.serving import capacity, loadtest, process
from engine.serving.loadtest import Level, knee
from engine.serving.registry import Registry
from engine.study import Study
from ui import db
from ui.plots import layout, log_ticks
from ui.production.common import heavy_job, holder, loaded, pick_version, scope
from ui.state import production

LEVELS = (1, 4, 16, 64)


def server(study: Study) -> process.ServerProcess | None:
    """This session's endpoint for `study`, if it is still running."""
    state = production(study.id)
    if state.server is not None and not state.server.alive:  # it stopped itself (idle) or was killed
        state.server = None
    return state.server


def start_server(study: Study, version: int, db_url: str, max_batch: int, max_wait_ms: float) -> None:
    """Serve `version`: the endpoint other sessions already run for it, or a new one."""
    stop_server(study)
    production(study.id).server = process.acquire(study.id, version, holder(), db_url, max_batch, max_wait_ms)


def stop_server(study: Study) -> None:
    """Let go of this session's endpoint: it stops when no other session holds it."""
    state = production(study.id)
    if state.server is not None:
        process.release(state.server, holder())
        state.server = None


def uptime(handle: process.ServerProcess) -> str:
    seconds = int(time.time() - handle.started_at)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def view(study: Study, registry: Registry) -> None:
    keys = scope(study, "serve")
    handle = server(study)
    if handle is None:
        model = pick_version(study, registry, "serve")
        if model is None:
            return
        batch_col, wait_col = st.columns(2)
        max_batch = batch_col.number_input(
            "Micro-batching: max batch size", 1, 64, 1, key=keys.key("max_batch"),
            help="1 = off. Above 1 the server queues requests and answers up to this many with one call "
            "(Ray Serve's default is 10).",
        )  # fmt: skip
        max_wait = wait_col.number_input(
            "Micro-batching: max wait (ms)", 1.0, 100.0, 10.0, key=keys.key("max_wait"),
            disabled=max_batch == 1, help="How long the first request of a batch waits for company.",
        )  # fmt: skip
        if st.button("Start the endpoint", icon=":material/play_arrow:", type="primary"):
            try:
                with st.spinner(
                    f"Starting a server for v{model.version} and loading its artifact…", show_time=True
                ):
                    start_server(study, model.version, db.url(), int(max_batch), float(max_wait))
            except process.EndpointCapError as err:
                st.warning(str(err), icon=":material/group:")
                return
            except process.ServerError as err:
                st.error(f"The server did not start: {err}", icon=":material/error:")
                return
            st.rerun()
        st.caption(
            "The endpoint is a separate uvicorn process on 127.0.0.1, so a load test does not slow this "
            "page. Sessions serving the same version with the same settings share it; it stops when the "
            f"last of them presses Stop, after {process.IDLE_SECONDS // 60} idle minutes, or with the app."
        )
        return
    info = handle.model()
    st.success(
        f"Serving **v{handle.version}** at `{handle.url}` (pid {handle.process.pid}, up {uptime(handle)}"
        + (
            f", micro-batching up to {handle.max_batch} within {handle.max_wait_ms:g} ms"
            if handle.max_batch > 1
            else ""
        )
        + ")",
        icon=":material/dns:",
    )
    st.caption(replica_note(handle))
    st.button("Stop the endpoint", icon=":material/stop:", on_click=stop_server, args=(study,))
    example = json.dumps(dict(study.serving.example))
    st.code(
        f"curl -s -X POST {handle.url}/v1/predict -H 'Content-Type: application/json' -d '{example}'", "bash"
    )
    st.caption(
        f"Request: {study.serving.request_doc}. Also `GET /healthz`, `GET /v1/model` (version, config, "
        "artifact sha256) and `GET /metrics` (Prometheus). Responses carry `X-Model-Version` and "
        "`X-Server-Time-Ms`."
    )
    with st.expander("GET /v1/model and /metrics"):
        st.json(info, expanded=False)
        st.code(handle.get("/metrics")[1], None)
    load_test(study, registry, handle)


def load_test(study: Study, registry: Registry, handle: process.ServerProcess) -> None:
    st.subheader("Load test", divider="gray")
    keys, state = scope(study, "serve"), production(study.id)
    levels_col, count_col, time_col = st.columns(3)
    levels = levels_col.multiselect("Concurrency levels", LEVELS, default=LEVELS, key=keys.key("levels"))
    requests = count_col.number_input("Requests per level (cap)", 50, 5000, 400, 50, key=keys.key("requests"))
    seconds = time_col.number_input("Seconds per level (cap)", 1.0, 30.0, 5.0, key=keys.key("seconds"))
    slo = scope(study, "capacity").get("slo", capacity.Inputs.slo_p99_ms)
    if st.button("Run the load test", icon=":material/speed:", disabled=not levels, type="primary"):
        model = registry.get(study.id, handle.version)
        traffic = loaded(study, registry, model).traffic(2000, seed=0)
        with heavy_job(study, "load test", exclusive=True) as turn:
            bar = st.progress(0.0, "Warming up…")
            results = loadtest.run_apart(
                handle.port, traffic, tuple(sorted(levels)), int(requests), float(seconds),
                progress=lambda share, lv: bar.progress(share, f"c={lv.concurrency}: {lv.rps:,.0f} req/s"),
            )  # fmt: skip
            bar.empty()
        last = {"version": handle.version, "max_batch": handle.max_batch, "levels": results, "turn": turn}
        state.loadtest = last
        label = run_label(handle.version, handle.max_batch, handle.max_wait_ms)
        state.loadtests.pop(label, None)  # the latest run goes last: its knee is marked
        state.loadtests[label] = results
    last = state.loadtest
    if not last:
        st.caption(
            "Requests are drawn from the study's own traffic (cold-start cases included). Each level "
            "stops at its request count or its time cap, whichever comes first."
        )
        return
    results = last["levels"]
    runs = state.loadtests
    st.plotly_chart(latency_throughput(runs, slo), key=keys.key("latency_chart"))
    if len(runs) > 1:
        st.button("Clear earlier runs", on_click=keep_latest, args=(runs,), key=keys.key("clear_runs"))
    table = pd.DataFrame([lv.to_dict() for lv in results])
    st.dataframe(
        table[
            [
                "concurrency",
                "requests",
                "errors",
                "rps",
                "p50_ms",
                "p95_ms",
                "p99_ms",
                "server_ms",
                "overhead_ms",
                "littles_law",
                "stopped_by",
            ]
        ],  # fmt: skip
        hide_index=True,
        column_config={
            "rps": st.column_config.NumberColumn("req/s", format="%.0f"),
            "p50_ms": st.column_config.NumberColumn("p50 ms", format="%.2f"),
            "p95_ms": st.column_config.NumberColumn("p95 ms", format="%.2f"),
            "p99_ms": st.column_config.NumberColumn("p99 ms", format="%.2f"),
            "server_ms": st.column_config.NumberColumn(
                "server ms", format="%.2f", help="X-Server-Time-Ms, mean"
            ),
            "overhead_ms": st.column_config.NumberColumn(
                "outside the handler ms",
                format="%.2f",
                help="Client-measured mean minus server time: network, HTTP and JSON at c=1; above it "
                "mostly queueing",
            ),
            "littles_law": st.column_config.NumberColumn(
                "L = λ·W",
                format="%.1f",
                help="Requests in flight implied by throughput × mean latency; "
                "it should match the concurrency",
            ),  # fmt: skip
        },
    )
    first, bend = results[0], loadtest.knee(results)
    notes = [
        f"At c={first.concurrency} a request spends {first.server_ms:.2f} ms in the server and "
        f"{first.overhead_ms:.2f} ms in the network, HTTP and JSON.",
        "Little's law (requests in flight = throughput × latency): "
        + "; ".join(f"c={lv.concurrency} → {lv.littles_law_concurrency:.1f}" for lv in results)
        + ".",
    ]
    if bend is not None:
        notes.append(knee_note(bend, results[results.index(bend) + 1]))
    notes.append(alone_note(last["turn"], handle))
    if last["max_batch"] > 1:
        info = handle.model() if handle.version == last["version"] else {}
        if "mean_batch" in info:
            notes.append(f"Micro-batching formed batches of {info['mean_batch']:.1f} requests on average.")
    unbatched = runs.get(run_label(last["version"], 1, 0))
    if last["max_batch"] > 1 and unbatched:
        notes += batching_effect(unbatched, results)
    st.markdown("\n".join(f"- {n}" for n in notes))


def replica_note(handle: process.ServerProcess) -> str:
    """This endpoint's measured memory and who shares it, beside the replica's cap."""
    endpoints = process.shared()
    sessions = dict((s.process.pid, n) for s, n in endpoints).get(handle.process.pid, 1)
    total = sum(s.rss_mb() for s, _ in endpoints)
    return (
        f"This endpoint holds {handle.rss_mb():,.0f} MB (resident) and serves {sessions} "
        f"session{'s' * (sessions != 1)}. The server runs {len(endpoints)} of at most "
        f"{process.MAX_ENDPOINTS} endpoints ({total:,.0f} MB in all)."
    )


def alone_note(turn: Turn, handle: process.ServerProcess) -> str:
    """What shared the machine with the load test: no other heavy job (a load test runs alone on the
    queue), but other sessions' page repaints and requests to a shared endpoint can."""
    waited = f" after waiting {turn.waited_s:.0f} s for its turn" if turn.waited_s >= 1 else ""
    sharing = dict((s.process.pid, n) for s, n in process.shared()).get(handle.process.pid, 1)
    others = (
        f" This endpoint is shared by {sharing} sessions: their requests during the run count in its figures."
        if sharing > 1
        else ""
    )
    return f"The load test ran with no other heavy job on this server{waited}.{others}"


def knee_note(bend: Level, after: Level) -> str:
    """The knee in the table's own numbers, so the sentence cannot contradict the table (a fixed
    "latency rises" once sat under a table whose latency fell, on a busy machine)."""
    growth = after.rps / bend.rps - 1
    text = (
        f"The knee is at c={bend.concurrency}: going to c={after.concurrency} bought {growth:+.0%} "
        f"throughput ({bend.rps:,.0f} → {after.rps:,.0f} req/s) while p50 went from {bend.p50_ms:.2f} to "
        f"{after.p50_ms:.2f} ms"
    )
    if after.p50_ms > bend.p50_ms:
        return text + ": past it, extra requests mostly wait in the queue."
    return text + ": throughput stopped growing, and this run's latency did not show the queue yet."


def keep_latest(runs: dict) -> None:
    label, levels = list(runs.items())[-1]
    runs.clear()
    runs[label] = levels


def batching_effect(off: list, on: list) -> list[str]:
    """Micro-batching against none, level by level where both runs measured the same concurrency."""
    before = {lv.concurrency: lv for lv in off}
    lines = []
    for after in on:
        if after.concurrency in before:
            b = before[after.concurrency]
            lines.append(
                f"Micro-batching at c={after.concurrency}: {after.rps:,.0f} vs {b.rps:,.0f} req/s "
                f"({after.rps / b.rps:.2f}×), p50 {after.p50_ms:.2f} vs {b.p50_ms:.2f} ms."
            )
    return lines


# -- charts --------------------------------------------------------------------------------------
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
    latencies = [v for levels in runs.values() for lv in levels for v in (lv.p50_ms, lv.p99_ms)]
    fig.update_yaxes(**log_ticks([*latencies, slo_ms]))
    return layout(fig, "throughput (requests/s)", "latency (ms, log scale)")


def run_label(version: int, max_batch: int, max_wait_ms: float) -> str:
    batching = f"batches ≤ {max_batch} within {max_wait_ms:g} ms" if max_batch > 1 else "no batching"
    return f"v{version}, {batching}"
