"""The architecture graph, drawn from a study's stages and the latencies its last run measured."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from engine import palette
from engine.result import RunResult
from engine.study import Study

HIGHLIGHT, ONLINE, OFFLINE = palette.RED, palette.BLUE, palette.GREY
CELL_X, CELL_Y = 230, 120  # layout units per column / row
PLOT_WIDTH = 600  # pixels the graph spans in the study page's main column at 1,280 × 800
MARGIN_Y = 40  # the series' top and bottom inset, which keeps the boxes at the edges inside


def architecture(
    study: Study, result: RunResult | None = None, touched: Iterable[str] = (), production: bool = False
) -> nx.DiGraph:
    """Nodes are the study's stages with their measured latency, the knobs that touch them, and
    whether the knob(s) in `touched` act on them. With `production` (the Production page's release
    or monitor is in use) the router and the drift monitor join them."""
    stage_ms = result.stage_ms() if result else {}
    lit = {stage for knob_id in touched for stage in study.knob(knob_id).stages}
    graph = nx.DiGraph(study=study.id)
    for stage in study.stages:
        graph.add_node(
            stage.id,
            label=stage.label,
            what=stage.what,
            online=stage.online,
            pos=stage.pos,
            ms=stage_ms.get(stage.id),
            knobs=[k.id for k in study.knobs_touching(stage.id)],
            highlighted=stage.id in lit,
        )
    graph.add_edges_from(study.flow)
    release = study.release
    if production and release is not None:
        _add_production(graph, release.placement)
    return graph


def _add_production(graph: nx.DiGraph, place) -> None:
    common = {"ms": None, "knobs": [], "highlighted": False}
    graph.add_node(
        "Router",
        label="Router",
        what="Splits live traffic between the champion and a challenger: mirrored in a shadow, by "
        "weight in a canary (5 → 25 → 50 → 100 %), with guardrails that roll back. Run one on the "
        "Production page's Release view.",
        online=True,
        pos=place.router_pos,
        **common,
    )
    graph.add_node(
        "Monitor",
        label="Drift monitor",
        what="Compares each day's features and scores with the training-time reference (PSI, KS, "
        "Wasserstein, Jensen-Shannon), raises alerts, and measures quality once labels arrive; an alert "
        "can trigger a retrain. Run a scenario on the Production page's Monitor view.",
        online=False,
        pos=place.monitor_pos,
        **common,
    )
    graph.remove_edge("Model_Registry", place.serving)
    graph.add_edges_from(
        [
            ("Model_Registry", "Router"),
            ("Router", place.serving),
            (place.watched, "Monitor"),
            ("Monitor", place.retraining),
        ]
    )


def canvas_height(graph: nx.DiGraph) -> int:
    """Pixels of height that keep the layout's aspect ratio. ECharts fits the node positions to the
    whole canvas and scales the boxes with the vertical stretch, so a fixed height would draw a wide,
    flat layout (five columns, two rows) with tall, clipped boxes. Assumes the plot is about
    PLOT_WIDTH pixels wide, as in the study page's main column."""
    xs = [data["pos"][0] for _, data in graph.nodes(data=True)]
    ys = [data["pos"][1] for _, data in graph.nodes(data=True)]
    pixels_per_unit = PLOT_WIDTH / max((max(xs) - min(xs)) * CELL_X, 1)
    return round((max(ys) - min(ys)) * CELL_Y * pixels_per_unit + 2 * MARGIN_Y)


def format_latency(ms: float | None, online: bool) -> str:
    if ms is None:
        return ""
    if ms < 0.001:
        text = "< 1 µs"
    elif ms < 0.01:
        text = f"{ms * 1000:.1f} µs"
    elif ms < 1:
        text = f"{ms * 1000:.0f} µs"
    elif ms < 1000:
        text = f"{ms:,.1f} ms"
    else:
        text = f"{ms / 1000:,.1f} s"
    return f"{text} / request" if online else f"{text} / run"


