"""MLSD Lab benchmarks: engine overhead, browser repaint latency, cold start, server memory.

Run from the repository root: `python bench/run.py [--repeats N]`. Writes bench/results.json.
Targets: recommendation warm repaint p95 <= 150 ms, new configuration p95 <= 1.5 s, engine / raw calls
<= 1.2x, cold start to first paint <= 3 s, server RSS with the study warm <= 500 MB; fraud warm repaint
p95 <= 150 ms, new configuration p95 <= 2 s; search warm repaint p95 <= 150 ms, new index configuration
p95 <= 2 s, one typed query <= 50 ms of server time; pymk warm repaint p95 <= 150 ms, new
configuration p95 <= 2 s. The interview figures have no target yet.
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
from case_studies.recommendation import pipeline  # noqa: E402
from case_studies.recommendation.world import generate_world  # noqa: E402
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


def raw_library_calls(seed: int) -> float:
    """The default configuration's heavy work, called straight on the libraries: world, ALS + BM25
    kNN fits, a tree ranker fit on candidate scores, serving every user and nDCG. Seconds."""
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
        for memo in (pipeline._prepared, pipeline._trained, pipeline._rankers):
            memo.clear()
        start = time.perf_counter()
        engine.run("recommendation", {}, seed=100 + i)
        wrapped.append(time.perf_counter() - start)
    return {
        "raw_s_median": statistics.median(raw),
        "engine_s_median": statistics.median(wrapped),
        "ratio": statistics.median(wrapped) / statistics.median(raw),
    }


def browser_figures(repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    results: dict = {}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)  # before the clock starts: not part of the app's start
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        launched = time.perf_counter()
        proc, url = start_server(log)
        results["server_healthy_s"] = time.perf_counter() - launched
        try:
            page.goto(f"{url}/study?study=recommendation")
            page.get_by_test_id("stTopNavLink").first.wait_for()
            results["cold_start_to_app_shell_s"] = time.perf_counter() - launched
            page.get_by_role("heading", name="Design a YouTube-style video recommender").wait_for()
            results["cold_start_to_heading_s"] = time.perf_counter() - launched
            page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
            wait_for_app(page)
            results["cold_start_to_metrics_s"] = time.perf_counter() - launched
            results["warm_repaint_ms"] = _slider_repaints(
                page, "Candidate pool N", ["End", "Home"], repeats, "Candidate recall@N", warm_up=True
            )
            results["new_config_repaint_ms"] = _slider_repaints(
                page, "World: behavioural noise", ["ArrowRight"], repeats, "nDCG@10", warm_up=False
            )
            results["server_rss_mb"] = _rss_mb(proc.pid)
            results["fraud"] = _fraud_figures(page, url, repeats)
            results["search"] = _search_figures(page, url, repeats)
            results["pymk"] = _pymk_figures(page, url, repeats)
            results["server_rss_mb_all_studies"] = _rss_mb(proc.pid)
        finally:
            browser.close()
            proc.terminate()
            proc.wait(timeout=10)
    return results


def _open_study(page, url: str, study_id: str) -> float:
    """Open a study on a running server; seconds until its metrics are shown and the run is done."""
    start = time.perf_counter()
    page.goto(f"{url}/study?study={study_id}")
    page.get_by_role("heading", name=engine.get_study(study_id).question).wait_for()
    page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
    wait_for_app(page)
    return time.perf_counter() - start


def _fraud_figures(page, url: str, repeats: int) -> dict:
    """The fraud study on the same (warm) server: its first paint, then warm and new configurations."""
    figures = {"first_visit_to_metrics_s": _open_study(page, url, "fraud")}
    figures["warm_repaint_ms"] = _slider_repaints(
        page, "Cost of a false alarm", ["End", "Home"], repeats, "Alerts per day", warm_up=True
    )
    figures["new_config_repaint_ms"] = _slider_repaints(
        page, "Label delay", ["ArrowRight"], min(repeats, 20), "Average precision", warm_up=False
    )
    return figures


def _search_figures(page, url: str, repeats: int) -> dict:
    """The search study on the same server: warm repaint, a new index configuration (a BM25 index and
    re-ranker built for each k1), then typed queries' server time on the engine directly."""
    figures = {"first_visit_to_metrics_s": _open_study(page, url, "search")}
    figures["warm_repaint_ms"] = _slider_repaints(
        page, "Hybrid: BM25 share", ["End", "Home"], repeats, "nDCG@10", warm_up=True
    )
    figures["new_index_repaint_ms"] = _slider_repaints(  # no shown value is sure to change per k1 step
        page, "BM25 k1 (term saturation)", ["ArrowRight"], min(repeats, 15), None, warm_up=False
    )
    figures["typed_query"] = typed_query_times()
    return figures


def _pymk_figures(page, url: str, repeats: int) -> dict:
    """People you may know on the same server: warm repaint of a post-processing knob, then a new
    friends-of-friends cap (every evaluation user's candidates scored again, the ranker retrained)."""
    figures = {"first_visit_to_metrics_s": _open_study(page, url, "pymk")}
    figures["warm_repaint_ms"] = _slider_repaints(
        page, "Most suggestions from one community", ["Home", "End"], repeats, "Recall@10", warm_up=True
    )
    figures["new_config_repaint_ms"] = _slider_repaints(
        page, "Friends-of-friends cap per user", ["ArrowRight"], min(repeats, 10), "Candidate recall",
        warm_up=False,
    )  # fmt: skip
    return figures


def typed_query_times(n: int = 100) -> dict:
    """Server time of single typed queries at default scale (the engine warm, as in a live server):
    the request path alone, and the whole probe that also builds the tables the page shows."""
    from case_studies.search import pipeline as search

    study = engine.get_study("search")
    config = study.defaults()
    system, _ = search.assemble(config, 0, None)
    queries = [system.prep.catalogue.queries[q] for q in system.prep.catalogue.test_queries[:n]]
    path, probe = [], []
    for text in queries:
        path.append(sum(system.search(text)["ms"].values()))
        start = time.perf_counter()
        study.probe.run(config, 0, None, text)
        probe.append((time.perf_counter() - start) * 1000)
    return {
        "request_path_p50_ms": percentile(path, 50),
        "request_path_p95_ms": percentile(path, 95),
        "with_result_tables_p50_ms": percentile(probe, 50),
        "with_result_tables_p95_ms": percentile(probe, 95),
    }


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
            page.goto(f"{url}/interview?study=recommendation")
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
    warm, floor = results["browser"]["warm_repaint_ms"], results["floor_page_warm_repaint_ms"]
    results["warm_repaint_over_floor"] = {
        key: warm[key] / floor[key] for key in ("value_shown_p50", "run_finished_p50", "run_finished_p95")
    }
    results_file.save(results_file.load() | results)  # other benches' keys stay
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
