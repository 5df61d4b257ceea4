"""Releasing a fraud model: live payments decided by each model, costed with the world's labels."""

from __future__ import annotations

import numpy as np
from scipy import stats

from case_studies.fraud import pipeline as p
from case_studies.fraud.serving import payment_body
from engine.release.pool import Pool


def pools(config, seed: int, predictors, n: int, traffic_seed: int) -> list[Pool]:
    """Each model's cost per payment on the same `n` test-period payments: a fraud it approves loses
    its amount, a legitimate payment it sends to review costs the false-alarm cost (analyst time and
    friction) and one it declines the false-decline cost; the analysts are assumed to review every
    alert."""
    log = p.world_log(config, seed, None)
    test = np.flatnonzero(log.day >= log.test_start)
    rows = test[np.random.default_rng(traffic_seed).integers(test.size, size=n)]
    table = {k: getattr(log, k)[rows] for k in ("time", "customer", "terminal", "amount")}
    bodies = [payment_body(table, i) for i in range(n)]
    fraud, amount = log.fraud[rows], log.amount[rows]
    result = []
    for predictor in predictors:
        answers = predictor.predict([predictor.parse(b) for b in bodies])
        decision = np.array([a["decision"] for a in answers])
        reviewed, declined = decision == "review", decision == "block"
        costs = [config["false_alarm_cost"], config["false_decline_cost"]]
        legit_cost = np.select([reviewed, declined], costs)
        cost = np.where(fraud & (decision == "approve"), amount, 0.0) + np.where(~fraud, legit_cost, 0.0)
        result.append(Pool.of_values(cost))
    return result


def agreement(champion: list[dict], challenger: list[dict]) -> dict[str, float]:
    first = np.array([a["decision"] for a in champion])
    second = np.array([a["decision"] for a in challenger])
    shares = {"same decision": float((first == second).mean())}
    blocked = first == "block"
    if blocked.any():
        shares["champion's blocks it also blocks"] = float((second[blocked] == "block").mean())
    correlation = stats.spearmanr([a["score"] for a in champion], [b["score"] for b in challenger])
    shares["score rank correlation"] = float(correlation.statistic)
    return shares
