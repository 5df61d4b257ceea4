"""Production: register model versions, serve one on a real local endpoint, load-test it, compare
batch and online inference, plan capacity, release a challenger by shadow and canary, and monitor a
serving period for drift, all from measurements of the running system and its simulated world."""

import json

import pandas as pd
import streamlit as st

from engine.data import DataError
from engine.serving import capacity, loadtest, process, sizing
from engine.serving.artifact import ArtifactError
from engine.serving.registry import CHALLENGER, CHAMPION, Registry, RegistryError, diff
from engine.study import Study
from ui import db, monitor, release
from ui import production as prod
from ui.knobs import current_config
from ui.studies import pick_study
from ui.views import describe

REGISTRY, SERVE, BATCH, CAPACITY = "Registry", "Serve and load-test", "Batch vs online", "Capacity plan"
RELEASE, MONITOR = "Release", "Monitor"
LEVELS = (1, 4, 16, 64)


def register_current(study: Study, registry: Registry, alias: str | None = None) -> None:
    config = current_config(study)
    seed = int(st.session_state.get(f"{study.id}.seed", 0))
    with st.spinner("Training this design and writing its artifact…", show_time=True):
        model = registry.register(study, config, seed)
    if alias:
        registry.set_alias(study.id, alias, model.version)
    named = f" as the {alias}" if alias else ""
    st.toast(f"Registered {study.title} version {model.version}{named}", icon=":material/inventory_2:")


def registry_view(study: Study, registry: Registry) -> None:
    design = current_config(study)
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown(f"**This design:** {describe(study, design)} (from the study page's knobs in this session)")
    if right.button("Register this design", icon=":material/inventory_2:", type="primary", width="stretch"):
        register_current(study, registry)
    versions = registry.versions(study.id)
    if not versions:
        st.info("No versions yet. Register the current design to start.", icon=":material/inventory_2:")
        return
    aliases = registry.aliases(study.id)
    by_version = {v: a for a, v in aliases.items()}
    quality, latency = study.metric(study.quality_metric), _latency_metric(study)
    st.dataframe(
        pd.DataFrame(
            {
                "version": [v.version for v in versions],
                "alias": [by_version.get(v.version, "") for v in versions],
                "design": [describe(study, v.config) for v in versions],
                quality.label: [quality.format(v.metrics.get(quality.key)) for v in versions],
                latency.label: [latency.format(v.metrics.get(latency.key)) for v in versions],
                "seed": [v.seed for v in versions],
                "artifact sha256": [v.sha256[:12] for v in versions],
                "size": [f"{v.size_bytes / 1e6:.1f} MB" for v in versions],
                "registered": [
                    pd.Timestamp(v.created_at, unit="s").strftime("%Y-%m-%d %H:%M") for v in versions
                ],
            }
        ),
        hide_index=True,
    )
    numbers = [v.version for v in versions]
    pick, promote, challenge, back = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox("Version", numbers, index=len(numbers) - 1, key=f"{study.id}.alias_target")
    if promote.button("Promote to champion", width="stretch", disabled=aliases.get(CHAMPION) == chosen):
        registry.promote(study.id, chosen)
        st.rerun()
    if challenge.button("Make challenger", width="stretch", disabled=aliases.get(CHALLENGER) == chosen):
        registry.set_alias(study.id, CHALLENGER, chosen)
        st.rerun()
    if back.button("Roll back champion", width="stretch", disabled=CHAMPION not in aliases):
        try:
            st.toast(f"Champion rolled back to version {registry.rollback(study.id)}")
            st.rerun()
        except RegistryError as err:
            st.warning(str(err), icon=":material/undo:")
    history = registry.history(study.id)
    if history:
        with st.expander(f"Alias history ({len(history)} moves)"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "when": [pd.Timestamp(e.at, unit="s").strftime("%Y-%m-%d %H:%M:%S") for e in history],
                        "alias": [e.alias for e in history],
                        "action": [e.action for e in history],
                        "from": [e.from_version for e in history],
                        "to": [e.to_version for e in history],
                    }
                ),
                hide_index=True,
            )
    if len(versions) > 1:
        st.markdown("**Compare two versions**")
        a_col, b_col = st.columns(2)
        a = a_col.selectbox("A", numbers, index=len(numbers) - 2, key=f"{study.id}.diff_a")
        b = b_col.selectbox("B", numbers, index=len(numbers) - 1, key=f"{study.id}.diff_b")
        changes = diff(registry.get(study.id, a), registry.get(study.id, b))
        rows = [("knob", k, va, vb) for k, (va, vb) in changes["config"].items()]
        rows += [
            ("metric", study.metric(k).label, study.metric(k).format(va), study.metric(k).format(vb))
            for k, (va, vb) in changes["metrics"].items()
            if k in {m.key for m in study.metrics}
        ]
        if rows:
            st.dataframe(
                pd.DataFrame(rows, columns=["", "what", f"v{a}", f"v{b}"]).astype(str), hide_index=True
            )
        else:
            st.caption("Same configuration and metrics.")


def _latency_metric(study: Study):
    return next(m for m in study.metrics if m.group == "system" and m.unit == "ms")


