"""Plotly for charts drawn once per action (the Production page, interview results, progress): the
same palette as the ECharts charts that repaint on every knob move, a white template, the legend
above the plot. Plotly repaints about twice as slowly as ECharts, a cost paid here once per action."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from engine import palette


def layout(fig: go.Figure, x: str, y: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title=x,
        yaxis_title=y,
        legend={"orientation": "h", "y": 1.12},
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
