"""Design "people you may know": the study's declaration on the engine.

A friend-suggestion system on a seeded social graph that grows by triadic closure and homophily:
friends-of-friends, attribute and personalised-PageRank candidates, link-prediction heuristics or a
learned ranker, post-processing, served online or from a daily batch job; on the Production page,
served on a real endpoint, released by a canary judged on the world's acceptance of the suggestions,
and monitored through a campus wave of new users or a change in how people meet."""

from pathlib import Path

from case_studies.pymk.choices import HEURISTICS, LEARNED, SOURCES
from case_studies.pymk.upload import FORMAT, load_friendships
from engine import Knob, MetricSpec, Probe, Stage, Study, lazy, registry_stage
from engine.release.spec import Placement, Release
from engine.serving import Serving

PER_REQUEST = "Runs on every request; the figure is the measured time per request, median of 5 timed chunks."
RANKERS = HEURISTICS + LEARNED

STAGES = (
    Stage("User", "User", "Opens the app and sees a row of people they may know.", (0, 0), timed=False),
    Stage(
        "API_Gateway",
        "API gateway",
        "Parses and validates the JSON request and maps the external user id to the graph's index. "
        + PER_REQUEST,
        (1, 0),
    ),
    Stage(
        "Feature_Store",
        "Feature store",
        "Serves the user's friend list (the adjacency), pending requests and attributes; in batch "
        "mode, also the suggestions last night's job stored for them. " + PER_REQUEST,
        (2, 0),
    ),
    Stage(
        "Candidate_Generation",
        "Candidate generation",
        "Friends of friends counted by mutual friends and capped per user (high-degree friends expand "
        "only a sample of their friends), people sharing a school or company for users with few "
        "friends, and optionally a short personalised PageRank walk. " + PER_REQUEST,
        (3, 0),
    ),
    Stage(
        "Ranking",
        "Ranking",
        "Scores each candidate: a link-prediction heuristic (common neighbours, Jaccard, Adamic–Adar, "
        "resource allocation, preferential attachment, as networkx defines them) or a learned ranker "
        "over all of them plus shared attributes. " + PER_REQUEST,
        (3, 1),
    ),
    Stage(
        "Post_Processing",
        "Post-processing",
        "Drops people who are already friends or have a request pending with the user, shows at most "
        "one account above the high-degree cap and caps how many suggestions come from one community. "
        + PER_REQUEST,
        (2, 1),
    ),
    Stage(
        "Graph_Snapshot",
        "Graph snapshot",
        "Builds the live friendship graph (everything before the cut-off) and the batch snapshot one "
        "period older, from the simulated world or your upload. Offline: time per run.",
        (1, -1),
        online=False,
    ),
    Stage(
        "Training",
        "Ranker training",
        "Fits the learned ranker on the previous period: candidates and features from the snapshot, "
        "labelled by the friendships formed since. Offline: time per run.",
        (2, -1),
        online=False,
    ),
    Stage(
        "Batch_Job",
        "Daily batch job",
        "Precomputes every user's suggestions from the snapshot (in online mode: what that job would "
        "take). The figure is the measured time per user times the number of users.",
        (3, -1),
        online=False,
    ),
    registry_stage((4, -1)),
)

FLOW = (
    ("User", "API_Gateway"),
    ("API_Gateway", "Feature_Store"),
    ("Feature_Store", "Candidate_Generation"),
    ("Candidate_Generation", "Ranking"),
    ("Ranking", "Post_Processing"),
    ("Post_Processing", "User"),
    ("Graph_Snapshot", "Feature_Store"),
    ("Graph_Snapshot", "Training"),
    ("Graph_Snapshot", "Batch_Job"),
    ("Training", "Model_Registry"),
    ("Model_Registry", "Ranking"),
    ("Batch_Job", "Feature_Store"),
)


def _cap(knob_id: str, label: str, default: int, trades: str, stages: tuple[str, ...], unit: str) -> Knob:
    return Knob(knob_id, label, default, trades, stages, low=20, high=1000, step=20, unit=unit)


def _world(knob_id: str, label: str, default: float, trades: str, low=0.0, high=1.0, step=0.1) -> Knob:
    """A slider of the simulated world: it reshapes the graph, so everything downstream reruns."""
    return Knob(
        knob_id, label, default, trades, ("Graph_Snapshot",), low=low, high=high, step=step, world=True
    )


