"""MLSD Lab benchmarks: engine overhead, browser repaint latency, cold start, server memory.

Run from the repository root: `python bench/run.py [--repeats N]`. Writes bench/results.json.
For every study (the knobs it moves come from bench/studies.py): its first visit, a warm repaint and a
new configuration in the browser, and its *Try it* input's server time; against the floor page
(bench/floor_app.py) measured in the same run. Targets (issue 28): warm repaint p95 <= 1.3x the floor
page's, a new configuration <= 2 s, cold start to the first study's metrics <= 3 s, engine / raw calls
<= 1.2x, server RSS with every study warm <= 500 MB. The interview figures have no target yet.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import BM25Recommender
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from bench import results_file  # noqa: E402
from bench.studies import retrain_knob, retrain_presses, shown_metric, warm_keys, warm_knob  # noqa: E402
from engine.memo import steps_of  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    launch_browser,
    press_slider,
    slider,
    start_server,
    wait_for_app,
)

VALUE_SHOWN = """([label, before]) => {
  const cards = [...document.querySelectorAll("[data-testid=stMetric]")];
  const card = cards.find(c => c.innerText.includes(label));
  const value = card && card.querySelector("[data-testid=stMetricValue]").innerText;
  return Boolean(value) && value !== before;
}"""
RUN_FINISHED = (
    '() => document.querySelector("[data-testid=stApp]")'
    '.getAttribute("data-test-script-state") === "notRunning"'
)
# Only for reruns long enough to be seen running: a fast one can go from idle back to idle in one
# render, and then no "running" state ever reaches the page.
RUN_STARTED = (
    '() => document.querySelector("[data-testid=stApp]").getAttribute("data-test-script-state") === "running"'
)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


FLAGSHIP = "recommendation"  # the engine-overhead figure compares its run with its libraries' raw calls


def raw_library_calls(seed: int) -> float:
    """The flagship's default configuration's heavy work, called straight on the libraries: world,
    ALS + BM25 kNN fits, a tree ranker fit on candidate scores, serving every user and nDCG. Seconds."""
    from case_studies.recommendation.world import generate_world

    start = time.perf_counter()
    world = generate_world(1, 0.6, 0.2, seed)
    log = world.interactions
    held_out = np.random.default_rng(seed).random(len(log)) < 0.2
    shape = (world.n_users, world.n_items)
    train = sp.csr_matrix(
        (np.ones((~held_out).sum(), np.float32), (log.user_id[~held_out], log.item_id[~held_out])),
        shape=shape,
    )
    test = (
        sp.csr_matrix(
            (np.ones(held_out.sum()), (log.user_id[held_out], log.item_id[held_out])), shape=shape
        ).toarray()
        > 0
    )
    users = np.arange(world.n_users)
    with threadpool_limits(1, "blas"):
        als = AlternatingLeastSquares(
            factors=16, regularization=0.1, alpha=5.0, random_state=seed, use_gpu=False
        )
        als.fit(train, show_progress=False)
        BM25Recommender(K=100).fit(train, show_progress=False)
        ids, scores = als.recommend(users, train, N=200)
    labels = np.take_along_axis(test, ids, axis=1)
    features = np.stack([scores, np.log1p(np.asarray(train.sum(0)).ravel()[ids])], -1).reshape(-1, 2)
    ranker = HistGradientBoostingClassifier(max_iter=80, max_leaf_nodes=15, early_stopping=False)
    ranker.fit(features, labels.ravel())
    ranked = ranker.predict_proba(features)[:, 1].reshape(ids.shape)
    top = np.take_along_axis(ids, np.argsort(-ranked, axis=1)[:, :10], axis=1)
    _ = np.take_along_axis(test, top, axis=1).mean()
    return time.perf_counter() - start


def engine_overhead(repeats: int) -> dict:
    raw, wrapped = [], []
    for i in range(repeats):
        raw.append(raw_library_calls(seed=100 + i))
        for step in steps_of(FLAGSHIP):
            step.clear()
        start = time.perf_counter()
        engine.run(FLAGSHIP, {}, seed=100 + i)
        wrapped.append(time.perf_counter() - start)
    return {
        "raw_s_median": statistics.median(raw),
        "engine_s_median": statistics.median(wrapped),
        "ratio": statistics.median(wrapped) / statistics.median(raw),
    }


def browser_figures(repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    results: dict = {"studies": {}}
    studies = engine.list_studies()
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)  # before the clock starts: not part of the app's start
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        launched = time.perf_counter()
        proc, url = start_server(log)
        results["server_healthy_s"] = time.perf_counter() - launched
        try:
            first = studies[0]
            page.goto(f"{url}/study?study={first.id}")
            page.get_by_test_id("stTopNavLink").first.wait_for()
            results["cold_start_to_app_shell_s"] = time.perf_counter() - launched
            page.get_by_role("heading", name=first.question).wait_for()
            results["cold_start_to_heading_s"] = time.perf_counter() - launched
            page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
            wait_for_app(page)
            results["cold_start_to_metrics_s"] = time.perf_counter() - launched
            results["server_rss_mb_first_study"] = _rss_mb(proc.pid)
            for study in studies:
                results["studies"][study.id] = study_figures(page, url, study, repeats)
            results["server_rss_mb_all_studies"] = _rss_mb(proc.pid)
        finally:
            browser.close()
            proc.terminate()
            proc.wait(timeout=10)
    return results


def study_figures(page, url: str, study, repeats: int) -> dict:
    """One study on the running server: its first visit, a warm repaint between two cached
    configurations, a new configuration per press (a retrain), and its Try-it input's server time."""
    warm, retrain = warm_knob(study), retrain_knob(study)
    figures = {
        "first_visit_to_metrics_s": _open_study(page, url, study.id),
        "warm_knob": warm.id,
        "retrain_knob": retrain.id,
    }
    figures["warm_repaint_ms"] = _slider_repaints(
        page, warm.label, warm_keys(warm), repeats, shown_metric(study, warm), warm_up=True
    )
    key, presses = retrain_presses(retrain, min(repeats, 10))
    figures["new_config_repaint_ms"] = _slider_repaints(  # no shown value is sure to change per step
        page, retrain.label, [key], presses, None, warm_up=False
    )
    if study.probe is not None:
        figures["probe_ms"] = probe_times(study)
    return figures


