"""Plotly for charts drawn once per action (the Production page, interview results, progress): the
same palette as the ECharts charts that repaint on every knob move, a white template, the legend
above the plot. Plotly repaints about twice as slowly as ECharts, a cost paid here once per action."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from engine import palette


def layout(fig: go.Figure, x: str, y: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title=x,
        yaxis_title=y,
        # Below the plot: above it, a legend that wraps on a phone covered the lines.
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
        template="plotly_white",
        colorway=palette.SERIES,
    )
    return fig


def bars(categories: Sequence[str], series: dict[str, Sequence[float]], y: str) -> go.Figure:
    """Grouped bars, one colour per series, values printed on hover to a tenth."""
    fig = go.Figure(
        [
            go.Bar(
                name=name, x=list(categories), y=list(values), hovertemplate="%{x}: %{y:.1f}<extra></extra>"
            )
            for name, values in series.items()
        ]
    )
    fig.update_layout(barmode="group", showlegend=len(series) > 1)
    return layout(fig, "", y, height=300)


def lines(x: Sequence[str], series: dict[str, Sequence[float | None]], y: str, y_range: tuple[float, float]):
    """A line per series over categorical x (attempts), gaps where a value is missing."""
    fig = go.Figure(
        [
            go.Scatter(name=name, x=list(x), y=list(values), mode="lines+markers")
            for name, values in series.items()
        ]
    )
    fig.update_yaxes(range=y_range)
    fig.update_xaxes(type="category")
    return layout(fig, "", y)


def log_ticks(values: Sequence[float]) -> dict:
    """Tick positions and labels for a log axis over `values`: 1, 2, 5 in each decade, as plain
    numbers. Plotly's own labels on a short log range were crowded minor ticks ("100, 5, 2, 10")."""
    finite = [v for v in values if math.isfinite(v) and v > 0] or [1.0]  # a level that measured nothing
    low, high = min(finite) / 1.5, max(finite) * 1.5
    ticks = [
        mantissa * 10.0**exponent
        for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for mantissa in (1, 2, 5)
    ]
    shown = [t for t in ticks if low <= t <= high]
    return {"type": "log", "tickvals": shown, "ticktext": [f"{t:g}" for t in shown]}


def day_marks(fig: go.Figure, marks: Sequence[tuple[str, float | None, str]], low: float, high: float):
    """Vertical lines at days, each a legend entry: annotations on nearby days ran into one word."""
    for label, day, colour in marks:
        if day is not None:
            fig.add_trace(
                go.Scatter(
                    x=[day, day],
                    y=[low, high],
                    mode="lines",
                    name=f"{label} (day {day:g})",
                    line={"color": colour, "dash": "dot"},
                    hoverinfo="name",
                )  # fmt: skip
            )
