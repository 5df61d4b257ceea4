"""People you may know on the Production page: the endpoint serves the rows the pipeline evaluated,
falls back for people it has never seen, refuses bad requests with 422, its batch job covers
everyone but new users, and a canary of a random ranker against the learned one rolls back on the
world's acceptance."""

from __future__ import annotations

import os

import numpy as np
import pytest

import engine
from case_studies.pymk import pipeline
from engine.release import canary, lab
from engine.serving import batch, process
from engine.serving.registry import CHAMPION, Registry
from tests.unit.test_serving import post


@pytest.fixture(scope="module")
def registry():
    return Registry.from_url(os.environ["MLSD_LAB_DB"])


@pytest.fixture(scope="module")
def versions(registry):
    """The default design (gradient-boosted trees) and the same candidates in random order."""
    return registry.register("pymk", {}, seed=0), registry.register("pymk", {"ranker": "random"}, seed=0)


@pytest.fixture(scope="module")
def server(versions):
    started = process.start("pymk", versions[0].version)
    yield started
    started.stop()


def test_the_artifact_serves_the_rows_whose_recall_the_pipeline_measured(registry, versions):
    predictor = registry.load(versions[0])  # pickled, stored and loaded back
    prep = pipeline.prepared(versions[0].config, 0, None)
    users = prep.eval_users[prep.in_sample].tolist()
    answers = predictor.predict([predictor.parse({"user_id": u, "k": 10}) for u in users])
    recall = [
        len({s["user_id"] for s in answer["suggestions"]} & prep.targets[u]) / len(prep.targets[u])
        for u, answer in zip(users, answers, strict=True)
    ]
    assert np.mean(recall) == pytest.approx(engine.run("pymk", {}, seed=0).metrics["recall@10"])


def test_the_endpoint_suggests_people_and_flags_the_fallback_for_a_stranger(server):
    status, known, _ = post(server.port, '{"user_id": 42, "k": 5}')
    assert status == 200 and known["fallback"] is None and len(known["suggestions"]) == 5
    scores = [s["score"] for s in known["suggestions"]]
    assert scores == sorted(scores, reverse=True) and all(
        s["mutual_friends"] > 0 for s in known["suggestions"]
    )
    status, stranger, _ = post(server.port, '{"user_id": "joined-today"}')
    assert status == 200 and stranger["fallback"].startswith("popular")
    assert len(stranger["suggestions"]) == 10 and stranger["suggestions"][0]["score"] == 1.0


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('{"k": 5}', "user_id"),
        ('{"user_id": true}', "user_id"),
        ('{"user_id": 42, "k": 0}', "k"),
        ("[42]", "body"),
    ],
)
def test_a_bad_request_gets_a_422_naming_the_field(server, body, named):
    status, answer, _ = post(server.port, body)
    assert status == 422 and answer["field"] == named and named in answer["error"]


def test_the_batch_job_covers_every_known_user_and_misses_only_new_ones(registry):
    model = registry.register("pymk", {"ranker": "common_neighbours"}, seed=0)  # no networkx: a fast job
    predictor = registry.load(model)
    job = batch.run_batch(predictor)
    assert job.rows == int(engine.run("pymk", {}, seed=0).metrics["users"])
    replay = batch.replay(predictor, job, predictor.traffic(2000, seed=4))
    assert 0.9 < replay.hit_rate < 1.0 and set(replay.fallbacks) == {"new users"}  # 5 % new users


def test_a_canary_of_a_random_ranker_rolls_back_and_the_champion_stays(registry, versions):
    learned, random = versions
    registry.promote("pymk", learned.version)
    pair = lab.pick(registry, "pymk", None, random.version)
    champion, challenger = lab.pools(registry, pair)
    assert challenger.mean < 0.8 * champion.mean  # measured 0.53 against 0.76 per slot
    rollout = lab.run_canary(registry, pair, canary.Schedule())
    assert rollout.outcome[0] == canary.ROLLED_BACK and rollout.reason[0] == "metric"
    assert registry.aliases("pymk")[CHAMPION] == learned.version
    shadow = lab.shadow(registry, pair)
    assert shadow.agreement["top-10 overlap"] < 0.5  # the same candidates, in another order
    assert shadow.challenger_metric < shadow.champion_metric
