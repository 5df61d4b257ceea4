"""The ad system's runner: the impression log, the model trained on a window of it (as old as the
model age says), scored on the test day, and the test day's auctions replayed with it.

Time is respected: the model never sees the test day, the feature store's counts at a request hold
only earlier days, and an older model was trained on an earlier window while the counts it reads
are today's (features are fresh, the model is not)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from case_studies.ads import auction as au
from case_studies.ads import features as f
from case_studies.ads.models import CtrModel, fit, with_calibration
from case_studies.ads.source import WorldSource
from case_studies.ads.spec import STUDY
from case_studies.ads.world import generate
from engine.data import DataError
from engine.memo import Step
from engine.result import Measured, Uncertainty
from engine.timing import StageClock, time_requests, timed

AUCTIONS = 3000  # the test day's ad requests replayed through the auction
CALIBRATION_SHARE = 0.15  # of the train window, held out from the model for its calibration
TIMED_REQUESTS = 300
BINS = 10

WORLD = Step(STUDY.id, "world", ("scale", "base_ctr", "drift"), max_entries=4)
IDS = Step(STUDY.id, "hashed ids", ("hash_bits", "crosses", "position"), after=(WORLD,), max_entries=6)
COUNTS = Step(STUDY.id, "feature store", ("position",), after=(WORLD,), max_entries=4)
MODEL = Step(
    STUDY.id,
    "model",
    ("model", "hash_bits", "crosses", "position", "negative_rate", "train_days", "model_age"),
    after=(WORLD,),
    max_entries=24,
)
REQUESTS = Step(STUDY.id, "auction requests", (), after=(WORLD,), max_entries=4)


@dataclass(frozen=True)
class Hashed:
    x: Any  # csr_matrix, every impression of the log
    collision_rate: float


@dataclass(frozen=True)
class Trained:
    model: CtrModel
    train_ms: float
    background_ctr: float  # the train window's CTR, before downsampling
    end: int | None = None  # the day its window ended (None: the test day minus the model's age)


@dataclass(frozen=True)
class System:
    source: Any  # WorldSource or an upload's CriteoData
    hashed: Hashed
    counts: Any  # CountColumns of every impression, or None for the logistic model
    trained: Trained
    config: dict

    @property
    def model(self) -> CtrModel:
        return self.trained.model

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        counts = None if self.counts is None else self.counts.matrix[rows]
        return self.model.probability(self.hashed.x[rows], counts)

    def features(self, pairs: f.Requests):
        """Candidate (request, ad) pairs' hashed ids and counts, looked up as the live system would."""
        c = self.config
        ids = f.hashed(self.source.ids(c["crosses"], c["position"], pairs), c["hash_bits"])
        counts = None if self.model.kind == "logistic" else self.source.counts(c["position"], pairs).matrix
        return ids, counts

    def score_pairs(self, pairs: f.Requests) -> np.ndarray:
        """pCTR of candidate (request, ad) pairs."""
        return self.model.probability(*self.features(pairs))


def source_of(config: dict[str, Any], seed: int, data):
    if data is not None:
        return data
    return WORLD.get(
        config, seed, data,
        lambda k: WorldSource(generate(k["scale"], k["base_ctr"], k["drift"], seed)),
    )  # fmt: skip


def assemble(config: dict[str, Any], seed: int, data) -> System:
    source = source_of(config, seed, data)
    hashed = IDS.get(config, seed, data, lambda k: _hash(source, k["hash_bits"], k["crosses"], k["position"]))
    counts = None
    if config["model"] != "logistic":
        counts = COUNTS.get(config, seed, data, lambda k: source.counts(k["position"]))
    trained = MODEL.get(config, seed, data, lambda k: train(source, hashed, counts, k, seed))
    trained = calibrated(source, hashed, counts, trained, config, seed)
    return System(source, hashed, counts, trained, dict(config))


