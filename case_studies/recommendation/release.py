"""Releasing a recommender: live visits answered by each model, clicked in the simulated world."""

from __future__ import annotations

import numpy as np

from case_studies.recommendation import pipeline as p
from engine.release.agreement import overlap_at_k, same_first
from engine.release.pool import Pool


def pools(config, seed: int, predictors, n: int, traffic_seed: int) -> list[Pool]:
    """Each model's slates for the same `n` visits, as click chances under the true tastes.

    Visits by users the models have never seen are left out: both models serve them the same
    popularity fallback, so they add noise to a comparison and no signal."""
    prep = p.prepared(config, seed, None)
    first = predictors[0]
    bodies = [b for b in first.traffic(n, traffic_seed) if b["user_id"] in prep.user_index]
    users = np.array([prep.user_index[b["user_id"]] for b in bodies])
    result = []
    for predictor in predictors:
        answers = predictor.predict([predictor.parse(b) for b in bodies])
        slates = np.array([[item["item_id"] for item in a["items"]] for a in answers])
        result.append(Pool.of_clicks(p.click_chances(prep.world, users, slates)))
    return result


def agreement(champion: list[dict], challenger: list[dict]) -> dict[str, float]:
    first = [[item["item_id"] for item in a["items"]] for a in champion]
    second = [[item["item_id"] for item in a["items"]] for a in challenger]
    return {"top-10 overlap": overlap_at_k(first, second), "same first video": same_first(first, second)}