def _open_study(page, url: str, study_id: str) -> float:
    """Open a study on a running server; seconds until its metrics are shown and the run is done."""
    start = time.perf_counter()
    page.goto(f"{url}/study?study={study_id}")
    page.get_by_role("heading", name=engine.get_study(study_id).question).wait_for()
    page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
    wait_for_app(page)
    return time.perf_counter() - start


def probe_times(study, n: int = 30) -> dict:
    """Server time of the study's *Try it* with its example input (the engine warm, as in a live
    server): everything each stage makes of it, the tables the page shows included."""
    config, probe = study.defaults(), study.implementation().probe
    probe(config, 0, None, study.probe.example)  # the system built once, as a warm server has it
    times = []
    for _ in range(n):
        start = time.perf_counter()
        probe(config, 0, None, study.probe.example)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95)}


def floor_repaint(repeats: int) -> dict:
    """The same warm measurement on bench/floor_app.py, the smallest page that does the same thing."""
    from playwright.sync_api import sync_playwright

    proc, url = start_server(Path(tempfile.mkdtemp()) / "floor.log", script="bench/floor_app.py")
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page()
            page.goto(url)
            page.get_by_test_id("stMetric").first.wait_for()
            wait_for_app(page)
            figures = _slider_repaints(
                page, "Candidate pool N", ["End", "Home"], repeats, "Candidate recall@N", warm_up=True
            )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return figures