def pick_version(study: Study, registry: Registry, key: str):
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
        key=key,
        format_func=lambda n: f"v{n}" + (f" ({aliases[n]})" if n in aliases else ""),
    )
    return registry.get(study.id, chosen)


def serve_view(study: Study, registry: Registry) -> None:
    handle = prod.server(study)
    if handle is None:
        model = pick_version(study, registry, f"{study.id}.serve_version")
        if model is None:
            return
        batch_col, wait_col = st.columns(2)
        max_batch = batch_col.number_input(
            "Micro-batching: max batch size", 1, 64, 1, key=f"{study.id}.max_batch",
            help="1 = off. Above 1 the server queues requests and answers up to this many with one call "
            "(Ray Serve's default is 10).",
        )  # fmt: skip
        max_wait = wait_col.number_input(
            "Micro-batching: max wait (ms)", 1.0, 100.0, 10.0, key=f"{study.id}.max_wait",
            disabled=max_batch == 1, help="How long the first request of a batch waits for company.",
        )  # fmt: skip
        if st.button("Start the endpoint", icon=":material/play_arrow:", type="primary"):
            try:
                with st.spinner(
                    f"Starting a server for v{model.version} and loading its artifact…", show_time=True
                ):
                    prod.start_server(study, model.version, db.url(), int(max_batch), float(max_wait))
            except process.ServerError as err:
                st.error(f"The server did not start: {err}", icon=":material/error:")
                return
            st.rerun()
        st.caption(
            "The endpoint is a separate uvicorn process on 127.0.0.1, so a load test does not slow this "
            f"page. It stops when you press Stop, after {process.IDLE_SECONDS // 60} idle minutes, or "
            "with the app."
        )
        return
    info = handle.model()
    st.success(
        f"Serving **v{handle.version}** at `{handle.url}` (pid {handle.process.pid}, up {prod.uptime(handle)}"
        + (
            f", micro-batching up to {handle.max_batch} within {handle.max_wait_ms:g} ms"
            if handle.max_batch > 1
            else ""
        )
        + ")",
        icon=":material/dns:",
    )
    st.button("Stop the endpoint", icon=":material/stop:", on_click=prod.stop_server, args=(study,))
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
    levels_col, count_col, time_col = st.columns(3)
    levels = levels_col.multiselect("Concurrency levels", LEVELS, default=LEVELS, key=f"{study.id}.levels")
    requests = count_col.number_input(
        "Requests per level (cap)", 50, 5000, 400, 50, key=f"{study.id}.requests"
    )
    seconds = time_col.number_input("Seconds per level (cap)", 1.0, 30.0, 5.0, key=f"{study.id}.seconds")
    slo = st.session_state.get(f"{study.id}.slo", capacity.Inputs.slo_p99_ms)
    if st.button("Run the load test", icon=":material/speed:", disabled=not levels, type="primary"):
        model = registry.get(study.id, handle.version)
        traffic = prod.predictor(study.id, model.version, model.sha256, registry, model).traffic(2000, seed=0)
        bar = st.progress(0.0, "Warming up…")
        results = loadtest.run(
            handle.port, traffic, tuple(sorted(levels)), int(requests), float(seconds),
            progress=lambda share, lv: bar.progress(share, f"c={lv.concurrency}: {lv.rps:,.0f} req/s"),
        )  # fmt: skip
        bar.empty()
        last = {"version": handle.version, "max_batch": handle.max_batch, "levels": results}
        st.session_state[f"{study.id}.loadtest"] = last
        label = prod.run_label(handle.version, handle.max_batch, handle.max_wait_ms)
        runs = st.session_state.setdefault(f"{study.id}.loadtests", {})
        runs.pop(label, None)  # the latest run goes last: its knee is marked
        runs[label] = results
    last = st.session_state.get(f"{study.id}.loadtest")
    if not last:
        st.caption(
            "Requests are drawn from the study's own traffic (cold-start cases included). Each level "
            "stops at its request count or its time cap, whichever comes first."
        )
        return
    results = last["levels"]
    runs = st.session_state.get(f"{study.id}.loadtests", {})
    st.plotly_chart(prod.latency_throughput(runs, slo), key=f"{study.id}.latency_chart")
    if len(runs) > 1:
        st.button("Clear earlier runs", on_click=keep_latest, args=(runs,), key=f"{study.id}.clear_runs")
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
        notes.append(
            f"The knee is at c={bend.concurrency} ({bend.rps:,.0f} req/s): beyond it throughput grows by "
            "under 10 % and the extra requests only queue, so latency rises."
        )
    if last["max_batch"] > 1:
        info = handle.model() if handle.version == last["version"] else {}
        if "mean_batch" in info:
            notes.append(f"Micro-batching formed batches of {info['mean_batch']:.1f} requests on average.")
    unbatched = runs.get(prod.run_label(last["version"], 1, 0))
    if last["max_batch"] > 1 and unbatched:
        notes += batching_effect(unbatched, results)
    st.markdown("\n".join(f"- {n}" for n in notes))


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


