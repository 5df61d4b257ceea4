"""The ad world: users with interests, ads from advertisers who bid per click or per thousand
impressions, placements with slots, and a true click probability behind every impression.

The true probability is what every metric is scored against: a slot's position bias times the
logistic of user × category affinity, the user's and the ad's own propensity, the placement, two
crosses (device × category, region × category), the hour, and fatigue (each earlier showing of the
same ad to the same user that day lowers it). Ads' appeal drifts day by day and new campaigns start
every day, so a model decays as it ages. Most ids are rare: users' activity and advertisers' sizes
are heavy-tailed."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

DAYS = 8  # days of impression logs; the last is the test day
USERS, ADS, ADVERTISERS, PLACEMENTS = 20_000, 1_500, 150, 200
CATEGORIES, DEVICES, REGIONS, POSITIONS = 12, 3, 8, 4
IMPRESSIONS_PER_DAY = 40_000  # at scale 1
POSITION_BIAS = np.array([1.0, 0.62, 0.45, 0.33])  # a slot's share of the top slot's clicks
FATIGUE = 0.75  # each earlier showing of the same ad to the same user that day
CPM_SHARE = 0.5  # advertisers buying impressions (brand campaigns) rather than clicks
BROAD_SHARE = 0.3  # ads targeted at everyone rather than at users interested in their category
NEW_ADS_PER_DAY = 0.06  # share of the inventory whose campaign starts on each later day
BURST_ADS = 100  # the campaign burst scenario: a new advertiser's ads, all at once
BURST_APPEAL = 0.8
HOLIDAY_CATEGORIES = (0, 1)  # the holiday scenario: interest in them triples, and they get half the slots
HOLIDAY_BOOST = 3.0


@dataclass(frozen=True)
class Inventory:
    """Who and what exists: users, ads, advertisers and placements, with their hidden propensities."""

    interest: np.ndarray  # (users, categories), each row sums to 1
    top_categories: np.ndarray  # (users, 3): the categories an ad can target a user by
    user_bias: np.ndarray
    device: np.ndarray
    region: np.ndarray
    activity: np.ndarray  # each user's share of requests
    advertiser: np.ndarray  # per ad
    category: np.ndarray
    broad: np.ndarray  # targeted at everyone
    appeal: np.ndarray  # (ads, days): the creative's appeal, drifting
    born: np.ndarray  # the day its campaign starts
    cpm: np.ndarray  # True: pays per thousand impressions
    bid: np.ndarray  # $ per click, or $ per thousand impressions for CPM ads
    advertiser_bias: np.ndarray
    placement_bias: np.ndarray
    placement_topic: np.ndarray  # the category a placement's page is about
    device_category: np.ndarray  # (devices, categories)
    region_category: np.ndarray  # (regions, categories)
    hour_effect: np.ndarray  # (24,)
    intercept: float  # sets the world's average click-through rate
    holiday_from: int | None = None  # the day interest moves to HOLIDAY_CATEGORIES (a drift scenario)

    @property
    def ads(self) -> int:
        return self.born.size

    def holiday(self, day) -> np.ndarray:
        return np.asarray(day) >= (self.holiday_from if self.holiday_from is not None else 10**9)


@dataclass(frozen=True)
class Log:
    """Impressions, one row each: the request (user, placement, slot, hour, day), the ad shown, how
    many times that user had seen it that day, its true click probability and the click."""

    inventory: Inventory
    day: np.ndarray
    hour: np.ndarray
    user: np.ndarray
    placement: np.ndarray
    position: np.ndarray  # 0 = top slot
    ad: np.ndarray
    seen: np.ndarray
    p_click: np.ndarray
    click: np.ndarray
    base_ctr: float
    days: int
    token: str

    test_day = DAYS - 1  # the model is scored on the last day of the usual log; later days are served

    def __len__(self) -> int:
        return self.day.size


def true_ctr(inv: Inventory, user, ad, placement, position, hour, day, seen) -> np.ndarray:
    """The world's click probability of showing `ad` to `user` in a slot (arrays broadcast)."""
    category = inv.category[ad]
    boost = np.where(inv.holiday(day) & np.isin(category, HOLIDAY_CATEGORIES), HOLIDAY_BOOST, 1.0)
    eta = (
        inv.intercept
        + 0.9 * np.log(inv.interest[user, category] * boost * CATEGORIES + 0.05)
        + inv.user_bias[user]
        + inv.appeal[ad, day]
        + inv.advertiser_bias[inv.advertiser[ad]]
        + inv.placement_bias[placement]
        + 0.4 * (inv.placement_topic[placement] == category)
        + inv.device_category[inv.device[user], category]
        + inv.region_category[inv.region[user], category]
        + inv.hour_effect[hour]
    )
    return POSITION_BIAS[position] * FATIGUE**seen / (1 + np.exp(-eta))