def _slider_repaints(
    page, knob: str, keys: list[str], repeats: int, label: str | None, warm_up: bool
) -> dict:
    """Press keys on the slider labelled `knob`; time each press until the rerun it started has
    finished (every chart and table of the fragment repainted) and, with a metric `label`, until that
    metric shows its new value. Leave `label` out where no shown value is sure to change: the press
    must then start a rerun slow enough to be seen running (a new configuration, not a cached one)."""
    handle = slider(page, knob)
    if warm_up:  # visit every position once so the timed presses hit the cache
        for key in keys:
            press_slider(page, knob, key)
    shown, finished = [], []
    for i in range(repeats):
        key = keys[i % len(keys)]
        if label:
            card = page.get_by_test_id("stMetric").filter(has_text=label).first  # as VALUE_SHOWN reads it
            before = card.get_by_test_id("stMetricValue").inner_text()
        handle.focus()
        start = time.perf_counter()
        handle.press(key)
        if label:
            page.wait_for_function(VALUE_SHOWN, arg=[label, before], polling="raf", timeout=60_000)
            shown.append((time.perf_counter() - start) * 1000)
        else:
            page.wait_for_function(RUN_STARTED, polling="raf", timeout=60_000)
        page.wait_for_function(RUN_FINISHED, polling="raf", timeout=60_000)
        finished.append((time.perf_counter() - start) * 1000)
    figures = {"run_finished_p50": percentile(finished, 50), "run_finished_p95": percentile(finished, 95)}
    if shown:
        figures.update(value_shown_p50=percentile(shown, 50), value_shown_p95=percentile(shown, 95))
    return {**figures, "n": len(finished)}


def interview_figures(repeats: int) -> dict:
    """The mock interview on its own server: the repaint after a design choice already run once
    (value shown), and the time from a keystroke to the answer in the database (the answer box
    waits 600 ms after the last keystroke by design)."""
    from playwright.sync_api import sync_playwright
    from sqlalchemy import create_engine

    from engine.interview.store import Store

    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    store = Store(create_engine(f"sqlite:///{log.with_suffix('.db')}"))
    proc, url = start_server(log)
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(f"{url}/interview?study={FLAGSHIP}")
            wait_for_app(page)
            page.get_by_role("button", name="Start the interview").click()
            wait_for_app(page)
            attempt_id = page.url.split("attempt=")[1]
            for _ in range(3):
                page.get_by_role("button", name="Next step").click()
                wait_for_app(page)
            options = ["item-kNN", "ALS matrix factorisation"]
            for option in options:  # both run once, so the timed clicks are warm
                page.get_by_text(option, exact=True).click()
                page.get_by_text("Your design: nDCG@10").wait_for(timeout=120_000)
                wait_for_app(page)
            choice_ms = []
            for i in range(repeats):
                card = page.get_by_test_id("stMetric").first.get_by_test_id("stMetricValue")
                before = card.inner_text()
                start = time.perf_counter()
                page.get_by_text(options[i % 2], exact=True).click()
                page.wait_for_function(VALUE_SHOWN, arg=["Your design: nDCG@10", before])
                choice_ms.append(1000 * (time.perf_counter() - start))
                wait_for_app(page)
            box = page.get_by_label("Your answer", exact=True)
            box.click()
            save_ms = []
            for i in range(max(5, repeats // 2)):
                start = time.perf_counter()
                box.press("x")
                wanted = "x" * (i + 1)
                while store.get(attempt_id).answers.get("model") != wanted:
                    time.sleep(0.005)
                save_ms.append(1000 * (time.perf_counter() - start))
                wait_for_app(page)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "warm_choice_repaint_ms": {"p50": percentile(choice_ms, 50), "p95": percentile(choice_ms, 95)},
        "keystroke_to_saved_ms": {"p50": percentile(save_ms, 50), "p95": percentile(save_ms, 95)},
    }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--only-interview", action="store_true", help="update only the interview figures")
    args = parser.parse_args()
    if args.only_interview:
        results_file.store("interview", interview_figures(args.repeats))
        print(json.dumps(results_file.load()["interview"], indent=2))
        return
    results = {
        "engine_overhead": engine_overhead(max(3, args.repeats // 4)),
        "browser": browser_figures(args.repeats),
        "floor_page_warm_repaint_ms": floor_repaint(args.repeats),
        "interview": interview_figures(args.repeats),
    }
    floor = results["floor_page_warm_repaint_ms"]
    results["warm_repaint_over_floor"] = {
        study: {
            key: figures["warm_repaint_ms"][key] / floor[key]
            for key in ("value_shown_p50", "value_shown_p95", "run_finished_p50", "run_finished_p95")
        }
        for study, figures in results["browser"]["studies"].items()
    }
    results_file.save(results_file.load() | results)  # other benches' keys stay
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
