"""Releasing a search system: live queries answered by each model, clicked by the serving period's
position-biased click model over the graded judgments."""

from __future__ import annotations

import numpy as np

from case_studies.search import pipeline as p
from case_studies.search.drift import click_probabilities, top_grade
from engine.release.agreement import overlap_at_k, same_first
from engine.release.pool import Pool


def pools(config, seed: int, predictors, n: int, traffic_seed: int) -> list[Pool]:
    """Each model's click chances on the same `n` live queries. Queries repeat (Zipf), so each
    distinct one is answered once per model."""
    catalogue = p.prepared(config, seed, None).catalogue
    number = {query: q for q, query in reversed(list(enumerate(catalogue.queries)))}
    bodies = predictors[0].traffic(n, traffic_seed)
    distinct = list(dict.fromkeys(b["query"] for b in bodies))
    row = {query: i for i, query in enumerate(distinct)}
    judged = [catalogue.qrels[number[query]] for query in distinct]
    grade = top_grade(catalogue)
    result = []
    for predictor in predictors:
        answers = predictor.predict([predictor.parse({"query": q, "k": p.SHOWN}) for q in distinct])
        pages = [np.array([r["product_id"] for r in a["results"]], int) for a in answers]
        clicks = np.array(
            [click_probabilities(page, j, grade) for page, j in zip(pages, judged, strict=True)]
        )
        result.append(Pool.of_clicks(clicks[[row[b["query"]] for b in bodies]]))
    return result


def agreement(champion: list[dict], challenger: list[dict]) -> dict[str, float]:
    first = [[r["product_id"] for r in a["results"]] for a in champion]
    second = [[r["product_id"] for r in a["results"]] for a in challenger]
    return {"top-10 overlap": overlap_at_k(first, second), "same first result": same_first(first, second)}
