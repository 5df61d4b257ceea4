"""The Production lab's engine: the endpoint answers as the pipeline does, refuses bad requests,
the registry keeps its versions and alias history, and the load test, batch job and capacity plan
measure what they claim."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import engine
from engine.serving import batch, capacity, loadtest, process
from engine.serving.artifact import ArtifactError
from engine.serving.registry import CHAMPION, Registry, RegistryError
from engine.timing import StageClock

STUDIES = [s.id for s in engine.list_studies() if s.serving]


@pytest.fixture(scope="module")
def registry():
    return Registry.from_url(os.environ["MLSD_LAB_DB"])


@pytest.fixture(scope="module")
def versions(registry):
    return {study: registry.register(study, {}, seed=0) for study in STUDIES}


@pytest.fixture(scope="module")
def servers(versions):
    started = {study: process.start(study, model.version) for study, model in versions.items()}
    yield started
    for server in started.values():
        server.stop()


def post(port: int, body: bytes | str, headers=None) -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", "/v1/predict", body, {"Content-Type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        connection.close()


@pytest.mark.parametrize("study", STUDIES)
def test_the_endpoint_answers_exactly_as_the_in_process_predictor(study, registry, versions, servers):
    model = versions[study]
    predictor = registry.load(model)
    bodies = predictor.traffic(40, seed=5)
    for body in bodies:
        status, answer, headers = post(servers[study].port, json.dumps(body))
        assert status == 200
        assert answer.pop("model_version") == model.version
        assert headers["x-model-version"] == str(model.version)
        assert float(headers["x-server-time-ms"]) > 0
        assert answer == json.loads(json.dumps(predictor.predict([predictor.parse(body)])[0]))


def test_recommendation_serving_has_no_skew_against_the_pipeline(registry, versions):
    """The served slates are the ones the pipeline evaluated (same models, same code path)."""
    from case_studies.recommendation import pipeline

    predictor = registry.load(versions["recommendation"])
    prep, trained, ranker = pipeline.assemble(versions["recommendation"].config, 0, None)
    config = versions["recommendation"].config
    _, final, _ = pipeline.rank_users(prep, trained, ranker, config, StageClock(), prep.eval_users, 10)
    users = prep.request_ids[:30].tolist()
    served = predictor.predict([predictor.parse({"user_id": u, "k": 10}) for u in users])
    assert [[i["item_id"] for i in a["items"]] for a in served] == final[:30].tolist()


def test_fraud_scores_match_the_pipeline_features_for_logged_payments(registry, versions):
    from case_studies.fraud import pipeline

    predictor = registry.load(versions["fraud"])
    system = pipeline.assemble(versions["fraud"].config, 0, None)
    rows = np.flatnonzero(system.log.day >= system.log.test_start)[:50]
    expected = system.deployments[0].probability(system.x[rows])
    bodies = [
        {"customer_id": int(system.log.customer[r]), "terminal_id": int(system.log.terminal[r]),
         "amount": float(system.log.amount[r]), "timestamp": float(system.log.time[r])}
        for r in rows
    ]  # fmt: skip
    served = [a["score"] for a in predictor.predict([predictor.parse(b) for b in bodies])]
    assert np.allclose(served, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ('{"terminal_id": 1, "amount": 5}', 422, "customer_id"),
        ('{"customer_id": "x", "terminal_id": 1, "amount": 5}', 422, "customer_id"),
        ('{"customer_id": 1, "terminal_id": 1, "amount": -5}', 422, "amount"),
        ('{"customer_id": true, "terminal_id": 1, "amount": 5}', 422, "customer_id"),
        ("[1, 2]", 422, "body"),
        ("not json", 400, "JSON"),
        ("{" + " " * 20_000 + "}", 413, "bytes"),
    ],
)
def test_bad_requests_get_a_4xx_that_names_the_problem_and_the_server_stays_up(servers, body, status, named):
    server = servers["fraud"]
    got, answer, _ = post(server.port, body)
    assert got == status
    assert named in answer["error"]
    assert server.get("/healthz")[0] == 200


def test_an_unknown_user_gets_the_popular_fallback_flagged(servers):
    status, answer, _ = post(servers["recommendation"].port, '{"user_id": "someone-new", "k": 5}')
    assert status == 200 and len(answer["items"]) == 5
    assert answer["fallback"].startswith("popular")
    status, known, _ = post(servers["recommendation"].port, '{"user_id": 3, "k": 5}')
    assert known["fallback"] is None and known["items"] != answer["items"]


def test_model_and_metrics_routes_report_the_version_and_count_requests(servers, versions):
    server = servers["search"]
    info = server.model()
    assert info["version"] == versions["search"].version and info["sha256"] == versions["search"].sha256
    post(server.port, '{"query": "red trainers"}')
    status, text = server.get("/metrics")
    assert status == 200
    assert 'mlsd_requests_total{route="/v1/predict",code="200"' in text
    assert "mlsd_predict_seconds_bucket" in text and 'le="+Inf"' in text


def test_the_registry_survives_a_restart_and_rollback_restores_the_previous_champion(tmp_path, db_url):
    url = db_url  # SQLite and PostgreSQL
    first = Registry.from_url(url, tmp_path / "artifacts")
    v1 = first.register("fraud", {}, 0).version
    v2 = first.register("fraud", {"model": "random_forest"}, 0).version
    first.promote("fraud", v1)
    first.promote("fraud", v2)
    again = Registry.from_url(url, tmp_path / "artifacts")  # a new process would see the same
    assert [v.version for v in again.versions("fraud")] == [v1, v2]
    assert again.aliases("fraud")[CHAMPION] == v2
    assert again.rollback("fraud") == v1
    assert again.aliases("fraud")[CHAMPION] == v1
    moves = [(e.action, e.from_version, e.to_version) for e in again.history("fraud")]
    assert moves == [("promote", None, v1), ("promote", v1, v2), ("rollback", v2, v1)]
    with pytest.raises(RegistryError, match="first champion"):
        again.rollback("fraud")
    model = again.get("fraud", v2)
    assert model.size_bytes == os.path.getsize(model.artifact)
    assert 0 < again.load(model).deployment.review_at < 1
    with open(model.artifact, "ab") as artifact:
        artifact.write(b"tampered")
    with pytest.raises(ArtifactError, match="sha256"):
        again.load(model)


def test_two_replicas_registering_at_once_get_two_versions_that_both_load(tmp_path, db_url):
    """Each replica reads the latest version and writes the next one's artifact: without taking
    turns both took the same number, and the second overwrote the first's artifact."""
    import threading

    replicas = [Registry.from_url(db_url, tmp_path / "artifacts") for _ in range(2)]
    rounds, together = 4, threading.Barrier(2, timeout=30)
    made: list[list] = [[], []]

    def register(index: int) -> None:
        for n in range(rounds):
            together.wait()
            made[index].append(replicas[index].add("fraud", {}, 0, {}, {"by": index, "n": n}, {}))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    versions = sorted(v.version for v in made[0] + made[1])
    assert versions == list(range(1, 2 * rounds + 1))
    for index, mine in enumerate(made):
        assert [replicas[1 - index].load(v) for v in mine] == [{"by": index, "n": n} for n in range(rounds)]
    replicas[0].promote("fraud", 1)
    movers = [
        threading.Thread(target=r.promote, args=("fraud", v)) for r, v in zip(replicas, (2, 3), strict=True)
    ]
    for thread in movers:
        thread.start()
    for thread in movers:
        thread.join(timeout=60)
    moves = [(e.from_version, e.to_version) for e in replicas[0].history("fraud")]
    assert moves[0] == (None, 1) and moves[1][0] == 1 and moves[2][0] == moves[1][1]  # a chain