def make_inventory(
    base_ctr: float, drift: float, seed: int, days: int = DAYS, scenario: str = "none", drift_day: int = 0
) -> Inventory:
    """The world's inventory over `days` days; a drift scenario acts from `drift_day` on."""
    rng = np.random.default_rng([seed, 1])
    interest = rng.dirichlet(np.full(CATEGORIES, 0.25), USERS)
    activity = 1 / np.arange(1, USERS + 1) ** 0.9
    activity = rng.permutation(activity / activity.sum())
    advertiser_size = 1 / np.arange(1, ADVERTISERS + 1) ** 1.1
    advertiser = rng.choice(ADVERTISERS, ADS, p=advertiser_size / advertiser_size.sum())
    cpm_advertiser = rng.random(ADVERTISERS) < CPM_SHARE
    cpm = cpm_advertiser[advertiser]
    born = np.where(rng.random(ADS) < 1 - NEW_ADS_PER_DAY * (DAYS - 1), 0, rng.integers(1, DAYS, ADS))
    walk = np.cumsum(rng.normal(0, 1, (ADS, days)), axis=1)
    appeal = rng.normal(0, 0.8, ADS)[:, None] + drift * (walk - walk[:, :1])
    cpc_bid = rng.lognormal(np.log(1.0), 0.5, ADS)
    cpm_bid = rng.lognormal(np.log(1000 * base_ctr * 1.2), 0.4, ADS)  # competes with a $1.2 CPC ad
    inv = Inventory(
        interest=interest,
        top_categories=np.argsort(-interest, axis=1)[:, :3],
        user_bias=rng.normal(0, 0.4, USERS),
        device=rng.choice(DEVICES, USERS, p=[0.6, 0.3, 0.1]),
        region=rng.integers(0, REGIONS, USERS),
        activity=activity,
        advertiser=advertiser,
        category=rng.integers(0, CATEGORIES, ADS),
        broad=rng.random(ADS) < BROAD_SHARE,
        appeal=appeal,
        born=born,
        cpm=cpm,
        bid=np.where(cpm, cpm_bid, cpc_bid),
        advertiser_bias=rng.normal(0, 0.3, ADVERTISERS),
        placement_bias=rng.normal(0, 0.3, PLACEMENTS),
        placement_topic=rng.integers(0, CATEGORIES, PLACEMENTS),
        device_category=rng.normal(0, 0.35, (DEVICES, CATEGORIES)),
        region_category=rng.normal(0, 0.25, (REGIONS, CATEGORIES)),
        hour_effect=0.25 * np.sin(np.arange(24) / 24 * 2 * np.pi - 2.0),
        intercept=0.0,
    )
    inv = _calibrated(inv, base_ctr, seed)
    if scenario == "campaign_burst":
        inv = _with_burst(inv, drift_day, np.random.default_rng([seed, 6]))
    if scenario == "holiday":
        inv = replace(inv, holiday_from=drift_day)
    return inv


def _with_burst(inv: Inventory, day: int, rng) -> Inventory:
    """A new advertiser's BURST_ADS broad ads, born on `day`, better liked than most."""
    n, advertiser = BURST_ADS, inv.advertiser_bias.size
    cpc = rng.lognormal(np.log(1.0), 0.3, n)
    return replace(
        inv,
        advertiser=np.r_[inv.advertiser, np.full(n, advertiser)],
        advertiser_bias=np.r_[inv.advertiser_bias, 0.3],
        category=np.r_[inv.category, rng.integers(0, CATEGORIES, n)],
        broad=np.r_[inv.broad, np.ones(n, bool)],
        appeal=np.vstack([inv.appeal, np.full((n, inv.appeal.shape[1]), BURST_APPEAL)]),
        born=np.r_[inv.born, np.full(n, day)],
        cpm=np.r_[inv.cpm, np.zeros(n, bool)],
        bid=np.r_[inv.bid, cpc],
    )


def _calibrated(inv: Inventory, base_ctr: float, seed: int) -> Inventory:
    """The intercept at which the first day's logged impressions click at `base_ctr` on average."""
    requests = sample_requests(inv, 0, 20_000, np.random.default_rng([seed, 2]))
    ad = logging_policy(inv, requests["user"], 0, np.random.default_rng([seed, 3]))
    low, high = -12.0, 4.0
    for _ in range(40):
        mid = (low + high) / 2
        trial = replace(inv, intercept=mid)
        ctr = true_ctr(trial, requests["user"], ad, requests["placement"], requests["position"],
                       requests["hour"], 0, 0).mean()  # fmt: skip
        low, high = (mid, high) if ctr < base_ctr else (low, mid)
    return replace(inv, intercept=(low + high) / 2)


