"""The Production page in a real browser: register a version, start its endpoint, load-test it,
see the chart, stop it; and the page at phone width."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from engine.serving import process
from tests.e2e.harness import wait_for_app

SHOTS = Path(__file__).parents[1] / "artifacts"


def test_register_serve_load_test_and_stop(app_url, page):
    page.goto(f"{app_url}/production?study=fraud")
    wait_for_app(page)
    page.get_by_role("button", name="Register this design").click()
    wait_for_app(page)
    expect(
        page.get_by_text("Registered Video", exact=False).or_(page.get_by_text("Registered Fraud"))
    ).to_be_visible()
    page.get_by_role("radio", name="Serve and load-test").or_(
        page.get_by_text("Serve and load-test")
    ).first.click()
    wait_for_app(page)
    page.get_by_role("button", name="Start the endpoint").click()
    wait_for_app(page)
    expect(page.get_by_text("Serving v", exact=False)).to_be_visible()
    page.get_by_role("button", name="Run the load test").click()
    wait_for_app(page, timeout=120_000)
    chart = page.get_by_test_id("stPlotlyChart")
    expect(chart).to_be_visible()
    expect(chart.locator(".scatterlayer .trace").nth(2)).to_be_attached()  # p50, p99 and the SLO line
    expect(page.get_by_text("Little's law", exact=False)).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=SHOTS / "production-loadtest.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "production-phone.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.get_by_role("button", name="Stop the endpoint").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Start the endpoint")).to_be_visible()
    assert not any(s.study == "fraud" for s in process.running())  # this process started none
