"""Comparing configurations: which knobs changed, which runs are Pareto-optimal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def changed_knobs(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [k for k in after if before.get(k) != after[k]]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """For (cost, quality) points: True where no other point is at least as cheap and as good and
    strictly better in one of the two."""
    front = []
    for cost, quality in points:
        dominated = any(c <= cost and q >= quality and (c < cost or q > quality) for c, q in points)
        front.append(not dominated)
    return front