def test_the_load_test_stops_at_its_request_cap_and_at_its_time_cap(servers, registry, versions):
    server = servers["fraud"]
    bodies = registry.load(versions["fraud"]).traffic(100, seed=1)
    counted = loadtest.run_level(server.port, bodies, concurrency=4, max_requests=60, max_seconds=30)
    assert counted.requests == 60 and counted.stopped_by == "requests" and counted.errors == 0
    timed = loadtest.run_level(server.port, bodies, concurrency=2, max_requests=10**7, max_seconds=0.5)
    assert timed.stopped_by == "time" and timed.seconds < 1.5
    assert 0.8 < timed.littles_law_concurrency < 2.2  # L = λW holds for a closed loop of 2 clients
    # A level whose deadline passes before its workers run (a busy machine) still measures: each
    # worker sends one request. A class's 30 load tests once charted a level of none, as NaN.
    late = loadtest.run_level(server.port, bodies, concurrency=8, max_requests=10**7, max_seconds=0.0)
    assert late.requests == 8 and late.p50_ms > 0


def test_a_load_test_run_apart_measures_in_a_child_process_and_reports_progress(servers, registry, versions):
    # The Production page runs its load generator in a child process, so 64 client threads do not
    # hold the app's interpreter lock while other sessions repaint.
    bodies = registry.load(versions["fraud"]).traffic(50, seed=2)
    seen = []
    port = servers["fraud"].port
    levels = loadtest.run_apart(port, bodies, (1, 2), 40, 10, progress=lambda *p: seen.append(p))
    assert [level.concurrency for level in levels] == [1, 2]
    assert all(level.requests == 40 and level.errors == 0 for level in levels)
    assert len(seen) >= 2 and seen[-1][0] == 1.0  # progress arrived as it happened, up to done


