"""A seeded social network that grows over simulated rounds, with a formation rule we know.

People live in communities that share schools, companies, cities and age bands. Each round, every
active person meets a few others (through a friend, through their community, school or company, a
famous account or at random; sociable people meet more and are met more) and a meeting becomes a
friendship with the world's true probability: more mutual friends (triadic closure) and shared school
or company (homophily) make it likelier.
Because that probability is known, the study can simulate the online metric, the acceptance rate of
suggestions, next to the offline evaluation on the friendships formed after the cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

USERS_PER_SCALE = 5000
COMMUNITY_SIZE = 100
CITIES = 20
AGE_BANDS = 5
HUB_SHARE = 0.002  # a few very high-degree accounts (public figures) everyone may befriend
ROUNDS = 12
SNAPSHOT_ROUND = 8  # the daily batch job and the ranker's labels see the graph as of this round
CUT_ROUND = 10  # friendships formed from here on are the targets
MEETINGS_PER_ROUND = 3  # on average per person
# Sociable people meet more and are met more (sought out by a friend's friends, in their circles and
# at random), so their new friendships grow with the friends they have, as in real networks. Meeting
# more alone gave preferential attachment 1.3x random order's recall@10; being met too, 1.6-2.4x.
SOCIABILITY_SPREAD = 1.0  # sigma of the log-normal spread of sociability
MEETING_MIX = {"friend": 0.6, "circle": 0.25, "hub": 0.05, "anyone": 0.10}
BASE_LOGIT = -2.0
HUB_PULL = 1.5  # people readily follow-friend a famous account they meet
HUB_ACCEPTS = 0.2  # but a famous account accepts a fifth of what others would: it gets too many
ATTRIBUTE_WEIGHTS = np.array([1.0, 1.0, 0.5, 0.3])  # school, company, city, age band
ATTRIBUTES = ("school", "company", "city", "age_band")

# Periods of an edge: formed before the batch snapshot, between the snapshot and the cut, or after.
OLD, RECENT, TARGET = 0, 1, 2


@dataclass(frozen=True)
class FormationRule:
    """The world's true chance that a meeting becomes a friendship."""

    attributes: np.ndarray  # n x 4: school, company, city, age band
    is_hub: np.ndarray
    triadic: float
    homophily: float

    def probability(self, adjacency: sp.csr_matrix, users: np.ndarray, others: np.ndarray) -> np.ndarray:
        """P(`users[i]` and `others[i]` become friends | they meet), given the friendships in
        `adjacency`: also the chance a suggestion is accepted."""
        mutual = np.asarray(adjacency[users].multiply(adjacency[others]).sum(axis=1)).ravel()
        shared = (self.attributes[users] == self.attributes[others]) @ ATTRIBUTE_WEIGHTS
        logit = (
            BASE_LOGIT
            + self.triadic * np.log1p(mutual)
            + self.homophily * shared
            + HUB_PULL * self.is_hub[others]
        )
        return 1.0 / (1.0 + np.exp(-logit))

    def acceptance(self, adjacency: sp.csr_matrix, senders: np.ndarray, recipients: np.ndarray):
        """P(`recipients[i]` accepts a friend request from `senders[i]`): the same rule from the
        recipient's side, where a famous account accepts few of the many requests it gets."""
        seen_from_recipient = self.probability(adjacency, recipients, senders)
        return seen_from_recipient * np.where(self.is_hub[recipients], HUB_ACCEPTS, 1.0)


@dataclass(frozen=True)
class World:
    """The simulated population and its friendships, each tagged with the period it formed in."""

    n_users: int
    edges: np.ndarray  # m x 2 user indices, u < v
    period: np.ndarray  # OLD, RECENT or TARGET per edge
    community: np.ndarray
    is_new: np.ndarray  # joined one round before the cut (a few friends by then) or at it (none)
    rule: FormationRule

    @property
    def attributes(self) -> np.ndarray:
        return self.rule.attributes