def sample_requests(inv: Inventory, day: int, n: int, rng) -> dict[str, np.ndarray]:
    """`n` ad requests of a day: who asks (heavy-tailed activity), on which page, in which slot, when."""
    hour_weight = 1.2 + np.sin(np.arange(24) / 24 * 2 * np.pi - 2.0)
    return {
        "user": rng.choice(USERS, n, p=inv.activity),
        "placement": (rng.pareto(1.5, n) * 20).astype(int) % PLACEMENTS,
        "position": rng.integers(0, POSITIONS, n),
        "hour": rng.choice(24, n, p=hour_weight / hour_weight.sum()),
        "day": np.full(n, day),
    }


def eligible(inv: Inventory, user: int, day: int) -> np.ndarray:
    """The ads that may be shown to `user`: alive, and broad or targeting one of the user's top
    categories."""
    live = inv.born <= day
    return np.flatnonzero(live & (inv.broad | np.isin(inv.category, inv.top_categories[user])))


def logging_policy(inv: Inventory, users: np.ndarray, day: int, rng) -> np.ndarray:
    """The ad the old system showed: a random eligible ad (targeting, then an even rotation), so the
    log covers the inventory and a new model learns from more than its predecessor's choices."""
    live = inv.born <= day
    targeted = [np.flatnonzero(live & ~inv.broad & (inv.category == c)) for c in range(CATEGORIES)]
    broad = np.flatnonzero(live & inv.broad)
    choice = inv.top_categories[users, rng.integers(0, 3, users.size)]
    if inv.holiday(day):  # holiday campaigns buy half the slots
        seasonal = rng.random(users.size) < 0.5
        choice[seasonal] = rng.choice(HOLIDAY_CATEGORIES, seasonal.sum())
    ads = np.empty(users.size, int)
    use_broad = rng.random(users.size) < broad.size / (broad.size + 3 * np.mean([t.size for t in targeted]))
    ads[use_broad] = rng.choice(broad, use_broad.sum())
    for c in range(CATEGORIES):
        rows = np.flatnonzero(~use_broad & (choice == c))
        pool = targeted[c] if targeted[c].size else broad
        ads[rows] = rng.choice(pool, rows.size)
    return ads


def seen_before(day: np.ndarray, user: np.ndarray, ad: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For each impression, how many times the same user saw the same ad earlier that day."""
    keys = np.lexsort((order, ad, user, day))
    d, u, a = day[keys], user[keys], ad[keys]
    new_group = np.r_[True, (d[1:] != d[:-1]) | (u[1:] != u[:-1]) | (a[1:] != a[:-1])]
    start = np.maximum.accumulate(np.where(new_group, np.arange(keys.size), 0))
    seen = np.empty(keys.size, int)
    seen[keys] = np.arange(keys.size) - start
    return seen


def generate(
    scale: float,
    base_ctr: float,
    drift: float,
    seed: int,
    days: int = DAYS,
    scenario: str = "none",
    drift_day: int = 0,
) -> Log:
    """`days` days of impression logs (the usual DAYS, or more for a serving period in which a drift
    `scenario` starts on `drift_day`)."""
    inv = make_inventory(base_ctr, drift, seed, days, scenario, drift_day)
    rng = np.random.default_rng([seed, 4])
    per_day = int(IMPRESSIONS_PER_DAY * scale)
    parts = [sample_requests(inv, d, per_day, rng) for d in range(days)]
    columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = columns["hour"] * 1e6 + rng.random(columns["hour"].size)  # time of day
    ads = np.concatenate(
        [logging_policy(inv, p["user"], d, np.random.default_rng([seed, 5, d])) for d, p in enumerate(parts)]
    )
    seen = seen_before(columns["day"], columns["user"], ads, order)
    p = true_ctr(inv, columns["user"], ads, columns["placement"], columns["position"], columns["hour"],
                 columns["day"], seen)  # fmt: skip
    click = rng.random(p.size) < p
    token = f"world-{scale}-{base_ctr}-{drift}-{seed}-{days}-{scenario}-{drift_day}"
    return Log(inv, columns["day"], columns["hour"], columns["user"], columns["placement"],
               columns["position"], ads, seen, p, click, base_ctr, days, token)  # fmt: skip
