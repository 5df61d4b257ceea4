"""Production-lab benchmarks, in one run: per study, the endpoint's p50 / p99 and throughput at
concurrency 1 and 16, its HTTP + JSON overhead over the in-process time per request, batch rows/s and
its ratio to online; the run-to-run spread of the same design's latency (the noise floor the study
pages use); and the study page's warm repaint while a load test runs against an endpoint.

Run from the repository root: `python bench/production.py [--only-noise] [--study ID ...]`. Writes the
"production" key of bench/results.json (a `--study` run updates that study's figures only). Targets:
HTTP + JSON overhead <= 1 ms at c=1; warm repaint p95 <= 150 ms during a load test."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import engine  # noqa: E402
from bench import results_file  # noqa: E402
from bench.studies import shown_metric, warm_keys, warm_knob  # noqa: E402
from engine.serving import batch, loadtest, process  # noqa: E402
from engine.serving.registry import Registry  # noqa: E402

STUDIES = [s.id for s in engine.list_studies() if s.serving]


def endpoint_figures(registry: Registry, requests: int, studies: list[str]) -> dict:
    out = {}
    for study in studies:
        model = registry.register(study, {}, 0)
        predictor = registry.load(model)
        traffic = predictor.traffic(2000, seed=0)
        in_process, in_noise = batch.online_ms(predictor, traffic[:200])
        server = process.start(study, model.version)
        try:
            levels = loadtest.run(server.port, traffic, (1, 16), requests, 20.0, warmup=100)
        finally:
            server.stop()
        job = batch.run_batch(predictor)
        one, sixteen = levels
        out[study] = {
            "c1": {k: one.to_dict()[k] for k in ("p50_ms", "p99_ms", "rps", "server_ms", "errors")},
            "c16": {k: sixteen.to_dict()[k] for k in ("p50_ms", "p99_ms", "rps", "server_ms", "errors")},
            "in_process_ms": in_process,
            "in_process_noise_ms": in_noise,
            "http_json_overhead_ms": one.p50_ms - in_process,
            "client_minus_server_ms_c1": one.overhead_ms,
            "batch_rows_per_s": job.rows_per_s,
            "batch_over_online_http_c1": job.rows_per_s / one.rps,
            "batch_over_online_in_process": job.rows_per_s * in_process / 1000,
        }
        print(study, json.dumps(out[study]), flush=True)
    return out


def run_to_run(studies: list[str], runs: int = 8) -> dict:
    """The same design run `runs` times in one process after a warm-up run: the largest relative
    distance of a run's latency from the median, per study."""
    out = {}
    for study in studies:
        key = "latency_p50_ms"
        engine.run(study, {}, 0)
        values = np.array([engine.run(study, {}, 0).metrics[key] for _ in range(runs)])
        median = float(np.median(values))
        out[study] = {
            "metric": key,
            "median_ms": median,
            "max_relative_spread": float(np.max(np.abs(values - median)) / median),
            "floor_used": engine.get_study(study).latency_floor,
        }
        print(study, out[study], flush=True)
    return out


def repaint_under_load(repeats: int, registry: Registry) -> dict:
    """Warm repaint of the first study's page, idle and while 16 clients load its endpoint."""
    from playwright.sync_api import sync_playwright
    from run import _slider_repaints  # bench/run.py

    from tests.e2e.harness import launch_browser, start_server, wait_for_app

    study = engine.list_studies()[0]
    warm = warm_knob(study)
    model = registry.register(study.id, {}, 0)
    traffic = registry.load(model).traffic(2000, seed=0)
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    results = {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        proc, url = start_server(log)
        server = process.start(study.id, model.version)
        try:
            page.goto(f"{url}/study?study={study.id}")
            page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
            wait_for_app(page)
            args = (warm.label, warm_keys(warm), repeats, shown_metric(study, warm))
            results["idle"] = _slider_repaints(page, *args, warm_up=True)
            stop = threading.Event()

            def load() -> None:
                while not stop.is_set():
                    loadtest.run_level(server.port, traffic, 16, 2000, 5.0)

            thread = threading.Thread(target=load, daemon=True)
            thread.start()
            # Continue from where the idle presses left the slider, or the first press changes nothing.
            keys = ["End", "Home"] if repeats % 2 == 0 else ["Home", "End"]
            results["during_load_test"] = _slider_repaints(
                page, "Candidate pool N", keys, repeats, "Candidate recall@N", warm_up=False
            )
            stop.set()
            thread.join(30)
        finally:
            server.stop()
            browser.close()
            proc.terminate()
            proc.wait(timeout=10)
    results["p95_ratio_during_over_idle"] = (
        results["during_load_test"]["run_finished_p95"] / results["idle"]["run_finished_p95"]
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="per concurrency level")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--only-noise", action="store_true")
    parser.add_argument("--study", action="append", choices=STUDIES, help="only this study (repeatable)")
    args = parser.parse_args()
    studies = args.study or STUDIES
    tmp = Path(tempfile.mkdtemp())
    os.environ["MLSD_LAB_DB"] = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["MLSD_LAB_DATA"] = str(tmp)
    registry = Registry.from_url(os.environ["MLSD_LAB_DB"])
    results = results_file.load()
    figures = results.setdefault("production", {})
    figures.setdefault("run_to_run_latency", {}).update(run_to_run(studies))
    if not args.only_noise:
        figures.setdefault("endpoint", {}).update(endpoint_figures(registry, args.requests, studies))
        figures["warm_repaint_ms_during_load_test"] = repaint_under_load(args.repeats, registry)
    results_file.save(results)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