def generate_world(scale: float, triadic: float, homophily: float, new_share: float, seed: int) -> World:
    rng = np.random.default_rng(seed)
    n = int(USERS_PER_SCALE * scale)
    community = rng.integers(max(n // COMMUNITY_SIZE, 2), size=n)
    attributes = _attributes(community, rng)
    is_hub = np.zeros(n, bool)
    is_hub[rng.choice(n, size=max(int(n * HUB_SHARE), 1), replace=False)] = True
    is_new = (rng.random(n) < new_share) & ~is_hub
    joined = np.where(is_new, rng.integers(CUT_ROUND - 1, CUT_ROUND + 1, size=n), 0)
    rule = FormationRule(attributes, is_hub, triadic, homophily)
    edges, rounds = _grow(rule, community, joined, rng)
    period = np.where(rounds >= CUT_ROUND, TARGET, np.where(rounds >= SNAPSHOT_ROUND, RECENT, OLD))
    return World(n, edges, period, community, is_new, rule)


def _attributes(community: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Communities mostly share a few schools and companies, a city and an age band."""
    n, groups = community.size, int(community.max()) + 1

    def local(pool: int, stay: float, out_of: int) -> np.ndarray:
        own = community * pool + rng.integers(pool, size=n)
        return np.where(rng.random(n) < stay, own, rng.integers(out_of, size=n))

    school = local(2, 0.7, groups * 2)
    company = local(3, 0.6, groups * 3)
    city = np.where(rng.random(n) < 0.8, community % CITIES, rng.integers(CITIES, size=n))
    age = np.clip(community % AGE_BANDS + rng.integers(-1, 2, size=n), 0, AGE_BANDS - 1)
    return np.stack([school, company, city, age], axis=1)


def _grow(rule: FormationRule, community, joined, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Meetings round by round; accepted ones become friendships stamped with their round."""
    n = community.size
    circles = [(values, _members_by(values)) for values in (community, *rule.attributes[:, :2].T)]
    hubs = np.flatnonzero(rule.is_hub)
    sociability = rng.lognormal(-(SOCIABILITY_SPREAD**2) / 2, SOCIABILITY_SPREAD, n)
    friends: set[tuple[int, int]] = set()
    stamped: list[tuple[int, int, int]] = []
    for round_ in range(ROUNDS):
        active = np.flatnonzero(joined <= round_)
        adjacency = _adjacency(friends, n)
        users = np.repeat(active, rng.poisson(MEETINGS_PER_ROUND * sociability[active]))
        others = _meet(users, adjacency, circles, hubs, sociability, rng)
        keep = (users != others) & (joined[others] <= round_)  # nobody befriends someone not yet joined
        users, others = users[keep], others[keep]
        chance = rule.probability(adjacency, users, others)
        accepted = rng.random(users.size) < chance
        for u, v in zip(users[accepted].tolist(), others[accepted].tolist(), strict=True):
            pair = (min(u, v), max(u, v))
            if pair not in friends:
                friends.add(pair)
                stamped.append((*pair, round_))
    table = np.array(stamped, int).reshape(-1, 3)
    return table[:, :2], table[:, 2]


def _meet(users, adjacency: sp.csr_matrix, circles, hubs, sociability, rng) -> np.ndarray:
    """Whom each user meets this round: a friend's friend (a two-step walk, so a mutual friend
    with few friends makes the introduction likelier), someone from one of their circles (community,
    school or company), a hub or anyone; past the first step, sociable people are met more."""
    kinds = rng.choice(len(MEETING_MIX), size=users.size, p=list(MEETING_MIX.values()))
    others = _pick(np.arange(adjacency.shape[0]), sociability, users.size, rng)  # "anyone", the fallback
    via_friend = _walk(_walk(users, adjacency, rng), adjacency, rng, sociability)
    walked = (kinds == 0) & (via_friend >= 0)
    others[walked] = via_friend[walked]
    local = (kinds == 1) | ((kinds == 0) & ~walked)  # someone with no friends yet meets locals
    circle = rng.integers(len(circles), size=users.size)
    for index, (values, members) in enumerate(circles):
        meets = local & (circle == index)
        for group in np.unique(values[users[meets]]):
            rows = np.flatnonzero(meets & (values[users] == group))
            others[rows] = _pick(members[group], sociability, rows.size, rng)
    famous = kinds == 2
    others[famous] = rng.choice(hubs, size=int(famous.sum()))
    return others


def _pick(people: np.ndarray, sociability: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` people drawn with replacement, each in proportion to their sociability."""
    weight = sociability[people]
    return rng.choice(people, size=size, p=weight / weight.sum())


def _walk(nodes: np.ndarray, adjacency: sp.csr_matrix, rng: np.random.Generator, weight=None) -> np.ndarray:
    """One random step from each node to a friend, uniform or in proportion to `weight` (-1 stays
    -1, and so does a node without friends)."""
    degree = np.diff(adjacency.indptr)
    if adjacency.nnz == 0:
        return np.full(nodes.size, -1)
    safe = np.maximum(nodes, 0)
    if weight is None:
        step = adjacency.indptr[safe] + (rng.random(nodes.size) * degree[safe]).astype(int)
    else:  # inverse-CDF sampling within each row of the adjacency
        cumulative = np.concatenate([[0.0], np.cumsum(weight[adjacency.indices])])
        low, high = cumulative[adjacency.indptr[safe]], cumulative[adjacency.indptr[safe + 1]]
        step = np.searchsorted(cumulative, low + rng.random(nodes.size) * (high - low), side="right") - 1
    moved = np.where(degree[safe] > 0, adjacency.indices[np.minimum(step, adjacency.indices.size - 1)], -1)
    return np.where(nodes >= 0, moved, -1)


def _members_by(values: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(values, kind="stable")
    groups, starts = np.unique(values[order], return_index=True)
    return dict(zip(groups.tolist(), np.split(order, starts[1:]), strict=True))


def _adjacency(friends: set[tuple[int, int]], n: int) -> sp.csr_matrix:
    pairs = np.array(sorted(friends), int).reshape(-1, 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(n, n))