def _bend(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Curve an edge that would otherwise run straight through a box between its ends (same column
    or row, two or more cells apart)."""
    dx, dy = abs(end[0] - start[0]), abs(end[1] - start[1])
    return 0.35 if (dx == 0 and dy >= 2) or (dy == 0 and dx >= 2) else 0.0


# Box sizes that fit the space: ECharts picks the media rule by the chart's own width in the browser,
# so a laptop's narrower main column gets smaller boxes and a phone gets names only.
WIDE_BOX, LAPTOP_BOX, PHONE_BOX = (136, 44), (100, 40), (58, 30)
LAPTOP_WIDTH, PHONE_WIDTH = 760, 480  # chart widths, in pixels, below which the smaller boxes apply


def echarts_option(graph: nx.DiGraph, selected: str | None = None) -> dict[str, Any]:
    """An ECharts `graph` series: fixed positions, latency under each name, touched stages lit,
    with media rules so the boxes never overlap, from a wide screen to a phone."""
    links = [
        {
            "source": u,
            "target": v,
            "lineStyle": {
                "type": "solid" if graph.nodes[u]["online"] else "dashed",
                "curveness": _bend(graph.nodes[u]["pos"], graph.nodes[v]["pos"]),
            },
        }
        for u, v in graph.edges()
    ]
    series = {
        "type": "graph",
        "layout": "none",
        "roam": False,
        "nodeScaleRatio": 0,  # boxes keep their pixel size whatever the zoom
        **_insets(WIDE_BOX),  # node centres inset, so the boxes at the edges stay inside
        "symbol": "roundRect",
        "symbolSize": list(WIDE_BOX),
        "label": {"show": True, "color": "#ffffff", "fontSize": 12, "lineHeight": 16},
        "selectedMode": "single",
        "edgeSymbol": ["none", "arrow"],
        "edgeSymbolSize": 10,
        "lineStyle": {"width": 2, "color": palette.EDGE, "opacity": 0.9},
        "emphasis": {"focus": "adjacency"},
        "data": _nodes(graph, selected, latency=True),
        "links": links,
    }
    laptop = {
        "symbolSize": list(LAPTOP_BOX),
        "label": {"fontSize": 10, "lineHeight": 14},
        **_insets(LAPTOP_BOX),
    }
    phone = {
        "symbolSize": list(PHONE_BOX),
        "label": {"fontSize": 9, "lineHeight": 11},
        "data": _nodes(graph, selected, latency=False),
        **_insets(PHONE_BOX),
    }
    return {
        "baseOption": {
            "tooltip": {},
            "animation": False,  # an animated redraw on every slider move delays the repaint
            "series": [series],
        },
        "media": [
            {"query": {"maxWidth": LAPTOP_WIDTH}, "option": {"series": [laptop]}},
            {"query": {"maxWidth": PHONE_WIDTH}, "option": {"series": [phone]}},
        ],
    }


def _insets(box: tuple[int, int]) -> dict[str, int]:
    return {"left": box[0] // 2 + 4, "right": box[0] // 2 + 4, "top": MARGIN_Y, "bottom": MARGIN_Y}


def _nodes(graph: nx.DiGraph, selected: str | None, latency: bool) -> list[dict[str, Any]]:
    nodes = []
    for node_id, data in graph.nodes(data=True):
        colour = HIGHLIGHT if data["highlighted"] else (ONLINE if data["online"] else OFFLINE)
        measured = format_latency(data["ms"], data["online"]) if latency else ""
        nodes.append(
            {
                "name": node_id,
                "x": data["pos"][0] * CELL_X,
                "y": data["pos"][1] * CELL_Y,
                "itemStyle": {
                    "color": colour,
                    "borderColor": palette.INK if node_id == selected else colour,
                    "borderWidth": 4 if node_id == selected else 1,
                    "opacity": 1 if data["online"] else 0.75,
                },
                "label": {"formatter": data["label"] + (f"\n{measured}" if measured else "")},
                "tooltip": {"formatter": data["label"] + (f": {measured}" if measured else "")},
            }
        )
    return nodes
