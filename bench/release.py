"""Release and monitoring speed: a canary, 200 seeded canaries, a 28-day drift scenario, in process
and in the browser (click to chart). Targets (issue "Production lab, part 2"): a canary and a drift
scenario repaint in <= 2 s, 200 repeats in <= 20 s.

Run from the repository root: `python bench/release.py [--studies ID,ID] [--no-browser]`.
Writes bench/results.json["release"]."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from bench import results_file  # noqa: E402

REPEATS = 5


def challenger(study: str) -> dict:
    """A second version to release against the defaults: the study's first declared lesson's change."""
    from engine.study import get_study

    return dict(get_study(study).lessons[0].change)


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def engine_figures(study: str) -> dict:
    from engine.monitoring import lab as monitoring
    from engine.monitoring.simulate import simulate
    from engine.release import canary, lab
    from engine.serving.registry import Registry
    from engine.study import get_study

    registry = Registry.from_url(os.environ["MLSD_LAB_DB"])
    champion = registry.register(study, {}, seed=0)
    second = registry.register(study, challenger(study), seed=0)
    pair = lab.pick(registry, study, champion.version, second.version)
    schedule = canary.Schedule(rpm=pair.release.default_rpm)
    cold, _ = timed(lambda: lab.run_canary(registry, pair, schedule, apply=False))
    warm = [
        timed(lambda i=i: lab.run_canary(registry, pair, schedule, seed=i, apply=False))[0]
        for i in range(REPEATS)
    ]
    repeats_s, _ = timed(lambda: lab.statistics(registry, pair, schedule, repeats=200))
    scenario = next(s.name for s in pair.study.drift.scenarios if s.name != "none")
    build_s, period = timed(lambda: monitoring.period(get_study(study), champion, scenario, 14))
    simulate(period)  # the first pass answers every request once per model
    drift = [timed(lambda i=i: simulate(period, seed=i))[0] for i in range(REPEATS)]
    return {
        "canary_cold_s": cold,
        "canary_warm_s": statistics.median(warm),
        "repeats_200_s": repeats_s,
        "drift_scenario": scenario,
        "drift_period_build_s": build_s,
        "drift_28_days_warm_s": statistics.median(drift),
    }


def browser_figures(study: str) -> dict:
    """Click to chart on the Production page, warm (the second click of each)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.harness import launch_browser, start_server, wait_for_app

    proc, url = start_server(Path(tempfile.mkdtemp()) / "bench.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/production?study={study}")
            wait_for_app(page, 300_000)
            page.get_by_role("button", name="Register this design").click()
            wait_for_app(page, 300_000)
            page.get_by_text("Release", exact=True).first.click()
            wait_for_app(page)
            page.get_by_role("button", name="Register this design as the challenger").click()
            wait_for_app(page, 300_000)
            canary_s = [_click(page, "Run the canary") for _ in range(REPEATS + 1)][1:]
            page.get_by_text("Monitor", exact=True).first.click()
            wait_for_app(page)
            drift_s = [_click(page, "Run the serving period") for _ in range(REPEATS + 1)][1:]
            browser.close()
    finally:
        proc.terminate()
    return {
        "canary_click_to_chart_s": statistics.median(canary_s),
        "drift_click_to_chart_s": statistics.median(drift_s),
    }


def _click(page, label: str) -> float:
    from tests.e2e.harness import wait_for_app

    start = time.perf_counter()
    page.get_by_role("button", name=label).click()
    wait_for_app(page, 300_000)
    page.get_by_test_id("stPlotlyChart").first.wait_for(state="visible")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", help="comma-separated ids (default: every study with a release)")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    os.environ["MLSD_LAB_DB"] = f"sqlite:///{root / 'bench.db'}"
    os.environ["MLSD_LAB_DATA"] = str(root)
    from engine.study import list_studies

    released = [s.id for s in list_studies() if s.release is not None and s.drift is not None]
    studies = args.studies.split(",") if args.studies else released
    figures = {study: engine_figures(study) for study in studies}
    if not args.no_browser:  # the browser path on the first of them
        figures[f"browser_{studies[0]}"] = browser_figures(studies[0])
    print(json.dumps(figures, indent=2))
    results_file.store("release", figures)


if __name__ == "__main__":
    main()