KNOBS = (
    Knob(
        "sources",
        "Candidate sources",
        "fof+attributes",
        "Friends of friends alone misses people a new user has no path to; attribute candidates reach "
        "them, and a personalised PageRank walk reaches further, at the cost of more candidates to rank.",
        ("Candidate_Generation", "Ranking", "Batch_Job"),
        options=SOURCES,
    ),
    _cap(
        "fof_cap",
        "Friends-of-friends cap per user",
        100,
        "Keeping more friends of friends raises candidate recall, and the ranker must score every one, "
        "so latency and the batch job grow with it.",
        ("Candidate_Generation", "Ranking", "Batch_Job"),
        "candidates",
    ),
    _cap(
        "hub_cap",
        "High-degree cap",
        200,
        "Friends with more friends than this expand only a sample of them, which bounds the fan-out "
        "(candidates per user, p99) but loses some paths; post-processing shows at most one such account.",
        ("Candidate_Generation", "Post_Processing", "Batch_Job"),
        "friends",
    ),
    Knob(
        "ranker",
        "Ranker",
        "gbdt",
        "A single heuristic needs no training; a learned ranker combines them with shared attributes "
        "for more accurate suggestions, at the cost of a training job and scoring time.",
        ("Ranking", "Training", "Batch_Job"),
        options=RANKERS,
    ),
    Knob(
        "features",
        "Ranker features",
        "graph+attributes",
        "Attribute matches (school, company, city, age band) add the homophily signal the graph "
        "alone misses, and are personal data the ranker then depends on.",
        ("Ranking", "Training"),
        options=("graph", "graph+attributes"),
        idle_when=lambda c: (
            None if c["ranker"] in ("logistic", "gbdt") else "A heuristic ranker uses one score."
        ),
    ),
    Knob(
        "serving",
        "Batch or online",
        "online",
        "A daily batch job makes each request a cheap lookup, but its suggestions are a day stale: they "
        "miss the friendships made since the snapshot and what they open up.",
        ("Feature_Store", "Candidate_Generation", "Ranking", "Batch_Job"),
        options=("online", "batch"),
    ),
    Knob(
        "spread",
        "Most suggestions from one community",
        10,
        "A lower cap spreads the row across communities, which helps discovery beyond one circle and "
        "costs the suggestions the ranker liked best.",
        ("Post_Processing",),
        options=(3, 5, 7, 10),
    ),
    Knob(
        "scale",
        "Graph scale",
        1,
        "Multiplies the users (1 = 5,000): more users mean longer friend lists to walk, a bigger "
        "adjacency to hold and a longer batch job.",
        ("Graph_Snapshot", "Feature_Store", "Batch_Job"),
        options=(0.5, 1, 2, 5, 10),
        unit="x",
        world=True,
    ),
    _world(
        "triadic",
        "World: triadic-closure strength",
        1.0,
        "How much each mutual friend raises the chance of a friendship; at 0 the graph heuristics lose "
        "their signal.",
        high=3.0,
    ),
    _world(
        "homophily",
        "World: homophily strength",
        1.5,
        "How much a shared school, company, city or age band raises the chance of a friendship: what "
        "attribute candidates and features can exploit.",
        high=3.0,
    ),
    _world(
        "new_users",
        "World: share of new users",
        0.1,
        "Users who joined just before the cut with few friends, or at it with none: cold start, where "
        "friends of friends has little to walk.",
        low=0.02,
        high=0.5,
        step=0.02,
    ),
)


def _quality(key: str, label: str, text: str, fmt: str = ".3f") -> MetricSpec:
    return MetricSpec(key, label, "quality", fmt, text)


def _system(key: str, label: str, fmt: str, text: str, unit: str, measured: bool = True) -> MetricSpec:
    return MetricSpec(
        key, label, "system", fmt, text, higher_is_better=False, unit=unit, deterministic=not measured
    )


