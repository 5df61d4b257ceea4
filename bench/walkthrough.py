"""The walkthrough's next step, with and without the variants of later steps warmed in the background
while a step is read.

Run from the repository root: `python bench/walkthrough.py [--read 30]`. Writes the "walkthrough"
key of bench/results.json. For each study, on a fresh server: open its walkthrough at the model step
(cold: the seconds until its numbers show), read it for `--read` seconds, then press the button to
the evaluation step and time until that step's numbers show. The same on a second fresh server with
warming off (MLSD_LAB_WARM_AHEAD=0). Target: the next step within 2 s once warmed."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from bench import results_file  # noqa: E402
from engine.content import load_steps  # noqa: E402
from tests.e2e.harness import launch_browser, start_server, wait_for_app  # noqa: E402

MODEL_STEP = 3  # 0-based: the model step, then the evaluation step; both quote several variants


def next_step_seconds(browser, study_id: str, read_s: float, warm: bool) -> dict:
    os.environ["MLSD_LAB_WARM_AHEAD"] = "1" if warm else "0"  # the server inherits it
    proc, url = start_server(Path(tempfile.mkdtemp()) / "streamlit.log")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        titles = [f"{i}. {s.title}" for i, s in enumerate(load_steps(engine.get_study(study_id)), 1)]
        start = time.perf_counter()
        step = quote(titles[MODEL_STEP])
        page.goto(f"{url}/study?study={study_id}&{study_id}.view=Walkthrough&{study_id}.step={step}")
        page.locator(f"#{study_id}-step").wait_for(timeout=600_000)
        wait_for_app(page, timeout=600_000)
        cold = time.perf_counter() - start
        page.wait_for_timeout(read_s * 1000)
        start = time.perf_counter()
        page.get_by_role("button", name=titles[MODEL_STEP + 1]).click()
        heading = titles[MODEL_STEP + 1].split(". ", 1)[1]
        page.locator(f"#{study_id}-step").filter(has_text=heading).wait_for(timeout=600_000)
        wait_for_app(page, timeout=600_000)
        return {"cold_step_s": cold, "next_step_s": time.perf_counter() - start}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--read", type=float, default=30.0, help="seconds spent reading a step")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = {"read_s": args.read}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for study in engine.list_studies():
            warmed = next_step_seconds(browser, study.id, args.read, warm=True)
            plain = next_step_seconds(browser, study.id, args.read, warm=False)
            results[study.id] = {
                "warmed": warmed,
                "not_warmed": plain,
                "next_step_speedup": plain["next_step_s"] / warmed["next_step_s"],
            }
            print(study.id, json.dumps(results[study.id]), flush=True)
        browser.close()
    results_file.store("walkthrough", results)


if __name__ == "__main__":
    main()
