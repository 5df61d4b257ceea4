"""The Production page in a real browser: register a version, start its endpoint, load-test it,
see the chart, stop it; and the page at phone width."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from engine.serving import process
from tests.e2e.harness import wait_for_app

SHOTS = Path(__file__).parents[1] / "artifacts"


def shoot(page, name: str, phone: str | None = None) -> None:
    """Screenshots at a laptop's 1,280 × 800 and, with `phone`, at a phone's width."""
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(500)
        page.screenshot(path=SHOTS / f"{phone}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1100})


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
    shoot(page, "production-loadtest", phone="production-phone")
    page.get_by_role("button", name="Stop the endpoint").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Start the endpoint")).to_be_visible()
    assert not any(s.study == "fraud" for s in process.running())  # this process started none


def _open_view(page, name: str) -> None:
    page.get_by_role("radio", name=name).or_(page.get_by_text(name, exact=True)).first.click()
    wait_for_app(page)


def test_run_a_canary_and_a_drift_scenario_to_their_charts(app_url, page):
    page.goto(f"{app_url}/production?study=fraud")
    wait_for_app(page)
    page.get_by_role("button", name="Register this design").click()
    wait_for_app(page, timeout=120_000)
    _open_view(page, "Release")
    page.get_by_role("button", name="Register this design as the challenger").click()
    wait_for_app(page, timeout=180_000)
    expect(page.get_by_text("same decision", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Run the canary").click()
    wait_for_app(page, timeout=120_000)
    timeline = page.get_by_test_id("stPlotlyChart").first
    expect(timeline).to_be_visible()
    expect(timeline.locator(".scatterlayer .trace").nth(3)).to_be_attached()  # Δ, band, line, traffic
    expect(page.get_by_text("The registry's champion is v", exact=False)).to_be_visible()
    shoot(page, "production-canary")
    _open_view(page, "Monitor")
    page.get_by_test_id("stSelectbox").filter(has_text="Drift scenario").click()
    page.get_by_role("option", name="Card-testing wave").click()
    page.get_by_text("PSI 0.1 / 0.25").click()
    page.get_by_role("button", name="Run the serving period").click()
    wait_for_app(page, timeout=180_000)
    heatmap = page.get_by_test_id("stPlotlyChart").first
    expect(heatmap).to_be_visible()
    expect(heatmap.locator(".heatmaplayer")).to_be_attached()
    expect(page.get_by_text("First alert", exact=True)).to_be_visible()
    shoot(page, "production-monitor", phone="production-monitor-phone")
    page.get_by_role("button", name="Measure", exact=True).click()
    wait_for_app(page, timeout=120_000)
    # The result shows where the button was, not inside a box that reopened collapsed.
    expect(page.get_by_test_id("stDataFrame").filter(has_text="window").last).to_be_visible()
