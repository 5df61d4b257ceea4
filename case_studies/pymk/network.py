"""The graph snapshots the system reads, built once per world or upload.

Two views of one network: the live graph (every friendship before the cut-off, what an online
request sees) and the batch snapshot (one period older, what last night's job and the ranker's
training features saw). Friendships formed after the cut are the targets; those formed between the
snapshot and the cut label the ranker, so it learns from the past and is graded on the future."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from case_studies.pymk.upload import Friendships
from case_studies.pymk.world import OLD, RECENT, TARGET, World

MAX_EVAL_USERS = 600  # users scored offline (seeded sample), each with every candidate: the noise bands
MAX_RANKER_USERS = 400
MAX_COLD_USERS = 200  # cold-start users added to the sample, so their recall is not a handful's
NEW_USER_FRIENDS = 3  # at most this many friends before the cut: a cold-start user
# Share of the world's users with a friend request out at the cut that is never accepted: the
# feature store holds them, and post-processing must not suggest either side to the other.
PENDING_SHARE = 0.3


@dataclass(frozen=True)
class Prepared:
    n_users: int
    live: nx.Graph
    snapshot: nx.Graph
    adjacency: sp.csr_matrix  # the live graph, for the formation rule and the memory figure
    targets: dict[int, set[int]]  # friendships formed after the cut
    pending: dict[int, set[int]]  # requests out at the cut, either way (the world's; none in uploads)
    recent: dict[int, set[int]]  # formed between the snapshot and the cut: the ranker's labels
    eval_users: np.ndarray  # the random sample, plus extra cold-start users
    ranker_users: np.ndarray
    in_sample: np.ndarray  # per evaluation user: in the random sample that the averages are over
    is_new: np.ndarray  # per evaluation user: a cold-start user
    attributes: np.ndarray | None
    community: np.ndarray  # detected on the live graph, for spreading suggestions
    labels: np.ndarray  # external user ids
    world: World | None


def prepare(source: World | Friendships, seed: int) -> Prepared:
    n, edges, period = source.n_users, source.edges, source.period
    live = _graph(n, edges[period != TARGET])
    snapshot = _graph(n, edges[period == OLD])
    targets = _by_user(edges[period == TARGET], live)
    recent = _by_user(edges[period == RECENT], snapshot)
    rng = np.random.default_rng(seed)
    sample = _sample(targets, MAX_EVAL_USERS, rng)
    chosen = set(sample.tolist())
    cold = {u: v for u, v in targets.items() if live.degree(u) <= NEW_USER_FRIENDS and u not in chosen}
    eval_users = np.union1d(sample, _sample(cold, MAX_COLD_USERS, rng))
    degree = np.array([live.degree(u) for u in eval_users])
    world = source if isinstance(source, World) else None
    return Prepared(
        n_users=n,
        live=live,
        snapshot=snapshot,
        adjacency=nx.to_scipy_sparse_array(live, nodelist=range(n), format="csr").astype(np.float32),
        targets=targets,
        pending=_pending(live, targets, np.random.default_rng([seed, 1])) if world else {},
        recent=recent,
        eval_users=eval_users,
        ranker_users=_sample(recent, MAX_RANKER_USERS, rng),
        in_sample=np.isin(eval_users, sample),
        is_new=degree <= NEW_USER_FRIENDS,
        attributes=world.attributes if world else None,
        community=_communities(live),
        labels=np.arange(n) if world else source.labels,
        world=world,
    )


def _graph(n: int, edges: np.ndarray) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.tolist())
    return graph


def _by_user(edges: np.ndarray, known: nx.Graph) -> dict[int, set[int]]:
    """Each user's new friendships, leaving out pairs already friends in `known` (repeats)."""
    new: dict[int, set[int]] = {}
    for u, v in edges.tolist():
        if not known.has_edge(u, v):
            new.setdefault(u, set()).add(v)
            new.setdefault(v, set()).add(u)
    return new


def _pending(live: nx.Graph, targets: dict[int, set[int]], rng: np.random.Generator) -> dict[int, set[int]]:
    """One unanswered request each from a seeded share of users to a friend of a friend: the people
    a suggestion would most likely name, and who will not become friends (they are not targets)."""
    pending: dict[int, set[int]] = {}
    for user in np.flatnonzero(rng.random(live.number_of_nodes()) < PENDING_SHARE).tolist():
        friends = live.adj[user]
        if not friends:
            continue
        via, later = list(friends)[rng.integers(len(friends))], targets.get(user, ())
        unknown = [v for v in live.adj[via] if v != user and v not in friends and v not in later]
        if unknown:
            other = unknown[rng.integers(len(unknown))]
            pending.setdefault(user, set()).add(other)
            pending.setdefault(other, set()).add(user)
    return pending


def not_to_suggest(prep: Prepared, user: int | None):
    """Whom post-processing drops for `user`: their friends and anyone with a request out between them."""
    if user is None:
        return set()
    pending = prep.pending.get(user)
    return prep.live.adj[user].keys() | pending if pending else prep.live.adj[user]


def _sample(by_user: dict[int, set[int]], most: int, rng: np.random.Generator) -> np.ndarray:
    users = np.array(sorted(by_user), int)
    return np.sort(rng.permutation(users)[:most])


def _communities(graph: nx.Graph) -> np.ndarray:
    """Label propagation: 0.25 s on the default world, where Louvain takes seconds."""
    label = np.zeros(graph.number_of_nodes(), int)
    for index, members in enumerate(nx.community.label_propagation_communities(graph)):
        label[list(members)] = index
    return label


def adjacency_bytes(prep: Prepared) -> int:
    """What the feature store holds for the graph: the live adjacency lists as CSR arrays."""
    matrix = prep.adjacency
    return matrix.indptr.nbytes + matrix.indices.nbytes