METRICS = (
    _quality(
        "recall@10",
        "Recall@10",
        "Share of each user's friendships formed after the cut that made their 10 suggestions.",
    ),
    _quality(
        "precision@10", "Precision@10", "Share of the 10 suggestions that became friendships after the cut."
    ),
    _quality(
        "ndcg@10",
        "nDCG@10",
        "Position-discounted quality of the 10 suggestions against the new friendships (1 = ideal).",
    ),
    _quality(
        "candidate_recall",
        "Candidate recall",
        "Share of the new friendships inside the candidate pool: the ceiling for ranking.",
    ),
    MetricSpec(
        "acceptance_rate",
        "Simulated acceptance",
        "business",
        ".1%",
        "Mean chance a shown suggestion is accepted, from the world's true friendship-formation rule "
        "(mutual friends, shared attributes). Not available for uploaded graphs.",
    ),
    _quality(
        "new_user_recall@10",
        "New-user recall@10",
        "Recall@10 of cold-start users: at most 3 friends before the cut (a separate sample of them).",
    ),
    _system(
        "candidates_per_user",
        "Candidates per user",
        ",.0f",
        "Mean candidates ranked per request.",
        "",
        measured=False,
    ),
    _system(
        "candidates_p99",
        "Candidates per user (p99)",
        ",.0f",
        "99th percentile of candidates per request: the tail the ranker must absorb.",
        "",
        measured=False,
    ),
    _system(
        "latency_ms",
        "Latency per request",
        ".2f",
        "Time per request across the online stages (in batch mode: the gateway, the lookup and "
        "post-processing): warm, median of 5 timed chunks.",
        "ms",
    ),
    _system(
        "batch_job_s",
        "Batch job time",
        ",.1f",
        "Precomputing every user's suggestions: measured time per user times users.",
        "s",
    ),
    _system(
        "adjacency_mb",
        "Adjacency memory",
        ".2f",
        "The live friend lists the feature store holds (CSR arrays).",
        "MB",
        measured=False,
    ),
    MetricSpec("users", "Users", "data", ",.0f", "People in the network."),
    MetricSpec("friendships", "Friendships", "data", ",.0f", "Friendships formed before the cut-off."),
    MetricSpec(
        "eval_users",
        "Evaluated users",
        "data",
        ",.0f",
        "Users with new friendships after the cut who score the offline metrics.",
    ),
    MetricSpec(
        "new_eval_users",
        "Evaluated new users",
        "data",
        ",.0f",
        "Cold-start users (at most 3 friends before the cut) scored for new-user recall: those in the "
        "random sample plus up to 200 more.",
    ),
)

STUDY = Study(
    id="pymk",
    title="People you may know",
    question="Design people you may know",
    summary="Friend suggestions on a growing social graph: friends-of-friends and attribute candidates, "
    "link-prediction heuristics or a learned ranker, served online or from a daily batch job.",
    stages=STAGES,
    flow=FLOW,
    knobs=KNOBS,
    metrics=METRICS,
    runner=lazy("case_studies.pymk.pipeline:run"),
    load_data=load_friendships,
    data_format=FORMAT,
    headline=(
        "recall@10",
        "candidate_recall",
        "acceptance_rate",
        "new_user_recall@10",
        "latency_ms",
        "batch_job_s",
    ),
    quality_metric="recall@10",
    cost_metric="latency_ms",
    content_dir=Path(__file__).parent / "content",
    order=4,
    probe=Probe("Pick a user", "a user id, e.g. 42", "42", lazy("case_studies.pymk.pipeline:probe")),
    serving=Serving(
        build=lazy("case_studies.pymk.serving:build"),
        example={"user_id": 42, "k": 10},
        request_doc="user_id: a user id (integer or text); k: suggestions, 1–50 (default 10)",
        population_label="every user's row",
        hybrid_online_stages=("API_Gateway", "Feature_Store", "Ranking", "Post_Processing"),
        release=Release(
            metric_label="acceptance rate",
            metric_fmt=".2%",
            higher_is_better=True,
            metric_help="Accepted suggestions per slot of the row (an empty slot is never accepted), "
            "from the world's true friendship-formation rule on today's graph.",
            pools=lazy("case_studies.pymk.release:pools"),
            agreement=lazy("case_studies.pymk.release:agreement"),
            monitoring="case_studies.pymk.drift",
            placement=Placement("Ranking", (4, 0), "Post_Processing", "Training", (1, 1)),
            default_rpm=1000,
        ),
    ),
)