def batch_view(study: Study, registry: Registry) -> None:
    model = pick_version(study, registry, f"{study.id}.batch_version")
    if model is None:
        return
    predictor = prod.predictor(study.id, model.version, model.sha256, registry, model)
    clicked = st.button(
        f"Run the batch job over {study.serving.population_label}", icon=":material/table_view:"
    )
    if not clicked and f"{study.id}.batch.{model.version}" not in st.session_state:
        st.caption("The batch job scores the whole population with the same artifact the endpoint serves.")
        return
    job = prod.batch_profile(study.id, model.version, model.sha256, predictor).to_dict()
    st.session_state[f"{study.id}.batch.{model.version}"] = True
    online_rps = 1000 / job["online_ms"]
    rates = {"batch job": job["rows_per_s"], "online, in process": online_rps}
    last = st.session_state.get(f"{study.id}.loadtest")
    if last and last["version"] == model.version:
        best = max(last["levels"], key=lambda lv: lv.rps)
        rates[f"online over HTTP (c={best.concurrency})"] = best.rps
    cols = st.columns(4)
    cols[0].metric("Rows", f"{job['rows']:,}", border=True)
    cols[1].metric("Wall time", f"{job['seconds']:.2f} s", border=True)
    cols[2].metric("Rows per second", f"{job['rows_per_s']:,.0f}", border=True)
    cols[3].metric("Output", f"{job['output_mb']:.2f} MB", border=True)
    st.plotly_chart(prod.batch_vs_online(rates), key=f"{study.id}.batch_chart")
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


def capacity_view(study: Study, registry: Registry) -> None:
    model = pick_version(study, registry, f"{study.id}.capacity_version")
    if model is None:
        return
    a, b, c = st.columns(3)
    key = study.id
    inputs = capacity.Inputs(
        dau=int(a.number_input("Daily active users", 1_000, 10**9, 1_000_000, 100_000, key=f"{key}.dau")),
        requests_per_user=b.number_input("Requests per user per day", 0.1, 1000.0, 10.0, key=f"{key}.rpu"),
        peak_factor=c.number_input("Peak-to-average factor", 1.0, 20.0, 3.0, key=f"{key}.peak"),
        slo_p99_ms=a.number_input("p99 SLO (ms)", 1.0, 10_000.0, 100.0, key=f"{key}.slo"),
        usd_per_core_hour=b.number_input(
            "$ per core-hour", 0.001, 5.0, 0.05, format="%.3f", key=f"{key}.usd"
        ),
        utilisation=c.slider("Target utilisation", 0.1, 0.9, 0.6, 0.05, key=f"{key}.util"),
    )
    predictor = prod.predictor(study.id, model.version, model.sha256, registry, model)
    last = st.session_state.get(f"{study.id}.loadtest")
    levels = last["levels"] if last and last["version"] == model.version else ()
    profile = prod.batch_profile(study.id, model.version, model.sha256, predictor)
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


def release_view(study: Study, registry: Registry) -> None:
    if study.serving.release is None:
        st.info("This study declares no online metric to release on.", icon=":material/info:")
        return
    release.release_view(study, registry, register_current)


def monitor_view(study: Study, registry: Registry) -> None:
    if study.serving.release is None:
        st.info("This study declares no live world to monitor.", icon=":material/info:")
        return
    model = pick_version(study, registry, f"{study.id}.monitor_version")
    if model is not None:
        monitor.monitor_view(study, registry, model)


def _figure(value: float) -> str:
    if float(value).is_integer() or value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


@st.cache_data(max_entries=64, show_spinner="Measuring this version…")
def _measured(study_id, version, sha256, inputs, levels, _study, _model, _predictor, _profile):
    return sizing.measure(_study, _model, _predictor, inputs, levels, _profile)


study = pick_study()
st.title(f"Production: {study.title.lower()}")
st.caption(
    "Register model versions, serve one on a real local endpoint, load-test it, compare batch and online "
    "inference, plan capacity, release a challenger and watch for drift. Every number is measured on "
    "this machine or in the study's simulated world."
)
if study.serving is None:
    st.info("This study declares nothing to serve yet.", icon=":material/info:")
    st.stop()
registry = db.registry()
view = st.segmented_control(
    "View",
    [REGISTRY, SERVE, BATCH, CAPACITY, RELEASE, MONITOR],
    key="production.view",
    default=REGISTRY,
    required=True,
    bind="query-params",
    label_visibility="collapsed",
)
try:
    views = {
        REGISTRY: registry_view,
        SERVE: serve_view,
        BATCH: batch_view,
        CAPACITY: capacity_view,
        RELEASE: release_view,
        MONITOR: monitor_view,
    }
    views[view](study, registry)
except (RegistryError, ArtifactError, DataError) as err:
    st.error(str(err), icon=":material/error:")
with st.sidebar:
    st.page_link(
        "app_pages/study.py",
        label="Back to the study",
        icon=":material/science:",
        query_params={"study": study.id},
    )
    running = process.running()
    if running:
        st.caption("Endpoints running: " + ", ".join(f"{s.study} v{s.version} on :{s.port}" for s in running))
