"""A seeded payment world, re-implemented from the Fraud Detection Handbook's published description
(customer and terminal profiles, three fraud scenarios), plus optional drift: a new fraud pattern that
starts on a chosen day, so the cost of a stale model can be measured.

Scale 1 is the Handbook's 5,000 customers and 10,000 terminals; smaller scales keep its per-capita
rates (terminals = 2 × customers, a radius that keeps ~78 reachable terminals per customer, compromises
per day proportional to the population), so the fraud rate stays near 0.8 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

DAY = 86_400  # seconds
BASE_CUSTOMERS = 5000
RADIUS = 5.0  # at scale 1, on a 100 × 100 map
RULE_LIMIT = 220.0  # scenario 1: any larger amount is fraud (and the rules engine blocks it)
TERMINAL_COMPROMISES, TERMINAL_DAYS = 2, 28  # per day at scale 1; how long each lasts
CARD_COMPROMISES, CARD_DAYS, CARD_SHARE, CARD_MULTIPLIER = 3, 14, 1 / 3, 5

# The timeline, in days. Training data must fit before the test period for every knob setting:
# burn-in (scenarios ramp up, 30-day windows fill) + longest train window + validation week + longest delay.
# Two validation weeks calibrate and tune the policy; the burn-in gave one of its weeks to them, so
# the test period starts on the same day as with one validation week, in the same world.
BURN_IN, MAX_TRAIN_DAYS, VALIDATION_DAYS, MAX_DELAY, TEST_DAYS = 23, 28, 14, 28, 28
TEST_START = BURN_IN + MAX_TRAIN_DAYS + VALIDATION_DAYS + MAX_DELAY
N_DAYS = TEST_START + TEST_DAYS

# Drift patterns: attacks per day at scale 1, transactions per attack, and the amounts they use.
CARD_TESTING = {"attacks": 15, "burst": (3, 7), "amount": (0.5, 5.0)}
SPLIT_AMOUNTS = {"attacks": 15, "burst": (2, 5), "amount": (120.0, RULE_LIMIT - 1)}


@dataclass(frozen=True)
class Log:
    """A transaction log, sorted by time: the simulated world's, or an upload's."""

    time: np.ndarray  # seconds since the start of day 0
    customer: np.ndarray  # 0-based indices
    terminal: np.ndarray
    amount: np.ndarray
    fraud: np.ndarray  # bool
    scenario: np.ndarray  # 0 legit, 1-3 the Handbook's scenarios, 4 the drift pattern; -1 unknown
    n_customers: int
    n_terminals: int
    test_start: int  # first test day
    test_days: int
    drift_day: int | None  # absolute day the drift pattern starts, if any

    @property
    def day(self) -> np.ndarray:
        return (self.time // DAY).astype(np.int64)

    @property
    def n_days(self) -> int:
        return self.test_start + self.test_days

    def __len__(self) -> int:
        return self.time.size


def generate_world(scale: float, drift: str, drift_test_day: int, seed: int, intensity: float = 1.0) -> Log:
    """The payment log; `intensity` multiplies the drift pattern's attacks per day (a wave)."""
    rng = np.random.default_rng(seed)
    n_customers = max(int(round(BASE_CUSTOMERS * scale)), 50)
    n_terminals = 2 * n_customers
    customer_xy = rng.uniform(0, 100, (n_customers, 2))
    mean_amount = rng.uniform(5, 100, n_customers)
    tx_per_day = rng.uniform(0, 4, n_customers)
    terminal_xy = rng.uniform(0, 100, (n_terminals, 2))
    reachable = cKDTree(terminal_xy).query_ball_point(customer_xy, r=RADIUS / np.sqrt(scale))

    counts = rng.poisson(tx_per_day[:, None], (n_customers, N_DAYS))
    counts[[len(r) == 0 for r in reachable]] = 0  # a customer with no terminal nearby cannot pay
    customer = np.repeat(np.arange(n_customers), counts.sum(axis=1))
    day = np.repeat(np.tile(np.arange(N_DAYS), n_customers), counts.ravel())
    n = customer.size
    time = day * DAY + _time_of_day(rng, n)
    amount = rng.normal(mean_amount[customer], mean_amount[customer] / 2)
    negative = amount < 0
    amount[negative] = rng.uniform(0, 2 * mean_amount[customer[negative]])
    terminal = _pick_terminals(rng, reachable, customer)

    scenario = np.zeros(n, np.int8)
    scenario[amount > RULE_LIMIT] = 1
    # Compromised terminals: every transaction there is fraud for the next 28 days.
    scenario[_compromised(rng, n_terminals, TERMINAL_COMPROMISES * scale, TERMINAL_DAYS)[terminal, day]] = 2
    # Leaked credentials: for 14 days, a third of the card's payments are fraud, at 5 times the amount.
    stolen = _compromised(rng, n_customers, CARD_COMPROMISES * scale, CARD_DAYS)[customer, day]
    stolen &= rng.random(n) < CARD_SHARE
    amount[stolen] *= CARD_MULTIPLIER
    scenario[stolen] = 3

    drift_day = None
    if drift != "none":
        drift_day = TEST_START + drift_test_day
        pattern = CARD_TESTING if drift == "card_testing" else SPLIT_AMOUNTS
        extra = _drift_attacks(rng, pattern, scale * intensity, drift_day, n_customers, n_terminals)
        time, customer, terminal, amount = (
            np.concatenate([old, new])
            for old, new in zip((time, customer, terminal, amount), extra, strict=True)
        )
        scenario = np.concatenate([scenario, np.full(extra[0].size, 4, np.int8)])

    order = np.argsort(time, kind="stable")
    return Log(
        time=time[order],
        customer=customer[order],
        terminal=terminal[order],
        amount=np.round(amount[order], 2),
        fraud=scenario[order] > 0,
        scenario=scenario[order],
        n_customers=n_customers,
        n_terminals=n_terminals,
        test_start=TEST_START,
        test_days=TEST_DAYS,
        drift_day=drift_day,
    )


