"""Ranking candidates: the classic link-prediction heuristics (Liben-Nowell & Kleinberg, 2007) as
networkx computes them, and learned rankers that combine them with shared attributes.

A heuristic ranker sorts by one score and needs no training; a learned one fits on the previous
period (features from the batch snapshot, labels from the friendships formed since), which is what
it must predict again after the cut."""

from __future__ import annotations

import networkx as nx
import numpy as np

from case_studies.pymk.candidates import ATTRIBUTE, PPR, Candidates

FEATURES = (
    "common_neighbours",
    "jaccard",
    "adamic_adar",
    "resource_allocation",
    "preferential_attachment",
    "candidate_friends",
    "user_friends",
    "same_school",
    "same_company",
    "same_city",
    "same_age_band",
    "from_attributes",
    "from_ppr",
)
GRAPH_FEATURES = 7  # the first seven; the rest need attributes
LINK_PREDICTORS = {
    "jaccard": nx.jaccard_coefficient,
    "adamic_adar": nx.adamic_adar_index,
    "resource_allocation": nx.resource_allocation_index,
    "preferential_attachment": nx.preferential_attachment,
}


def features(graph: nx.Graph, user: int, cands: Candidates, attributes: np.ndarray | None) -> np.ndarray:
    """Candidates x FEATURES for one user."""
    k = cands.ids.size
    table = np.zeros((k, len(FEATURES)))
    if k == 0:
        return table
    pairs = [(user, v) for v in cands.ids.tolist()]
    table[:, 0] = cands.mutual
    for name, predictor in LINK_PREDICTORS.items():
        table[:, FEATURES.index(name)] = np.fromiter((p for _, _, p in predictor(graph, pairs)), float, k)
    table[:, 5] = [graph.degree(v) for v in cands.ids.tolist()]
    table[:, 6] = graph.degree(user)  # lets a learned ranker weigh attributes more for new users
    if attributes is not None:
        table[:, 7:11] = attributes[cands.ids] == attributes[user]
    table[:, 11] = cands.source == ATTRIBUTE
    table[:, 12] = cands.source == PPR
    return table


def heuristic_scores(name: str, graph: nx.Graph, user: int, cands: Candidates, rng) -> np.ndarray:
    """One heuristic's score per candidate, computing only that heuristic: the point of a
    heuristic-only ranker is that it is cheap."""
    if name == "random":
        return rng.random(cands.ids.size)
    if name == "common_neighbours":
        return cands.mutual
    pairs = [(user, v) for v in cands.ids.tolist()]
    return np.fromiter((p for _, _, p in LINK_PREDICTORS[name](graph, pairs)), float, len(pairs))


def model_inputs(table: np.ndarray, groups: str) -> np.ndarray:
    """Log-scaled counts (heavy-tailed degrees), and attribute matches only when the group is on."""
    inputs = table.copy()
    for name in ("common_neighbours", "preferential_attachment", "candidate_friends", "user_friends"):
        column = FEATURES.index(name)
        inputs[:, column] = np.log1p(inputs[:, column])
    if groups == "graph":
        inputs[:, GRAPH_FEATURES:11] = 0.0
    return inputs


def make_model(name: str, seed: int):
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Shallow, slow and regularised: the live graph's degrees have grown since the snapshot it
    # learned on, and deeper trees (max_iter 80, default depth) fell below the best heuristic.
    return HistGradientBoostingClassifier(
        max_iter=150,
        max_depth=2,
        learning_rate=0.05,
        min_samples_leaf=500,
        l2_regularization=1.0,
        random_state=seed,
    )
