"""Ad click prediction: the upload in the Criteo format, the auction's mechanics, the hashing trick,
the downsampling correction, the served endpoint and the Try-it probe. The study's lessons (its
trade-offs, at three seeds) are checked with every study's in test_lessons.py."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from case_studies.ads import auction as au
from case_studies.ads import features as f
from case_studies.ads import models
from case_studies.ads.upload import load_criteo
from case_studies.ads.world import generate
from engine.data import DataError
from engine.serving.predictor import BadRequest

STUDY = engine.get_study("ads")


def criteo_file(lines: int, seed: int = 0, ctr: float = 0.05) -> bytes:
    """Impressions of the simulated world written in the Criteo format: the click, 13 integers (some
    missing), 26 categories (hex strings, most columns empty, as in Criteo's sparse tail)."""
    log = generate(0.5, ctr, 0.15, seed)
    rows = np.sort(np.random.default_rng(seed).choice(len(log), lines, replace=False))
    inv = log.inventory
    out = []
    for r in rows.tolist():
        ints = [log.hour[r], log.position[r], log.seen[r], inv.device[log.user[r]], "", *[""] * 8]
        ids = (log.user[r], log.ad[r], inv.advertiser[log.ad[r]], inv.category[log.ad[r]],
               log.placement[r], inv.region[log.user[r]])  # fmt: skip
        cats = [f"{v:08x}" for v in ids]
        fields = [str(int(log.click[r])), *map(str, ints), *cats, *[""] * (26 - len(cats))]
        out.append("\t".join(fields))
    return ("\n".join(out) + "\n").encode()


# -- the upload ----------------------------------------------------------------------------------------
def test_a_criteo_file_trains_and_tests_on_its_last_day_without_an_auction():
    # 40,000 lines (about 2,000 clicks): with fewer, the ids' weights overfit and the test day's
    # normalized entropy passes 1 (worse than the base rate), as a small real sample would.
    data = load_criteo(criteo_file(40_000))
    assert data.clicks.size == 40_000 and "CTR" in data.summary
    result = engine.run(STUDY, {}, 0, data)
    assert 0.5 < result.metrics["normalized_entropy"] < 1.0  # it learns from the file
    assert result.metrics["auc"] > 0.6
    assert np.isnan(result.metrics["revenue_per_mille"])  # no bids in a file: said, not invented
    crosses = dict(data.limits)["crosses"]
    assert crosses[0] is False  # the knob is idle on a file, with its reason shown


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "empty"),
        (b"1\t2\t3\n", r"line 1: 3 tab-separated fields, expected 40"),
        (b"\t".join([b"2"] + [b""] * 39) + b"\n", r"line 1: the click is '2', not 0 or 1"),
        (b"\t".join([b"1", b"x1"] + [b""] * 38) + b"\n", r"line 1, integer feature I1: 'x1' is not a number"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_bad_file_gets_a_line_numbered_message(raw, message):
    with pytest.raises(DataError, match=message):
        load_criteo(raw)


def test_too_few_clicks_or_lines_is_said_as_such():
    quiet = b"".join(b"\t".join([b"0"] + [b""] * 39) + b"\n" for _ in range(1000))
    with pytest.raises(DataError, match="clicks"):
        load_criteo(quiet)


# -- the mechanics ----------------------------------------------------------------------------------------
def test_the_auction_takes_the_best_uncapped_ad_above_the_reserve_at_the_second_price():
    ecpm = np.array([10.0, 30.0, 20.0, 3.0])
    order = np.argsort(-ecpm)
    assert au.settle(ecpm, order, np.zeros(4, bool)) == (1, 20.0)
    assert au.settle(ecpm, order, np.array([False, True, False, False])) == (2, 10.0)  # capped: skipped
    assert au.settle(ecpm, order, np.array([True, True, False, False])) == (2, au.RESERVE_ECPM)  # alone
    assert au.settle(np.array([1.0, 2.0]), np.array([1, 0]), np.zeros(2, bool))[0] == -1  # below reserve


def test_more_hash_columns_mean_fewer_collisions_and_the_same_id_lands_in_the_same_column():
    ids = {"user": np.arange(20_000), "ad": np.arange(1_500)}
    rates = [f.collision_rate(ids, bits) for bits in (12, 16, 20)]
    assert rates[0] > rates[1] > rates[2] and rates[0] > 0.9 and rates[2] < 0.05
    assert (f.bucket("user", np.arange(5), 18) == f.bucket("user", np.arange(5), 18)).all()
    assert (f.bucket("user", np.arange(5), 18) != f.bucket("ad", np.arange(5), 18)).any()  # per field


def test_downsampled_odds_are_too_high_until_corrected():
    rng = np.random.default_rng(0)
    x = f.hashed({"id": rng.integers(0, 50, 40_000)}, 12)
    y = rng.random(40_000) < 0.02
    model = models.fit("logistic", x, None, y, 0, 0.1, None)
    raw = model.raw(x, None).mean()
    corrected = model.probability(x, None).mean()
    assert raw > 0.12  # about 0.02 / (0.02 + 0.98 × 0.1): the kept share of non-clicks
    assert abs(corrected - y.mean()) < 0.003


def test_the_feature_stores_counts_hold_only_earlier_days():
    day = np.array([0, 0, 1, 2])
    store = f.CountStore.build({"ad": np.array([5, 5, 5, 5])}, day, np.array([1.0, 0.0, 1.0, 1.0]), 3)
    assert list(store.impressions["ad"][:, 5]) == [0.0, 2.0, 3.0]  # day d sees days before d only
    assert list(store.clicks["ad"][:, 5]) == [0.0, 1.0, 2.0]


# -- serving and Try it ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def predictor():
    return STUDY.implementation().predictor(STUDY.defaults(), 0, None)


def test_an_ad_request_gets_a_winner_its_pctr_and_its_price_the_same_each_time(predictor):
    request = predictor.parse({"user_id": 42, "placement_id": 7, "position": 1, "hour": 20})
    first, again = predictor.predict([request, request])
    assert first == again and first["candidates"] == au.CANDIDATES
    assert first["pays_per"] in ("click", "impression") and 0 < first["p_ctr"] < 1
    if first["pays_per"] == "click":  # the second price, never above the ad's own bid
        assert 0 < first["price"] <= predictor.inventory.bid[first["ad_id"]]


def test_a_capped_ad_loses_its_slot(predictor):
    request = predictor.parse({"user_id": 42, "placement_id": 7, "position": 1, "hour": 20})
    winner = predictor.predict([request])[0]["ad_id"]
    capped = predictor.parse({"user_id": 42, "placement_id": 7, "position": 1, "hour": 20,
                              "seen_today": {str(winner): predictor.cap}})  # fmt: skip
    assert predictor.predict([capped])[0]["ad_id"] != winner


@pytest.mark.parametrize(
    "body, field",
    [({}, "user_id"), ({"user_id": -1}, "user_id"), ({"user_id": 1, "position": 9}, "position"),
     ({"user_id": 1, "seen_today": {"x": 1}}, "seen_today"), ([1], "body")],
)  # fmt: skip
def test_a_malformed_request_names_its_field(predictor, body, field):
    with pytest.raises(BadRequest) as err:
        predictor.parse(body)
    assert err.value.field == field


@pytest.mark.parametrize("text", ["forty-two", "-3", "20000", ""])
def test_try_it_answers_a_bad_user_id_in_words(text):
    sections = STUDY.implementation().probe(STUDY.defaults(), 0, None, text)
    assert len(sections) == 1 and "user id" in sections[0][1]


def test_try_it_shows_the_candidates_and_who_wins():
    sections = dict(STUDY.implementation().probe(STUDY.defaults(), 0, None, "42"))
    table = next(v for k, v in sections.items() if k.startswith("Candidates"))
    assert list(table["eCPM ($)"]) == sorted(table["eCPM ($)"], reverse=True)
    assert "second price" in sections["The auction"] or "reserve" in sections["The auction"]
