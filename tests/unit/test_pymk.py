"""The people-you-may-know study: the published heuristic ordering, its trade-off directions, the
batch staleness and cold start it teaches, and bring-your-own edge lists."""

import math
import time

import numpy as np
import pytest

import engine
from case_studies.pymk.world import TARGET, generate_world
from engine.data import DataError

STUDY = engine.get_study("pymk")
HEURISTICS = ("preferential_attachment", "common_neighbours", "jaccard", "adamic_adar", "resource_allocation")


def run(**config):
    return engine.run(STUDY, config, seed=0)


def metrics(**config):
    return run(**config).metrics


@pytest.fixture(scope="module")
def by_ranker():
    return {name: run(ranker=name) for name in ("random", *HEURISTICS, "gbdt")}


def better_by(runs, first: str, second: str, metric: str = "recall@10") -> tuple[float, float]:
    """`first`'s metric minus `second`'s, and the 95 % band of that difference over the same users."""
    a, b = runs[first], runs[second]
    return a.metrics[metric] - b.metrics[metric], a.noise_against(b, metric)


def test_degree_predicts_new_friendships_in_the_world():
    """Sociable people meet more and are met more, so the friends they have predict the friends they
    make next, as on real networks."""
    world = generate_world(1, 1.0, 1.5, 0.1, seed=0)
    before, after = world.edges[world.period != TARGET], world.edges[world.period == TARGET]
    degree = np.bincount(before.ravel(), minlength=world.n_users)
    made = np.bincount(after.ravel(), minlength=world.n_users)
    settled = ~world.is_new & ~world.rule.is_hub
    degree, made = degree[settled], made[settled]
    low, high = np.quantile(degree, [0.2, 0.8])
    # Measured 16.8-18.7x at seeds 0-2; meeting more without being met more gave 4.4x.
    assert made[degree >= high].mean() > 8 * made[degree <= low].mean()


