"""Candidate generation: friends of friends, people who share a school or company, and a short
personalised PageRank walk.

Friends of friends is where most new friendships come from, but its fan-out explodes through
high-degree accounts (one public figure's friend list is hundreds of candidates), so the walk
expands only a seeded sample of a high-degree friend's friends, and keeps the `fof_cap` candidates
reached through the most mutual friends. A new user has almost no friends to walk through, which is
what the attribute source is for."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter

import networkx as nx
import numpy as np
import scipy.sparse as sp

SOURCE_NAMES = ("friends_of_friends", "attributes", "ppr")  # by code
FOF, ATTRIBUTE, PPR = range(3)
ATTRIBUTE_BELOW = 5  # users with fewer friends than this also get attribute candidates
ATTRIBUTE_CAP = 40  # per shared school and per shared company
PPR_CAP = 30
PPR_RESTART, PPR_STEPS = 0.3, 3  # a truncated walk: three pushes reach the friends of friends' friends


@dataclass(frozen=True)
class GraphView:
    """One graph as the candidate generator reads it, with high-degree friend lists pre-sampled."""

    graph: nx.Graph
    expand: dict[int, list[int]]  # the sampled friend list of each account above the high-degree cap
    adjacency: sp.csr_matrix  # 0/1, node i's row is its friend list: the link heuristics read it
    transition: sp.csr_matrix  # column-stochastic walk matrix, for personalised PageRank
    members: tuple[dict[int, np.ndarray], ...] | None  # school and company -> shuffled members

    @cached_property
    def degree(self) -> np.ndarray:
        """Each node's friend count on the whole graph, from the adjacency."""
        return np.diff(self.adjacency.indptr)

    def friends_of(self, node: int):
        return self.expand.get(node) or self.graph.adj[node]


def graph_view(graph: nx.Graph, attributes: np.ndarray | None, hub_cap: int, seed: int) -> GraphView:
    rng = np.random.default_rng(seed)
    expand = {
        node: sorted(rng.choice(sorted(graph.adj[node]), size=hub_cap, replace=False).tolist())
        for node, degree in graph.degree
        if degree > hub_cap
    }
    members = None if attributes is None else tuple(_members(attributes[:, col], rng) for col in (0, 1))
    adjacency = _adjacency(graph)
    return GraphView(graph, expand, adjacency, _transition(adjacency), members)


def with_newcomers(view: GraphView, graph: nx.Graph, attributes: np.ndarray, seed: int) -> GraphView:
    """`view` over `graph`, which adds people after view's last one who befriend only each other:
    everyone else's sampled friend lists and group orders stay as they were (so do their candidates),
    and the newcomers join the end of their school and company groups."""
    first = view.graph.number_of_nodes()
    rng = np.random.default_rng(seed)
    members = tuple(
        _joined(groups, _members(attributes[first:, col], rng), first)
        for col, groups in enumerate(view.members)
    )
    adjacency = _adjacency(graph)
    return GraphView(graph, view.expand, adjacency, _transition(adjacency), members)


def _adjacency(graph: nx.Graph) -> sp.csr_matrix:
    nodes = range(graph.number_of_nodes())
    return sp.csr_matrix(nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=None, dtype=float))


def _transition(adjacency: sp.csr_matrix) -> sp.csr_matrix:
    degree = np.maximum(np.asarray(adjacency.sum(axis=1)).ravel(), 1)
    return sp.csr_matrix(adjacency.T.multiply(1.0 / degree))


def _members(values: np.ndarray, rng: np.random.Generator) -> dict[int, np.ndarray]:
    order = rng.permutation(values.size)
    groups: dict[int, list[int]] = {}
    for user in order.tolist():
        groups.setdefault(int(values[user]), []).append(user)
    return {value: np.array(users) for value, users in groups.items()}


def _joined(
    groups: dict[int, np.ndarray], newcomers: dict[int, np.ndarray], first: int
) -> dict[int, np.ndarray]:
    joined = dict(groups)
    for value, people in newcomers.items():
        joined[value] = np.concatenate([groups.get(value, np.zeros(0, int)), people + first])
    return joined


@dataclass(frozen=True)
class Candidates:
    ids: np.ndarray
    mutual: np.ndarray  # mutual friends counted by the walk (sampled through high-degree accounts)
    source: np.ndarray  # FOF, ATTRIBUTE or PPR: the first source that proposed each


def generate(
    view: GraphView, user: int, sources: str, fof_cap: int, attributes: np.ndarray | None
) -> Candidates:
    friends = view.graph.adj[user]
    counts = Counter(w for f in friends for w in view.friends_of(f))
    counts.pop(user, None)
    for friend in friends:
        counts.pop(friend, None)
    kept = heapq.nlargest(fof_cap, counts.items(), key=itemgetter(1))
    ids = [v for v, _ in kept]
    mutual = [c for _, c in kept]
    source = [FOF] * len(ids)
    seen = set(ids) | set(friends) | {user}
    extra: list[tuple[int, list[int]]] = []
    if "attributes" in sources and view.members is not None and len(friends) < ATTRIBUTE_BELOW:
        extra.append((ATTRIBUTE, _sharing(view, user, attributes)))
    if "ppr" in sources:
        extra.append((PPR, _personalised_pagerank(view, user)))
    for code, found in extra:
        for v in found:
            if v not in seen:
                seen.add(v)
                ids.append(v)
                mutual.append(counts.get(v, 0))
                source.append(code)
    return Candidates(np.array(ids, int), np.array(mutual, float), np.array(source, int))


def _sharing(view: GraphView, user: int, attributes: np.ndarray) -> list[int]:
    """People from the user's school and company (a seeded sample of each)."""
    found: list[int] = []
    for col, members in enumerate(view.members):
        found.extend(members[int(attributes[user, col])][:ATTRIBUTE_CAP].tolist())
    return found


def _personalised_pagerank(view: GraphView, user: int) -> list[int]:
    """The top of a truncated random walk with restart from `user`: a few sparse pushes instead of
    a full PageRank per user."""
    start = np.zeros(view.transition.shape[0])
    start[user] = 1.0
    rank = start
    for _ in range(PPR_STEPS):
        rank = PPR_RESTART * start + (1 - PPR_RESTART) * (view.transition @ rank)
    wanted = min(PPR_CAP + view.graph.degree(user) + 1, rank.size)
    top = np.argpartition(-rank, wanted - 1)[:wanted]
    top = top[rank[top] > 0]  # a small component leaves unreached people in the top: not candidates
    return top[np.argsort(-rank[top], kind="stable")].tolist()
