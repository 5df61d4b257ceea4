"""Design "people you may know": the study's declaration on the engine.

A friend-suggestion system on a seeded social graph that grows by triadic closure and homophily:
friends-of-friends, attribute and personalised-PageRank candidates, link-prediction heuristics or a
learned ranker, post-processing, served online or from a daily batch job; on the Production page,
served on a real endpoint, released by a canary judged on the world's acceptance of the suggestions,
and monitored through a campus wave of new users or a change in how people meet."""

from pathlib import Path

from case_studies.pymk.choices import HEURISTICS, LEARNED, SOURCES
from case_studies.pymk.upload import FORMAT, load_friendships
from engine import (
    Drift,
    Knob,
    Lesson,
    MetricSpec,
    Placement,
    Probe,
    Release,
    Serving,
    Stage,
    Study,
    System,
    Upload,
    latency_metrics,
    registry_stage,
)
from engine.monitoring.period import Scenario

PER_REQUEST = "Runs on every request; the figure is its median time per request, each request served alone."
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
        "Friends with more friends than this expand only a sample of them when friends of friends are "
        "collected: it bounds the walk's work through a famous friend, and loses some paths. (The pool "
        "itself, and so its p99, is bounded by the friends-of-friends cap.)",
        ("Candidate_Generation", "Batch_Job"),
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
        "famous_per_row",
        "Famous accounts per row",
        1,
        "Post-processing shows at most this many accounts with more than 200 friends: people send "
        "them requests readily, and they accept few.",
        ("Post_Processing",),
        options=(0, 1, 2, 10),
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
        "How much each mutual friend raises the chance that a meeting becomes a friendship. At 0 the "
        "graph heuristics keep their recall: people still meet through friends, so the graph predicts "
        "who meets.",
        high=3.0,
    ),
    _world(
        "homophily",
        "World: homophily strength",
        1.5,
        "How much a shared school, company, city or age band raises the chance of a friendship. Even at 0 "
        "attribute candidates still find new users' friends: a quarter of meetings happen in shared "
        "circles.",
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
        "friendships_per_user",
        "Friendships per user",
        "business",
        ".3f",
        "What the row is for: the expected friendships one showing of the row makes, in the world's "
        "funnel (a suggestion is seen less often lower in the row, a request is sent with the viewer's "
        "interest, accepted with the recipient's; famous accounts accept few). Not available for "
        "uploaded graphs.",
    ),
    MetricSpec(
        "requests_per_user",
        "Requests sent per user",
        "business",
        ".3f",
        "Expected friend requests one showing of the row makes people send.",
    ),
    MetricSpec(
        "acceptance_rate",
        "Friendships per suggestion shown",
        "business",
        ".2%",
        "A diagnostic, not a goal: showing fewer, only the surest, suggestions raises it while the "
        "friendships made per user fall.",
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
    *latency_metrics(
        "one user's row: parse, friend list, candidates, ranking, post-processing; in batch mode the "
        "stored row's lookup instead of candidates and ranking"
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

WAVE_SHARE = 0.1  # new students in the campus wave, as a share of the network's users
WAVE_TRAFFIC = 0.3  # their share of requests once they have joined: new users look for friends
ONLINE_HOMOPHILY = 0.3  # meeting online, shared attributes count for this share of what they did
SCENARIOS = (
    Scenario("none", "No drift", "Nothing changes: the same people, friendships and ways of meeting.", False),
    Scenario(
        "campus_wave",
        "Campus wave",
        f"A university signs up: {WAVE_SHARE:.0%} more users, students who arrive with at most two "
        f"friends, make {WAVE_TRAFFIC:.0%} of requests, and their rows come from classmates rather than "
        "friends of friends.",
    ),
    Scenario(
        "online_meeting",
        "Meeting online",
        "People start meeting through groups and games rather than school and work: a shared school, "
        f"company, city or age band counts for {ONLINE_HOMOPHILY:.0%} of what it did. The rows look the "
        "same; fewer suggestions are accepted.",
        False,
    ),
)


LESSONS = (
    Lesson(
        "adamic_adar_vs_common",
        "Adamic–Adar, which weighs rare mutual friends more, at least matches common neighbours",
        change={"ranker": "adamic_adar"},
        base={"ranker": "common_neighbours"},
        metric="recall@10",
        direction="not_down",
    ),
    Lesson(
        "common_vs_attachment",
        "Both are far above preferential attachment, which ranks the most sociable people first",
        change={"ranker": "preferential_attachment"},
        base={"ranker": "common_neighbours"},
        metric="recall@10",
        direction="down",
        at_least=0.05,
    ),
    Lesson(
        "attachment_offline",
        "Preferential attachment beats random order offline",
        change={"ranker": "preferential_attachment"},
        base={"ranker": "random"},
        metric="recall@10",
        direction="up",
    ),
    Lesson(
        "attachment_online",
        "yet online its rows make fewer friendships than random ones: sociable strangers say no",
        change={"ranker": "preferential_attachment"},
        base={"ranker": "random"},
        metric="friendships_per_user",
        direction="down",
    ),
    Lesson(
        "spread_rate",
        "Showing fewer suggestions, only the surest, raises the share of suggestions that turn into "
        "friendships",
        change={"spread": 3},
        metric="acceptance_rate",
        direction="up",
    ),
    Lesson(
        "spread_friendships",
        "while the friendships made per user fall: the rate is a diagnostic, the count is the goal",
        change={"spread": 3},
        metric="friendships_per_user",
        direction="down",
    ),
    Lesson(
        "famous_offline",
        "Letting famous accounts into the row wins offline recall: people did befriend them",
        change={"famous_per_row": 10},
        base={"famous_per_row": 0},
        metric="recall@10",
        direction="up",
    ),
    Lesson(
        "famous_online",
        "and makes fewer friendships online: requests to them are sent and rarely accepted",
        change={"famous_per_row": 10},
        base={"famous_per_row": 0},
        metric="friendships_per_user",
        direction="down",
    ),
    Lesson(
        "hub_cap_recall",
        "Sampling a famous friend's friend list (the high-degree cap) costs no measurable recall",
        change={"hub_cap": 1000},
        metric="recall@10",
        direction="same",
    ),
    Lesson(
        "triadic_structure",
        "Even in a world where mutual friends do not sway acceptance, Adamic–Adar keeps its recall: "
        "people meet through friends, so the graph predicts who meets",
        change={"triadic": 0.0},
        base={"ranker": "adamic_adar"},
        metric="recall@10",
        direction="same",
        at_least=0.02,
    ),
    Lesson(
        "learned_ranker",
        "A learned ranker over the heuristics and shared attributes beats the best single heuristic",
        change={"ranker": "logistic"},
        base={"ranker": "adamic_adar"},
        metric="recall@10",
        direction="up",
    ),
    Lesson(
        "logistic_vs_gbdt",
        "Gradient-boosted trees are no better than logistic regression over these features",
        change={"ranker": "gbdt"},
        base={"ranker": "logistic"},
        metric="recall@10",
        direction="not_up",
    ),
    Lesson(
        "attributes_without_homophily",
        "Even with no homophily, people meet in shared circles, so attribute candidates still help new users",
        change={"sources": "fof+attributes"},
        base={"sources": "fof", "homophily": 0.0},
        metric="new_user_recall@10",
        direction="up",
    ),
    Lesson(
        "attributes_cold_start",
        "Attribute candidates reach new users that friends of friends cannot",
        change={"sources": "fof+attributes"},
        base={"sources": "fof"},
        metric="new_user_recall@10",
        direction="up",
        at_least=0.05,
    ),
    Lesson(
        "fof_cap_recall",
        "A larger friends-of-friends cap holds more of the friendships to come",
        change={"fof_cap": 1000},
        base={"fof_cap": 20},
        metric="candidate_recall",
        direction="up",
        at_least=0.2,
    ),
    Lesson(
        "fof_cap_work",
        "and the ranker must score every one of them on each request",
        change={"fof_cap": 1000},
        base={"fof_cap": 20},
        metric="candidates_per_user",
        direction="up",
        at_least=100,
    ),
    Lesson(
        "batch_stale",
        "A daily batch job's rows are a day stale, never better than online ones (in this world a day "
        "adds few friendships, so they lose little)",
        change={"serving": "batch"},
        metric="recall@10",
        direction="not_up",
    ),
    Lesson(
        "batch_lookup",
        "and a request becomes a lookup",
        change={"serving": "batch"},
        metric="latency_p50_ms",
        direction="down",
    ),
    Lesson(
        "ppr_no_gain",
        "A personalised PageRank walk adds candidates to rank and no recall",
        change={"sources": "fof+attributes+ppr"},
        metric="recall@10",
        direction="not_up",
    ),
)


def system() -> System:
    from case_studies.pymk import drift, pipeline, release, serving

    return System(
        run=pipeline.run,
        predictor=serving.build,
        probe=pipeline.probe,
        pools=release.pools,
        agreement=release.agreement,
        period=drift.build_period,
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
    system=system,
    upload=Upload(load_friendships, FORMAT),
    headline=(
        "recall@10",
        "candidate_recall",
        "friendships_per_user",
        "new_user_recall@10",
        "latency_p99_ms",
        "batch_job_s",
    ),
    quality_metric="recall@10",
    cost_metric="latency_p50_ms",
    content_dir=Path(__file__).parent / "content",
    latency_floor=0.35,  # up to 42 % from the median re-scoring the same design (see the pipeline)
    order=4,
    probe=Probe("Pick a user", "a user id, e.g. 42", "42"),
    serving=Serving(
        example={"user_id": 42, "k": 10},
        request_doc="user_id: a user id (integer or text); k: suggestions, 1–50 (default 10)",
        population_label="every user's row",
        hybrid_online_stages=("API_Gateway", "Feature_Store", "Ranking", "Post_Processing"),
    ),
    release=Release(
        metric_label="friendships per slot",
        metric_fmt=".2%",
        higher_is_better=True,
        metric_help="Friendships made per slot of the row (a suggestion seen, a request sent and "
        "accepted; an empty slot makes none), from the world's own rule on today's graph.",
        placement=Placement("Ranking", (4, 0), "Post_Processing", "Training", (1, 1)),
        default_rpm=1000,
    ),
    drift=Drift(SCENARIOS),
    lessons=LESSONS,
)