def _time_of_day(rng, n: int) -> np.ndarray:
    """Seconds after midnight, normal around noon; draws outside the day are redrawn."""
    seconds = rng.normal(DAY / 2, 20_000, n)
    outside = (seconds <= 0) | (seconds >= DAY)
    while outside.any():
        seconds[outside] = rng.normal(DAY / 2, 20_000, outside.sum())
        outside = (seconds <= 0) | (seconds >= DAY)
    return seconds.astype(np.int64)


def _compromised(rng, n_entities: int, per_day: float, duration: int) -> np.ndarray:
    """entity × day matrix: True while a compromise drawn on some earlier day is still active.
    A fractional daily rate (small scales) is a Poisson count."""
    active = np.zeros((n_entities, N_DAYS), bool)
    for start in range(N_DAYS):
        hit = rng.choice(n_entities, min(rng.poisson(per_day), n_entities), replace=False)
        active[hit, start : start + duration] = True
    return active


def _pick_terminals(rng, reachable: list[list[int]], customer: np.ndarray) -> np.ndarray:
    """A terminal drawn uniformly from each paying customer's reachable ones."""
    sizes = np.array([len(r) for r in reachable])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.fromiter((t for r in reachable for t in r), np.int64, sizes.sum())
    pick = (rng.random(customer.size) * sizes[customer]).astype(np.int64)
    return flat[offsets[customer] + pick]


def _drift_attacks(rng, pattern, scale, drift_day, n_customers, n_terminals):
    """From `drift_day` on, fraudsters use a pattern the model never saw: each attack is a burst
    of transactions on one card within an hour, at a terminal used once and then dropped."""
    columns = ([], [], [], [])
    low, high = pattern["burst"]
    for day in range(drift_day, N_DAYS):
        for card in rng.choice(n_customers, rng.poisson(pattern["attacks"] * scale), replace=False):
            size = int(rng.integers(low, high + 1))
            start = day * DAY + rng.integers(0, DAY - 3600)
            columns[0].append(np.sort(start + rng.integers(0, 3600, size)))
            columns[1].append(np.full(size, card))
            columns[2].append(np.full(size, rng.integers(n_terminals)))
            columns[3].append(rng.uniform(*pattern["amount"], size))
    if not columns[0]:
        return tuple(np.zeros(0, dtype) for dtype in (np.int64, np.int64, np.int64, float))
    return tuple(np.concatenate(c) for c in columns)
