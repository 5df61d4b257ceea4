"""Bring-your-own interactions: clear, row-numbered errors, and a real run on valid data."""

import math

import numpy as np
import pytest

import engine
from engine.data import DataError

STUDY = engine.get_study("recommendation")


def csv(*lines):
    return ("\n".join(lines) + "\n").encode()


def valid_rows(n_users=40, n_items=60, per_user=12, seed=0):
    rng = np.random.default_rng(seed)
    rows = ["user_id,item_id,timestamp,weight"]
    for u in range(n_users):
        for i in rng.choice(n_items, size=per_user, replace=False):
            rows.append(f"u{u},item-{i},{1_700_000_000 + rng.integers(0, 10**7)},{rng.integers(1, 4)}")
    return rows


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n", "The file is empty."),
        (csv("user_id,item_id"), "The file has a header but no data rows."),
        (
            csv("user,item", "1,2"),
            "Missing column(s) user_id, item_id. Expected a header like "
            "`user_id,item_id,[timestamp],[weight]`; found `user,item`.",
        ),
        (
            csv("user_id,item_id,weight", "1,2,3", "1,3,heavy"),
            "line 3, column weight: 'heavy' is not a number.",
        ),
        (csv("user_id,item_id,weight", "1,2,-1"), "line 2, column weight: must be above 0."),
        (csv("user_id,item_id", "1,", "2,5"), "line 2, column item_id: value is empty."),
        (csv("user_id,item_id", "1,2", "2,3"), "Too little data to split and evaluate: 2 distinct"),
        (b"\xff\xfe\x00bad", "This file is not UTF-8 text"),
        ("user_id,item_id\nJosé,café\n".encode("latin-1"), "This file is not UTF-8 text: save it as UTF-8"),
    ],
)
def test_bad_files_get_a_message_naming_the_problem(raw, message):
    with pytest.raises(DataError) as caught:
        STUDY.upload.load(raw)
    assert str(caught.value).startswith(message)


def test_many_bad_rows_are_summarised():
    rows = ["user_id,item_id,weight"] + [f"1,{i},x" for i in range(10)]
    with pytest.raises(DataError, match=r"line 4, column weight: 'x' is not a number \(and 7 more\)"):
        STUDY.upload.load(csv(*rows))


def test_a_user_who_saw_everything_is_explained():
    rows = valid_rows() + [f"greedy,item-{i}" + ",1700000000,1" for i in range(60)]
    with pytest.raises(DataError, match="One user has interacted with 60 of the 60 items"):
        STUDY.upload.load(csv(*rows))


def test_valid_upload_runs_end_to_end():
    data = STUDY.upload.load(csv(*valid_rows()))
    assert data.summary == "480 interactions, 40 users, 60 items"
    result = engine.run(STUDY, {"candidates": 30}, seed=1, data=data)
    assert 0.0 <= result.metrics["ndcg@10"] <= 1.0
    assert result.metrics["users"] == 40 and result.metrics["items"] == 60
    assert math.isnan(result.metrics["online_ctr"])  # no ground truth outside the simulated world
    latest = engine.run(STUDY, {"candidates": 30, "split": "latest"}, seed=1, data=data)
    assert latest.metrics["ndcg@10"] != result.metrics["ndcg@10"]  # timestamps: a real time split


def test_without_timestamps_the_split_can_only_be_random_and_says_so():
    rows = [",".join(row.split(",")[:2]) for row in valid_rows()]
    data = STUDY.upload.load(csv("user_id,item_id", *rows[1:]))
    assert data.summary.endswith("no timestamps, so the held-out watches are a random 20 %")


def test_pool_larger_than_the_catalogue_is_capped():
    data = STUDY.upload.load(csv(*valid_rows()))
    capped = engine.run(STUDY, {"candidates": 500}, seed=1, data=data).metrics
    small = engine.run(STUDY, {"candidates": 10}, seed=1, data=data).metrics
    assert capped["candidate_recall@N"] > max(0.9, small["candidate_recall@N"])


def test_the_pool_stops_growing_where_the_upload_says_it_does():
    """The knob panel says the pool changes nothing past the upload's limit: so it must be so, and
    just below it the pool must still grow."""
    data = STUDY.upload.load(csv(*valid_rows()))
    limit, reason = engine.study.data_limits(data)["candidates"]
    assert limit == 60 - 12 and "48 of your 60 items" in reason

    def run(n):
        return engine.run(STUDY, {"candidates": n, "split": "latest"}, seed=1, data=data).metrics

    at_limit, above = run(limit), run(limit + 100)
    for key in ("candidate_recall@N", "ndcg@10", "recall@10"):
        assert at_limit[key] == above[key]
    assert run(limit - 30)["candidate_recall@N"] < at_limit["candidate_recall@N"]
    assert engine.study.data_limits(None) == {}