def _hash(source, bits: int, crosses: bool, position: bool) -> Hashed:
    fields = source.ids(crosses, position)
    return Hashed(f.hashed(fields, bits), f.collision_rate(fields, bits))


def _windows(source, config, seed: int, end: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The train window's rows fitted on, and those held out for calibration: the `train_days` days
    before day `end` (by default the test day minus the model's age)."""
    end = source.test_day - config["model_age"] if end is None else end
    start = end - config["train_days"]
    if start < 0:
        raise DataError(
            f"A {config['train_days']}-day window for a model {config['model_age']} day(s) old needs "
            f"{config['train_days'] + config['model_age']} days before the test day; the log has "
            f"{source.test_day}. Shorten the window or the model's age."
        )
    rows = np.flatnonzero((source.day >= start) & (source.day < end))
    held = np.random.default_rng([seed, 12]).random(rows.size) < CALIBRATION_SHARE
    return rows[~held], rows[held]


def train(source, hashed: Hashed, counts, config, seed: int, end: int | None = None) -> Trained:
    """The model fitted on the train window ending on day `end` (see `_windows`)."""
    rows, _ = _windows(source, config, seed, end)
    y = source.y[rows]
    if y.sum() < 5:
        raise DataError("The train window holds fewer than 5 clicks: widen it or raise the CTR.")
    matrix = None if counts is None else counts.matrix[rows]
    categorical = None if counts is None else counts.categorical
    model, ms = timed(lambda: fit(config["model"], hashed.x[rows], matrix, y, seed, config["negative_rate"],
                                  categorical))  # fmt: skip
    return Trained(model, ms, float(y.mean()), end)


def calibrated(
    source, hashed: Hashed, counts, trained: Trained, config, seed: int, end: int | None = None
) -> Trained:
    """`trained` with its recalibration switch and its calibration, fitted on the window's held-out rows."""
    held_out = _windows(source, config, seed, end)[1]
    model = with_calibration(
        replace(trained.model, recalibrate=config["recalibrate"]), config["calibration"],
        hashed.x[held_out], None if counts is None else counts.matrix[held_out], source.y[held_out],
    )  # fmt: skip
    return replace(trained, model=model)


def run(config: dict[str, Any], seed: int, data) -> Measured:
    system = assemble(config, seed, data)
    source = system.source
    test = np.flatnonzero(source.day == source.test_day)
    p, y = system.score_rows(test), source.y[test]
    entropy = _entropy(system.trained.background_ctr)
    losses = -(y * np.log(p) + (~y) * np.log(1 - p))
    if source.auction:
        requests, candidates = REQUESTS.get(
            config,
            seed,
            data,
            lambda _: au.test_requests(source.log.inventory, source.test_day, AUCTIONS, seed),
        )
        outcome, latency = _auctions(system, requests, candidates, seed)
        business = {
            "revenue_per_mille": 1000 * outcome.revenue,
            "advertiser_value": 1000 * outcome.value,
        }
        shown = outcome.winner >= 0
        shown_ctr = float(outcome.truth[shown].mean()) if shown.any() else 0.0
        shown_band = 1.96 * float(outcome.truth[shown].std()) / np.sqrt(max(shown.sum(), 1))
    else:
        latency = _score_latency(system, test, seed)
        business, shown_ctr, shown_band = {}, float("nan"), 0.0
    calibration = float(p.sum() / max(y.sum(), 1))
    metrics = {
        "normalized_entropy": float(losses.mean() / entropy),
        "log_loss": float(losses.mean()),
        "auc": float(roc_auc_score(y, p)),
        "calibration": calibration,
        "ece": _ece(p, y),
        "revenue_per_mille": float(business["revenue_per_mille"].mean()) if business else float("nan"),
        "advertiser_value": float(business["advertiser_value"].mean()) if business else float("nan"),
        "shown_ctr": shown_ctr,
        **latency.metrics(),
        "model_memory_mb": system.model.memory_bytes / 1e6,
        "collision_rate": system.hashed.collision_rate,
        "train_s": system.trained.train_ms / 1000,
        "impressions": float(source.y.size),
        "ctr": float(source.y.mean()),
    }
    per_unit = {"normalized_entropy": losses / entropy, "log_loss": losses}
    uncertainty = Uncertainty.resampled(
        per_unit, seed, f"{test.size:,} test-day impressions", f"{source.token}-test",
        noise={
            **latency.noise(),
            "calibration": 1.96 * calibration / np.sqrt(max(y.sum(), 1)),  # Poisson clicks
            "shown_ctr": shown_band,
        },
    )  # fmt: skip
    if business:
        auctions = Uncertainty.resampled(business, seed, f"{AUCTIONS:,} auctions", f"{source.token}-auctions")
        uncertainty = _merge(uncertainty, auctions)
    stage_ms = {**latency.stage_ms, "Training": system.trained.train_ms}
    artifacts = {"deciles": _deciles(p, y)}
    return Measured(metrics, stage_ms, uncertainty, artifacts)


def _merge(first: Uncertainty, second: Uncertainty) -> Uncertainty:
    """Two sets of resampled metrics on different units (impressions, auctions): each metric keeps its
    own units, so comparisons stay paired."""
    return Uncertainty(
        {**first.noise, **second.noise},
        {**first.intervals, **second.intervals},
        first.unit,
        {**first.per_unit, **second.per_unit},
        first.units,
    )


def _entropy(ctr: float) -> float:
    return float(-(ctr * np.log(ctr) + (1 - ctr) * np.log(1 - ctr)))


def _ece(p: np.ndarray, y: np.ndarray) -> float:
    edges = np.quantile(p, np.linspace(0, 1, BINS + 1)[1:-1])
    bins = np.searchsorted(edges, p)
    gap = [
        abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean()
        for b in range(BINS)
        if (bins == b).any()
    ]
    return float(sum(gap))


def _deciles(p: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """Mean predicted and observed CTR in ten bins of the prediction: the reliability diagram."""
    edges = np.quantile(p, np.linspace(0, 1, BINS + 1)[1:-1])
    bins = np.searchsorted(edges, p)
    present = [b for b in range(BINS) if (bins == b).any()]
    return {
        "predicted": [float(p[bins == b].mean()) for b in present],
        "observed": [float(y[bins == b].mean()) for b in present],
    }


def _auctions(system: System, requests: dict, candidates: list, seed: int):
    """The test day's auctions with this model, and the latency of serving some of them one at a time."""
    inv = system.source.log.inventory
    outcome = au.run_auctions(inv, requests, candidates, system.score_pairs, system.config["frequency_cap"])
    rows = np.random.default_rng([seed, 13]).choice(requests["user"].size, TIMED_REQUESTS, replace=False)

    def serve(row: int, clock: StageClock) -> None:
        with clock.stage("API_Gateway"):
            r = {k: int(v[row]) for k, v in requests.items()}
        with clock.stage("Candidates"):
            ads = au.pace(inv, r["user"], r["day"], np.random.default_rng(row))
        with clock.stage("Feature_Store"):
            seen = np.array([shown.get((r["user"], a), 0) for a in ads.tolist()])
            pairs = au.one_request(r["day"], r["hour"], r["user"], r["placement"], r["position"], ads, seen)
            ids, counts = system.features(pairs)
        with clock.stage("Model_Serving"):
            p = system.model.probability(ids, counts)
        with clock.stage("Auction"):
            ecpm, order = au.rank(inv, ads, p)
        with clock.stage("Post_Processing"):
            au.settle(ecpm, order, seen >= system.config["frequency_cap"])

    shown: dict[tuple[int, int], int] = {}  # a live system's per-user showing counts (empty: a new day)
    latency = time_requests(serve, rows.tolist(), STUDY.latency_floor, seed)
    return outcome, latency


def _score_latency(system: System, test: np.ndarray, seed: int):
    """An upload has no candidate ads: a request scores CANDIDATES of its test impressions."""
    rng = np.random.default_rng([seed, 13])
    batches = [rng.choice(test, au.CANDIDATES) for _ in range(TIMED_REQUESTS)]

    def serve(rows: np.ndarray, clock: StageClock) -> None:
        with clock.stage("Feature_Store"):
            ids = system.hashed.x[rows]
            counts = None if system.counts is None else system.counts.matrix[rows]
        with clock.stage("Model_Serving"):
            system.model.probability(ids, counts)

    return time_requests(serve, batches, STUDY.latency_floor, seed)


def probe(config: dict[str, Any], seed: int, data, text: str) -> list[tuple[str, Any]]:
    """One ad request for a typed user id through the live system: the user, the candidates with
    their pCTR, bid and expected value, the winner and what it pays."""
    import pandas as pd

    from case_studies.ads.serving import AdsPredictor
    from case_studies.ads.world import USERS, true_ctr

    if data is not None:
        return [
            (
                "Try it",
                "An uploaded file has no users, ads or bids to auction: try it on the simulated world.",
            )
        ]
    try:
        user = int(text.strip())
    except ValueError:
        return [("Try it", f"Type a user id, a whole number from 0 to {USERS - 1:,}.")]
    if not 0 <= user < USERS:
        return [("Try it", f"There are {USERS:,} users: type a user id from 0 to {USERS - 1:,}.")]
    system = assemble(config, seed, data)
    predictor = AdsPredictor(system)
    inv, day = predictor.inventory, predictor.day
    rng = np.random.default_rng([seed, user])
    placement, position, hour = int(rng.integers(0, 200)), int(rng.integers(0, 4)), int(rng.integers(8, 22))
    ads = au.pace(inv, user, day, rng)
    pctr = system.score_pairs(
        au.one_request(day, hour, user, placement, position, ads, np.zeros(ads.size, int))
    )
    ecpm, order = au.rank(inv, ads, pctr)
    best, price = au.settle(ecpm, order, np.zeros(ads.size, bool))
    truth = true_ctr(inv, user, ads, placement, position, hour, day, 0)
    shown = order[:10]
    table = pd.DataFrame(
        {
            "ad": ads[shown],
            "advertiser": inv.advertiser[ads[shown]],
            "category": inv.category[ads[shown]],
            "pays per": np.where(inv.cpm[ads[shown]], "1,000 impressions", "click"),
            "bid ($)": inv.bid[ads[shown]].round(2),
            "pCTR": pctr[shown].round(4),
            "true CTR": truth[shown].round(4),
            "eCPM ($)": ecpm[shown].round(2),
        },
        index=pd.RangeIndex(1, shown.size + 1, name="rank"),
    )
    interests = ", ".join(f"category {c} ({inv.interest[user, c]:.0%})" for c in inv.top_categories[user])
    if best < 0:
        verdict = "No candidate clears the $4 reserve: the slot stays empty."
    else:
        ad = int(ads[best])
        pays = (
            f"${price / 1000:.4f} for the impression" if inv.cpm[ad]
            else f"${min(inv.bid[ad], price / 1000 / pctr[best]):.3f} per click (bid ${inv.bid[ad]:.2f})"
        )  # fmt: skip
        verdict = (
            f"Ad {ad} wins with eCPM ${ecpm[best]:.2f} and pays the second price, {pays}: the eCPM "
            f"${price:.2f} of the next ad, or the reserve."
        )
    return [
        (
            "The request",
            f"User {user:,}: interested in {interests}; slot {position + 1} of placement "
            f"{placement}, {hour}:00 on the test day.",
        ),  # fmt: skip
        (f"Candidates: the top 10 of {ads.size} by expected value", table),
        ("The auction", verdict),
    ]
