"""Releasing a PYMK ranker: live requests answered by each model, each suggestion turned into a
friendship (seen, sent, accepted) with the chance the world's own rule gives it on today's graph."""

from __future__ import annotations

import numpy as np

from case_studies.pymk import pipeline as p
from case_studies.pymk.evaluation import SLATE, friendship_chances
from engine.release.agreement import overlap_at_k, same_first
from engine.release.pool import Pool


def pools(config, seed: int, predictors, n: int, traffic_seed: int) -> list[Pool]:
    """Each model's rows for the same `n` requests, as friendship chances per slot of the row. Active
    people ask often, so each distinct user is answered once per model.

    Requests by people the graph has never seen are left out: both models serve them the same
    popular accounts, so they add noise to a comparison and no signal."""
    prep = p.prepared(config, seed, None)
    index = {label: user for user, label in enumerate(prep.labels.tolist())}
    bodies = [b for b in predictors[0].traffic(n, traffic_seed) if b["user_id"] in index]
    distinct, row = np.unique([index[b["user_id"]] for b in bodies], return_inverse=True)
    requests = [{"user_id": label, "k": SLATE} for label in prep.labels[distinct].tolist()]
    result = []
    for predictor in predictors:
        answers = predictor.predict([predictor.parse(body) for body in requests])
        slates = [_shown(answer, index) for answer in answers]
        chances = friendship_chances(prep.world.rule, prep.adjacency, distinct, slates)
        result.append(Pool.of_clicks(chances[row]))
    return result


def _shown(answer: dict, index: dict) -> np.ndarray:
    return np.array([index[s["user_id"]] for s in answer["suggestions"]], int)


def agreement(champion: list[dict], challenger: list[dict]) -> dict[str, float]:
    first = [[s["user_id"] for s in a["suggestions"]] for a in champion]
    second = [[s["user_id"] for s in a["suggestions"]] for a in challenger]
    return {"top-10 overlap": overlap_at_k(first, second), "same first suggestion": same_first(first, second)}