def test_a_load_test_run_apart_reports_a_dead_port_as_an_error_not_a_hang():
    levels = loadtest.run_apart(1, [{"x": 1}], (1,), 5, 2)  # port 1: nothing listens
    assert levels[0].errors == levels[0].requests > 0


def test_batch_beats_online_per_row_by_more_than_ten_times_for_fraud(servers, registry, versions):
    predictor = registry.load(versions["fraud"])
    job = batch.run_batch(predictor)
    online = loadtest.run_level(servers["fraud"].port, predictor.traffic(200, 2), 1, 300, 10)
    assert job.rows > 1000
    assert job.rows_per_s > 10 * online.rps


def test_recommendation_batch_beats_online_and_covers_known_users_only(registry, versions):
    predictor = registry.load(versions["recommendation"])
    shares = []
    job = batch.run_batch(predictor, progress=shares.append)
    assert len(shares) == -(-job.rows // batch.CHUNK) and shares == sorted(shares) and shares[-1] == 1.0
    online_ms, _ = batch.online_ms(predictor, predictor.traffic(100, seed=3), repeats=3)
    assert job.rows_per_s > 1.5 * 1000 / online_ms  # vectorised over users, without HTTP
    replay = batch.replay(predictor, job, predictor.traffic(2000, seed=4))
    assert 0.85 < replay.hit_rate < 1.0 and set(replay.fallbacks) == {"new users"}


def test_capacity_cores_grow_linearly_with_daily_users():
    measured = capacity.Measured(
        rps_per_core=100, source="test", model_bytes=10**7, feature_bytes_fixed=0,
        feature_bytes_per_user=100, batch_ms_per_row=0.1, batch_rows=10**6, hybrid_share=0.5,
    )  # fmt: skip
    cores = {}
    for dau in (10**6, 2 * 10**6, 4 * 10**6):
        lines = {line.label: line for line in capacity.plan(capacity.Inputs(dau=dau), measured)}
        cores[dau] = lines["Cores"].value
        assert f"{dau:,} DAU" in lines["Average QPS"].formula
    assert cores[2 * 10**6] / cores[10**6] == pytest.approx(2, rel=0.05)
    assert cores[4 * 10**6] / cores[10**6] == pytest.approx(4, rel=0.05)


def test_a_fraud_plan_for_20m_users_keeps_per_user_features_in_one_shared_store(registry, versions):
    """A replica holds the model and the terminals' risk, not every card's history: the plan once
    said 114,625 MB of memory per replica at 20M daily users (the whole log's history per card, held
    in every replica)."""
    predictor = registry.load(versions["fraud"])
    sizes = predictor.sizes()
    assert 100 < sizes["features_per_user"] < 10_000  # a card's last 30 days of payments, in bytes
    measured = capacity.Measured(
        rps_per_core=1000, source="test", model_bytes=sizes["model"],
        feature_bytes_fixed=sizes["features_fixed"], feature_bytes_per_user=sizes["features_per_user"],
        batch_ms_per_row=0.1, batch_rows=10**6, hybrid_share=None,
    )  # fmt: skip
    lines = {line.label: line for line in capacity.plan(capacity.Inputs(dau=20_000_000), measured)}
    assert lines["Memory per replica"].value < 1000  # MB: the model and shared tables
    assert lines["Feature store"].value == pytest.approx(sizes["features_per_user"] * 20_000_000 / 1e9)
    assert "sharded" in lines["Feature store"].formula


def test_serving_cost_counts_whole_replicas_from_cpu_time_with_a_floor_and_grows_with_the_audience():
    from engine.timing import Latency

    def latency(cpu_ms: float, band: float = 0.0) -> Latency:
        return Latency(1.0, 2.0, 0.1, 0.2, cpu_ms, band, {}, 100)

    small = capacity.serving_cost(latency(2.0), dau=10**6, memory_bytes=1e8)
    assert small.replicas == capacity.MIN_REPLICAS  # a small audience pays the floor
    large = capacity.serving_cost(latency(2.0), dau=10**8, memory_bytes=1e8)
    # 10^8 users x 10 requests / 86,400 s x 3 at peak x 2 ms / 60 % = 115.7 cores: 58 replicas of 2
    assert large.replicas == 58 and large.usd > 20 * small.usd
    slower = capacity.serving_cost(latency(4.0), dau=10**8, memory_bytes=1e8)
    assert slower.replicas == pytest.approx(2 * large.replicas, abs=1)
    noisy = capacity.serving_cost(latency(2.0, band=0.2), dau=10**8, memory_bytes=1e8)
    assert noisy.band == pytest.approx(0.1 * large.usd, rel=0.1)  # a 10 % CPU band moves about ±10 %


def test_the_study_pages_cost_is_the_capacity_models_for_the_worlds_audience():
    from case_studies.recommendation import pipeline

    result = engine.run("recommendation", {}, seed=0)
    replicas = result.metrics["serving_replicas"]
    assert replicas >= capacity.MIN_REPLICAS and float(replicas).is_integer()
    per_replica = result.metrics["cost_usd_month"] / replicas
    assert capacity.CORES_PER_REPLICA * 0.05 * capacity.HOURS_PER_MONTH <= per_replica < 100
    assert result.metrics["users"] * pipeline.AUDIENCE_PER_USER >= 10**6


def test_a_latency_change_inside_its_band_reads_approximately_equal_and_outside_it_does_not():
    spec = engine.get_study("recommendation").metric("latency_p50_ms")
    assert spec.format_delta(1.05, 1.00, noise=0.15 + 0.15) == "≈ no change"
    assert spec.format_delta(2.40, 1.00, noise=0.15 + 0.36) == "+1.40 ms"


@pytest.mark.parametrize("study", STUDIES)
def test_two_runs_of_the_same_design_differ_in_latency_only_within_noise(study):
    spec_key = "latency_p50_ms"
    spec = engine.get_study(study).metric(spec_key)
    first = engine.run(study, {}, seed=0)
    second = engine.run(study, {}, seed=0)
    noise = first.noise(spec_key) + second.noise(spec_key)
    assert noise > 0
    assert spec.format_delta(second.metrics[spec_key], first.metrics[spec_key], noise) == "≈ no change"


def test_a_server_stops_when_the_process_that_started_it_dies(registry, versions, tmp_path):
    """kill -9 of the app: its endpoint notices its parent is gone and exits."""
    script = (
        "import sys, time; from engine.serving import process; "
        f"s = process.start('fraud', {versions['fraud'].version}); "
        "print(s.process.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=process.ROOT
    )
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.2)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child this test never reaps)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# -- a class on one replica ------------------------------------------------------------------------
def test_sessions_serving_the_same_version_share_one_process_until_the_last_lets_go(registry, versions):
    version = versions["fraud"].version
    first = process.acquire("fraud", version, holder="alice")
    again = process.acquire("fraud", version, holder="bob")
    assert again is first and first.process.pid == again.process.pid
    assert dict((s.process.pid, n) for s, n in process.shared())[first.process.pid] == 2
    assert 50 < first.rss_mb() < 2000  # measured, shown beside the cap
    process.release(first, "alice")
    assert first.alive  # bob still holds it
    process.release(again, "bob")
    assert not first.alive and not process.shared()


def test_past_the_cap_a_new_endpoint_is_refused_with_who_holds_what_and_then_recovers(registry, versions):
    held = process.acquire("fraud", versions["fraud"].version, holder="alice", cap=1)
    try:
        with pytest.raises(process.EndpointCapError, match=r"its 1 endpoints.*fraud v\d+ \(1 session, up"):
            process.acquire("search", versions["search"].version, holder="bob", cap=1)
        # The same version is shared, cap or not.
        assert process.acquire("fraud", versions["fraud"].version, holder="bob", cap=1) is held
    finally:
        process.release(held, "alice")
        process.release(held, "bob")
    recovered = process.acquire("search", versions["search"].version, holder="bob", cap=1)
    assert recovered.alive
    process.release(recovered, "bob")