def test_the_pool_heuristics_equal_networkx_link_prediction():
    """The ranker computes each pool's heuristics from the sparse adjacency in one go; they must be
    exactly networkx's, on the whole graph, including through the high-degree accounts whose
    friend lists the candidate walk samples."""
    import networkx as nx

    from case_studies.pymk import candidates as cg
    from case_studies.pymk import ranking

    world = generate_world(1, 1.0, 1.5, 0.1, seed=0)
    graph = nx.Graph(world.edges[world.period != TARGET].tolist())
    graph.add_nodes_from(range(world.n_users))
    view = cg.graph_view(graph, None, hub_cap=20, seed=0)
    by_name = {
        "jaccard": nx.jaccard_coefficient,
        "adamic_adar": nx.adamic_adar_index,
        "resource_allocation": nx.resource_allocation_index,
        "preferential_attachment": nx.preferential_attachment,
    }
    users = [int(u) for u in np.random.default_rng(0).choice(world.n_users, 30, replace=False)]
    hub = max(graph.degree, key=lambda pair: pair[1])[0]
    checked = 0
    for user in [*users, hub]:
        ids = cg.generate(view, user, "fof+attributes", 200, None).ids
        ids = np.concatenate([ids, [v for v in (user + 1, user + 2) if v < world.n_users]])  # no path
        scores = ranking.link_scores(view, user, ids.astype(int))
        pairs = [(user, int(v)) for v in ids]
        for name, predictor in by_name.items():
            expected = [p for _, _, p in predictor(graph, pairs)]
            np.testing.assert_allclose(scores[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)
        common = [len(list(nx.common_neighbors(graph, u, v))) for u, v in pairs]
        np.testing.assert_array_equal(scores["common_neighbours"], common)
        checked += len(pairs)
    assert checked > 1000


def test_heuristics_follow_the_published_ordering(by_ranker):
    # Liben-Nowell & Kleinberg (2007): Adamic–Adar >= common neighbours > preferential attachment >> random.
    recall = {name: result.metrics["recall@10"] for name, result in by_ranker.items()}
    assert recall["adamic_adar"] >= recall["common_neighbours"]  # by 0.013-0.022 at seeds 0-2
    # Each gap beyond its paired band over the same users (at seeds 0-2: CN - PA 0.065-0.079 with
    # bands 0.021-0.024, PA - random 0.034-0.068 with bands 0.020-0.022).
    for better, worse in (
        ("common_neighbours", "preferential_attachment"),
        ("preferential_attachment", "random"),
    ):
        gap, band = better_by(by_ranker, better, worse)
        assert gap > band, (better, worse, gap, band)
    assert recall["preferential_attachment"] > 1.5 * recall["random"]  # 1.6-2.4x at seeds 0-2 (was 1.3x)


def test_the_learned_ranker_beats_the_best_heuristic(by_ranker):
    best = max(HEURISTICS, key=lambda name: by_ranker[name].metrics["recall@10"])
    gap, band = better_by(by_ranker, "gbdt", best)
    assert gap > band  # 0.024-0.045 against bands of 0.015-0.021 at seeds 0-2
    gap, band = better_by(by_ranker, "gbdt", "adamic_adar", "friendships_per_user")
    assert gap > band  # online too: more friendships made per showing of the row


def test_a_larger_friends_of_friends_cap_buys_candidate_recall_with_latency():
    small, large = run(fof_cap=20), run(fof_cap=500)  # the default learned ranker scores every one
    assert large.metrics["candidate_recall"] - small.metrics["candidate_recall"] > 0.2
    assert large.metrics["candidates_per_user"] > 3 * small.metrics["candidates_per_user"]
    # What that costs in time (ranking 3.8-4.4x slower, latency 2.7-2.9x at seeds 0-1) is measured by
    # bench/, not here: a busy machine can stretch either run. The work is counted above.


def test_the_high_degree_cap_trims_the_candidate_fan_out():
    wide = {"fof_cap": 1000, "ranker": "adamic_adar"}  # a cap the fan-out reaches; no training needed
    capped, uncapped = run(hub_cap=20, **wide), run(hub_cap=1000, **wide)
    # The very sociable still reach the 1,000 cap through many friends (p99 676-1,000 at seeds 0-2),
    # but the typical pool shrinks to a third (177-204 candidates against 575-661).
    assert capped.metrics["candidates_per_user"] < 0.5 * uncapped.metrics["candidates_per_user"]
    assert capped.metrics["candidates_p99"] <= uncapped.metrics["candidates_p99"]
    assert capped.stage_ms()["Candidate_Generation"] < uncapped.stage_ms()["Candidate_Generation"]


def test_a_daily_batch_job_is_cheap_per_request_and_stale():
    online, batch = metrics(serving="online"), metrics(serving="batch")
    assert batch["recall@10"] < online["recall@10"]
    assert batch["acceptance_rate"] < online["acceptance_rate"]
    online_path, batch_path = run(serving="online").stage_ms(), run(serving="batch").stage_ms()
    # A request in batch mode is a lookup: candidate generation and ranking ran last night.
    assert {"Candidate_Generation", "Ranking"} <= set(online_path)
    assert not {"Candidate_Generation", "Ranking"} & set(batch_path)


def test_cold_start_users_do_better_with_attribute_candidates():
    walk_only, with_attributes = metrics(sources="fof"), metrics(sources="fof+attributes")
    assert with_attributes["new_user_recall@10"] > walk_only["new_user_recall@10"] + 0.02
    assert with_attributes["new_eval_users"] >= 20


def test_quality_comes_with_noise_bands_over_the_same_users():
    result = run()
    uncertainty = result.uncertainty
    assert uncertainty.unit == f"{int(result.metrics['eval_users']):,} evaluation users"
    for key in ("recall@10", "ndcg@10", "candidate_recall", "acceptance_rate"):
        low, high = uncertainty.intervals[key]
        assert low <= result.metrics[key] <= high and result.noise(key) > 0
    assert result.noise_against(run(ranker="adamic_adar"), "recall@10") < 2 * result.noise("recall@10")


def test_people_with_a_request_pending_are_never_suggested_to_each_other():
    from case_studies.pymk import pipeline as pl
    from case_studies.pymk.network import not_to_suggest

    config = STUDY.defaults()
    prep = pl.assemble(config, 0, None).prep
    pairs = [(u, v) for u, others in prep.pending.items() for v in others]
    assert len(pairs) > 2000  # both directions of about 1,300 requests at seed 0
    for user, other in pairs[:400]:
        assert other not in prep.live.adj[user] and other not in prep.targets.get(user, ())
        strangers = [v for v in range(200) if v != user and v not in not_to_suggest(prep, user)]
        ranked = np.array([other, *strangers])
        assert other not in pl.post_process(prep, ranked, not_to_suggest(prep, user), config).tolist()
        kept = pl.post_process(prep, ranked, prep.live.adj[user], config)  # friends alone: it would show
        assert kept[0] == other or prep.live.degree(other) > config["hub_cap"]
    user = next(u for u in prep.eval_users.tolist() if u in prep.pending)
    sections = dict(STUDY.implementation().probe(config, 0, None, str(user)))
    heading = next(h for h in sections if h.startswith("Suggestions after ranking"))
    assert "a request is pending with" in heading


def test_moving_a_post_processing_knob_reuses_the_trained_system():
    run()  # warm
    start = time.perf_counter()
    spread = run(spread=5)
    assert time.perf_counter() - start < 1.0
    assert spread.metrics["candidate_recall"] == metrics()["candidate_recall"]  # same pools


def test_the_probe_shows_the_neighbourhood_candidates_by_source_and_the_final_list():
    sections = STUDY.implementation().probe(STUDY.defaults(), 0, None, "42")
    assert [heading.split(":")[0] for heading, _ in sections][:3] == ["User", "Neighbourhood", "Candidates"]
    ego, candidates, final = sections[1][1], sections[2][1], sections[3][1]
    nodes = ego["series"][0]["data"]
    roles = [node["category"] for node in nodes]
    assert roles.count(0) == 1 and roles.count(2) + roles.count(3) == len(final)  # the user, the row
    assert {node["name"] for node in nodes if node["category"] >= 2} == {str(v) for v in final.candidate}
    assert {"candidate", "source", "common_neighbours", "adamic_adar"} <= set(candidates.columns)
    assert 0 < len(final) <= 10 and "became friends" in final.columns
    missing = STUDY.implementation().probe(STUDY.defaults(), 0, None, "nobody")
    assert "No user `nobody`" in missing[0][1]


# --- uploads ------------------------------------------------------------------------------------


def edge_csv(timestamps=True, extra=()):
    world = generate_world(0.1, 1.0, 1.5, 0.1, seed=3)
    header = "source,target,timestamp" if timestamps else "source,target"
    rows = [header]
    for (u, v), period in zip(world.edges.tolist(), world.period.tolist(), strict=True):
        rows.append(f"p{u},p{v},{1_700_000_000 + 86_400 * period}" if timestamps else f"p{u},p{v}")
    return ("\n".join([*rows, *extra]) + "\n").encode(), len(world.edges)


def test_an_edge_list_with_timestamps_is_split_by_time_and_runs():
    raw, n_edges = edge_csv()
    data = STUDY.upload.load(raw)
    assert data.summary.startswith(f"{n_edges:,} friendships between")
    assert "split by time" in data.summary
    result = engine.run(STUDY, {}, seed=0, data=data)
    assert set(result.metrics) == {m.key for m in STUDY.metrics}
    simulated = ("friendships_per_user", "requests_per_user", "acceptance_rate")
    assert all(math.isnan(result.metrics[k]) for k in simulated)  # no formation rule for a real graph
    finite = {k: v for k, v in result.metrics.items() if k not in simulated}
    assert all(math.isfinite(v) for v in finite.values())
    assert 0 < result.metrics["recall@10"] <= 1


def test_without_timestamps_a_seeded_tenth_is_held_out_and_said_so():
    raw, _ = edge_csv(timestamps=False)
    first, again = STUDY.upload.load(raw), STUDY.upload.load(raw)
    assert "no timestamps, so a seeded 10 % of friendships is held out" in first.summary
    assert np.array_equal(first.period, again.period)
    assert abs((first.period == 2).mean() - 0.1) < 0.01


def test_self_loops_and_repeated_pairs_are_counted_and_dropped():
    loops_and_repeats = ("x3,x3,1", "x4,x4,1", "x1,x2,1", "x2,x1,2", "x1,x2,3")
    raw, n_edges = edge_csv(extra=loops_and_repeats)
    data = STUDY.upload.load(raw)
    assert "dropped 2 self-loops and 2 repeated pairs" in data.summary
    assert data.summary.startswith(f"{n_edges + 1:,} friendships")
    assert data.edges.shape[0] == n_edges + 1
    assert not (data.edges[:, 0] == data.edges[:, 1]).any()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"from,to\na,b\n", "Missing column(s) source, target."),
        (b"source,target\na,\n", "line 2, column target: value is empty"),
        (
            b"source,target,timestamp\na,b,1\nb,c,soon\n",
            "line 3, column timestamp: 'soon' is not a date or Unix time",
        ),
        (b"source,target\na,b\nb,c\n", "Too little data to split and evaluate: 2 distinct friendships"),
    ],
)
def test_bad_edge_lists_get_a_message_naming_the_line(raw, message):
    with pytest.raises(DataError) as err:
        STUDY.upload.load(raw)
    assert message in str(err.value)


def test_showing_fewer_suggestions_can_raise_the_rate_but_never_the_friendships_made():
    """The primary online metric counts friendships per user: dropping suggestions from a row can only
    lower it, while the rate per suggestion shown (the old headline) rose when rows were cut."""
    from case_studies.pymk import pipeline as pl
    from case_studies.pymk.evaluation import funnel

    config = STUDY.defaults()
    system = pl.assemble(config, 0, None)
    scored = pl.SCORED.get(config, 0, None, lambda knobs: pl._scoring(system, knobs, 0))
    full = pl._slates(system, config, scored)
    for keep in (1, 3, 5, 9):
        cut = funnel(system.prep, [row[:keep] for row in full])
        whole = funnel(system.prep, full)
        assert (cut["friendships_per_user"] <= whole["friendships_per_user"] + 1e-12).all()
        assert cut["friendships_per_user"].mean() < whole["friendships_per_user"].mean()
    shortest = funnel(system.prep, [row[:1] for row in full])
    assert shortest["acceptance_rate"].mean() > funnel(system.prep, full)["acceptance_rate"].mean()
