"""Learning the re-ranker: from graded judgments or from a click log, pointwise or listwise.

- Labels. Judgments grade every candidate (what an annotation team gives, and what few shops have at
  scale). A click log records what shoppers did with the old system's pages, and they click the top
  of a page more whatever it holds (position bias): SESSIONS listing pages per training query in the
  first stage's order, each result clicked with examine(rank) · attract(grade), the click model of the
  serving period. Inverse propensity weighting divides each click rate by examine(rank): an
  unbiased estimate of how attractive the result is, at the cost of variance.
- Loss. Pointwise regresses each candidate's label (scikit-learn's HistGradientBoostingRegressor);
  listwise optimises the ranking of each query's candidates directly (LightGBM's lambdarank, the
  LambdaMART of the literature).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

SESSIONS = 50  # results pages logged per training query


def click_labels(
    first_stage: np.ndarray, judged: dict[int, int], max_grade: int, ipw: bool, rng: np.random.Generator
) -> np.ndarray:
    """The relevance of the candidates as a click log reads it, in grade units: over SESSIONS listing
    pages that show them in the first stage's order, the click rate (position-biased), or that rate
    divided by the chance a shopper examines the rank, 1 / log2(rank + 1) (inverse propensity
    weighting: unbiased, noisier)."""
    grades = np.array([judged.get(int(d), 0) for d in first_stage], float)
    examine = 1 / np.log2(np.arange(2, first_stage.size + 2))
    clicks = rng.binomial(SESSIONS, examine * (2**grades - 1) / 2**max_grade) / SESSIONS
    return max_grade * (clicks / examine if ipw else clicks)


def fit(loss: str, features: list[np.ndarray], labels: list[np.ndarray], max_grade: int, seed: int):
    """A re-ranker fitted on per-query feature tables and their relevance labels (grade units)."""
    x, y = np.vstack(features), np.concatenate(labels)
    if loss == "pointwise":
        model = HistGradientBoostingRegressor(max_iter=100, max_depth=4, learning_rate=0.1, random_state=seed)
        return model.fit(x, y)
    import lightgbm  # loaded only by the listwise choice

    ranker = lightgbm.LGBMRanker(
        objective="lambdarank",
        n_estimators=100,
        num_leaves=15,
        learning_rate=0.1,
        min_child_samples=10,
        random_state=seed,
        n_jobs=1,  # one thread: deterministic, and no pool fighting the server's other work
        deterministic=True,
        verbose=-1,
    )
    levels = np.clip(np.rint(y), 0, max_grade).astype(int)  # lambdarank takes integer relevance
    return ranker.fit(x, levels, group=[len(f) for f in features])
