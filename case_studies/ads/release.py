"""Releasing a CTR model: the same ad requests auctioned with each model, paid for at the world's
true click probabilities."""

from __future__ import annotations

import numpy as np
from scipy import stats

from case_studies.ads import pipeline as p
from case_studies.ads.world import true_ctr
from engine.release.pool import Pool


def pools(config, seed: int, predictors, n: int, traffic_seed: int) -> list[Pool]:
    """Each model's revenue per request on the same `n` test-day requests: an ad paying per
    impression pays its price; one paying per click pays its price times its true click
    probability in that slot (in expectation, so a canary sees the model, not the dice)."""
    inv = p.source_of(config, seed, None).log.inventory
    bodies = predictors[0].traffic(n, traffic_seed)
    result = []
    for predictor in predictors:
        answers = predictor.predict([predictor.parse(b) for b in bodies])
        revenue = np.zeros(n)
        for i, (body, answer) in enumerate(zip(bodies, answers, strict=True)):
            ad = answer["ad_id"]
            if ad is None:
                continue
            if answer["pays_per"] == "impression":
                revenue[i] = answer["price"]
            else:
                truth = true_ctr(inv, body["user_id"], ad, body["placement_id"], body["position"] - 1,
                                 body["hour"], predictor.day, 0)  # fmt: skip
                revenue[i] = answer["price"] * float(truth)
        result.append(Pool.of_values(revenue))
    return result


def agreement(champion: list[dict], challenger: list[dict]) -> dict[str, float]:
    first = [a["ad_id"] for a in champion]
    second = [a["ad_id"] for a in challenger]
    shares = {"same winning ad": float(np.mean([a == b for a, b in zip(first, second, strict=True)]))}
    pairs = zip(champion, challenger, strict=True)
    both = [(a["p_ctr"], b["p_ctr"]) for a, b in pairs if "p_ctr" in a and "p_ctr" in b]
    if len(both) > 2:
        shares["winner's pCTR rank correlation"] = float(stats.spearmanr(*zip(*both, strict=True)).statistic)
    return shares
