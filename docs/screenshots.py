"""Screenshots of the lab as a candidate sees it, at a laptop's 1,280 × 800 and a phone's 400 × 900.

    python docs/screenshots.py                 # every study's pages into tests/artifacts/screens/
    python docs/screenshots.py --readme        # also refresh docs/screenshot.png, the README's picture
    python docs/screenshots.py --only fraud    # one study

The tests never write into the checkout; the README's picture changes only when someone runs this on
purpose (and looks at it before committing).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

import engine  # noqa: E402
from tests.e2e.harness import launch_browser, start_server, wait_for_app  # noqa: E402

OUT = Path(__file__).parents[1] / "tests" / "artifacts" / "screens"
README_PICTURE = Path(__file__).parent / "screenshot.png"
SIZES = {"laptop": (1280, 800), "phone": (400, 900)}


def pages(study: str) -> dict[str, str]:
    """What a candidate opens for one study, by the name its screenshot gets."""
    return {
        f"{study}_lab": f"/study?study={study}",
        f"{study}_walkthrough": f"/study?study={study}&{study}.view=Walkthrough",
        f"{study}_production": f"/production?study={study}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="also refresh docs/screenshot.png")
    parser.add_argument("--only", help="one study id")
    args = parser.parse_args()
    studies = [args.only] if args.only else [s.id for s in engine.list_studies()]
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mlsd-screens-"))
    proc, url = start_server(workdir / "streamlit.log")
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            targets = {"home": "/", **{k: v for s in studies for k, v in pages(s).items()}}
            for name, path in targets.items():
                for size, (width, height) in SIZES.items():
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(url + path)
                    wait_for_app(page)
                    page.wait_for_timeout(800)  # charts finish drawing
                    shot = OUT / f"{name}_{size}.png"
                    page.screenshot(path=shot, full_page=size == "phone")
                    if args.readme and name == f"{studies[0]}_lab" and size == "laptop":
                        shutil.copy(shot, README_PICTURE)
                    page.close()
                    print(shot)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
