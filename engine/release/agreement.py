"""How alike two models' answers are, for a study's shadow comparison (`System.agreement`)."""

from __future__ import annotations

from typing import Any


def overlap_at_k(first: list[list[Any]], second: list[list[Any]]) -> float:
    """Mean share of the first list's items that the second list also shows, request by request."""
    shares = [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(first, second, strict=True)]
    return float(sum(shares) / max(len(shares), 1))


def same_first(first: list[list[Any]], second: list[list[Any]]) -> float:
    """Share of requests whose top answer is the same for both models."""
    same = [bool(a) and bool(b) and a[0] == b[0] for a, b in zip(first, second, strict=True)]
    return float(sum(same) / max(len(same), 1))
