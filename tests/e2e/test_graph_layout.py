"""The architecture graph in a real browser, at a laptop's 1,280 × 800 and a phone's 400 × 900: no
stage's box overlaps another (positions read from the rendered chart)."""

from __future__ import annotations

import pytest

import engine
from engine import palette
from tests.e2e.harness import wait_for_app

NODE_FILLS = [palette.BLUE, palette.GREY, palette.RED]
BOXES = """(fills) => {
  const chart = document.querySelector('[data-testid="stEChartsChart"]');
  return Array.from(chart.querySelectorAll('path'))
    .filter(p => fills.includes((p.getAttribute('fill') || '').toLowerCase()))
    .map(p => p.getBoundingClientRect())
    .filter(r => r.width > 20 && r.height > 15)
    .map(r => [r.left, r.top, r.right, r.bottom]);
}"""


def _overlaps(boxes: list[list[float]]) -> list[tuple[int, int]]:
    pairs = []
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[i + 1 :], start=i + 1):
            if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                pairs.append((i, j))
    return pairs


@pytest.mark.parametrize("study", [s.id for s in engine.list_studies()])
@pytest.mark.parametrize("size", [(1280, 800), (400, 900)])
def test_stage_boxes_do_not_overlap(app_url, browser, study, size):
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(f"{app_url}/study?study={study}")
    wait_for_app(page)
    page.get_by_test_id("stEChartsChart").first.wait_for(state="visible", timeout=120_000)
    page.wait_for_timeout(500)
    boxes = page.evaluate(BOXES, [f.lower() for f in NODE_FILLS])
    assert len(boxes) >= 8  # every stage was drawn
    assert not _overlaps(boxes), boxes
