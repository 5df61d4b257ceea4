"""Candidate ads, the auction and post-processing, replayed on the test day's ad requests.

Each request (a user on a page, one slot) gets the ads targeting allows, thinned by a pacing
throttle to CANDIDATES; the model scores them in the slot; the auction ranks by expected value per
thousand impressions (eCPM: bid × pCTR × 1000 for an ad that pays per click, its bid for one that
pays per impression), keeps those above the reserve, and charges the winner the second price: what
it needed to keep the slot. A frequency cap drops ads the user has already seen too often today.

Money is counted with the world's true click probability, so a pCTR that is too high shows up as
revenue lost: the ad that pays per click wins slots it should not, and pays a price divided by an
inflated pCTR."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from case_studies.ads.features import Requests
from case_studies.ads.world import Inventory, eligible, sample_requests, true_ctr

CANDIDATES = 40  # ads per request after targeting and pacing
RESERVE_ECPM = 4.0  # $ per thousand impressions below which the slot stays empty
AUCTION_STREAM = 21


@dataclass(frozen=True)
class Outcome:
    """Per request: the winner (-1: none), its pCTR and true CTR, what it paid in expectation and
    what it was worth to its advertiser."""

    winner: np.ndarray
    p_ctr: np.ndarray
    truth: np.ndarray  # the winner's true click probability
    revenue: np.ndarray  # $ per request, expected
    value: np.ndarray  # $ per request to the advertiser, expected


def test_requests(inv: Inventory, day: int, n: int, seed: int) -> tuple[dict[str, np.ndarray], list]:
    """The day's `n` auctions, in time order, each with its candidate ads."""
    rng = np.random.default_rng([seed, AUCTION_STREAM])
    requests = sample_requests(inv, day, n, rng)
    order = np.argsort(requests["hour"] + rng.random(n), kind="stable")
    requests = {k: v[order] for k, v in requests.items()}
    return requests, [pace(inv, user, day, rng) for user in requests["user"].tolist()]


def pace(inv: Inventory, user: int, day: int, rng) -> np.ndarray:
    """Targeting, then the pacing throttle: CANDIDATES of the ads that may be shown to `user`."""
    pool = eligible(inv, user, day)
    return rng.choice(pool, min(CANDIDATES, pool.size), replace=False)


def pairs_of(
    requests: dict[str, np.ndarray], rows: np.ndarray, ads: np.ndarray, seen: np.ndarray
) -> Requests:
    """Candidate (request, ad) pairs: request `rows[i]` with `ads[i]`, seen `seen[i]` times today."""
    return Requests(requests["day"][rows], requests["hour"][rows], requests["user"][rows],
                    requests["placement"][rows], requests["position"][rows], ads, seen)  # fmt: skip


def one_request(day: int, hour: int, user: int, placement: int, position: int, ads, seen) -> Requests:
    """One ad request's candidate pairs (`position` 0 is the top slot)."""
    n = len(ads)
    return Requests(np.full(n, day), np.full(n, hour), np.full(n, user), np.full(n, placement),
                    np.full(n, position), np.asarray(ads), np.asarray(seen))  # fmt: skip


def rank(inv: Inventory, ads: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected value per thousand impressions of each candidate, and the candidates best first."""
    ecpm = np.where(inv.cpm[ads], inv.bid[ads], 1000 * inv.bid[ads] * p)
    return ecpm, np.argsort(-ecpm, kind="stable")


def settle(ecpm: np.ndarray, order: np.ndarray, capped: np.ndarray) -> tuple[int, float]:
    """Post-processing and the price: the best candidate not capped and above the reserve (-1: the
    slot stays empty), and the second price, the next such candidate's eCPM or the reserve."""
    open_ = order[~capped[order] & (ecpm[order] >= RESERVE_ECPM)]
    if open_.size == 0:
        return -1, 0.0
    return int(open_[0]), float(ecpm[open_[1]]) if open_.size > 1 else RESERVE_ECPM


def run_auctions(
    inv: Inventory,
    requests: dict[str, np.ndarray],
    candidates: list[np.ndarray],
    score: Callable[[Requests], np.ndarray],
    frequency_cap: int,
) -> Outcome:
    """Every request's auction, in rounds: round k holds each user's k-th request, so a user's
    earlier showings (fatigue, the cap) are known before the next is scored, and each round is
    scored in one batch."""
    n = requests["user"].size
    winner, p_win, t_win = np.full(n, -1), np.zeros(n), np.zeros(n)
    revenue, value = np.zeros(n), np.zeros(n)
    shown: defaultdict[tuple[int, int], int] = defaultdict(int)  # (user, ad) -> showings today
    occurrence = _occurrence(requests["user"])
    for k in range(int(occurrence.max()) + 1 if n else 0):
        rows = np.flatnonzero(occurrence == k)
        sizes = [candidates[r].size for r in rows]
        pair_rows = np.repeat(rows, sizes)
        ads = np.concatenate([candidates[r] for r in rows])
        users = requests["user"][pair_rows]
        seen = np.array([shown[u, a] for u, a in zip(users.tolist(), ads.tolist(), strict=True)], int)
        pairs = pairs_of(requests, pair_rows, ads, seen)
        p = score(pairs)
        for row, start, size in zip(rows.tolist(), np.cumsum([0, *sizes[:-1]]).tolist(), sizes, strict=True):
            here = slice(start, start + size)
            ecpm, order = rank(inv, ads[here], p[here])
            best, price_ecpm = settle(ecpm, order, seen[here] >= frequency_cap)
            if best < 0:
                continue
            i, ad = start + best, int(ads[start + best])
            truth = float(true_ctr(inv, users[i], ad, pairs.placement[i], pairs.position[i], pairs.hour[i],
                                   pairs.day[i], seen[i]))  # fmt: skip
            if inv.cpm[ad]:
                revenue[row], value[row] = price_ecpm / 1000, inv.bid[ad] / 1000
            else:
                per_click = min(inv.bid[ad], price_ecpm / 1000 / p[i])
                revenue[row], value[row] = truth * per_click, truth * inv.bid[ad]
            winner[row], p_win[row], t_win[row] = ad, p[i], truth
            shown[int(users[i]), ad] += 1
    return Outcome(winner, p_win, t_win, revenue, value)


def _occurrence(users: np.ndarray) -> np.ndarray:
    """For each request, how many requests of the same user came before it."""
    order = np.argsort(users, kind="stable")
    sorted_users = users[order]
    first = np.r_[True, sorted_users[1:] != sorted_users[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(users.size), 0))
    occurrence = np.empty(users.size, int)
    occurrence[order] = np.arange(users.size) - start
    return occurrence
