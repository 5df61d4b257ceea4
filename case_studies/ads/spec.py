"""Design ad click-through prediction: the study's declaration on the engine."""

from pathlib import Path

from case_studies.ads.upload import FORMAT, load_criteo
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

PER_REQUEST = "The figure is its median time per ad request, each served alone."

STAGES = (
    Stage(
        "Ad_Request",
        "Ad request",
        "A page asks for an ad for one slot: who, where, which slot, when.",
        (0, 0),
        timed=False,
    ),  # fmt: skip
    Stage(
        "API_Gateway",
        "API gateway",
        "Parses the ad request (user, placement, slot, hour). " + PER_REQUEST,
        (1, 0),
    ),
    Stage(
        "Candidates",
        "Candidate ads",
        "Targeting keeps the ads aimed at this user (broad campaigns, or one of the user's top "
        "categories) that are live; a pacing throttle lets each into a random share of auctions, "
        "leaving 40 candidates. " + PER_REQUEST,
        (2, 0),
    ),
    Stage(
        "Feature_Store",
        "Feature store",
        "Looks up every candidate's features: its ids and crosses for the hashed model, and the click "
        "counts of the past week (the ad's, the user's, the placement's…) for the trees. " + PER_REQUEST,
        (3, 0),
    ),
    Stage(
        "Model_Serving",
        "CTR model",
        "Scores the 40 candidates: each one's probability of a click in this slot, after recalibration "
        "and calibration. " + PER_REQUEST,
        (4, 0),
    ),
    Stage(
        "Auction",
        "Auction",
        "Ranks by expected value per thousand impressions (bid × pCTR × 1000, or the bid of an ad that "
        "pays per impression), keeps those above the $4 reserve, and charges the winner the second "
        "price: what it needed to keep the slot. " + PER_REQUEST,
        (4, 1),
    ),
    Stage(
        "Post_Processing",
        "Post-processing",
        "Frequency cap: an ad the user has seen too often today drops out of the ranking before the "
        "winner is taken. " + PER_REQUEST,
        (3, 1),
    ),
    Stage(
        "Impression_Log",
        "Impression log",
        "Every impression and whether it was clicked, within the hour; the feature store's counts and "
        "the training set come from it. The figure is the time to build the counts, per run.",
        (2, 1),
        online=False,
    ),
    Stage(
        "Training",
        "Training",
        "Fits the CTR model on the train window's impressions (negatives downsampled), then its "
        "calibration on a held-out slice. The figure is the training time of the run.",
        (1, 1),
        online=False,
    ),
    registry_stage((0, 1)),
)

FLOW = (
    ("Ad_Request", "API_Gateway"),
    ("API_Gateway", "Candidates"),
    ("Candidates", "Feature_Store"),
    ("Feature_Store", "Model_Serving"),
    ("Model_Serving", "Auction"),
    ("Auction", "Post_Processing"),
    ("Post_Processing", "Impression_Log"),
    ("Impression_Log", "Feature_Store"),
    ("Impression_Log", "Training"),
    ("Training", "Model_Registry"),
    ("Model_Registry", "Model_Serving"),
)

KNOBS = (
    Knob(
        "model",
        "Model",
        "logistic",
        "Logistic regression on hashed ids learns every id's own weight and retrains in seconds; "
        "gradient-boosted trees read the feature store's counts and find interactions, but know no id; "
        "trees + LR feeds the trees' leaves to the logistic regression (Facebook, 2014).",
        ("Model_Serving", "Training"),
        options=("logistic", "gbdt", "gbdt_lr"),
    ),
    Knob(
        "hash_bits",
        "Hashing: 2^bits columns",
        18,
        "More columns, fewer ids sharing a weight (collisions), and a larger model: memory doubles "
        "with every bit, quality stops improving long before.",
        ("Feature_Store", "Model_Serving", "Training"),
        options=(10, 12, 14, 16, 18, 20, 22),
        idle_when=lambda c: (
            "The trees read the counts, not the hashed ids." if c["model"] == "gbdt" else None
        ),
    ),
    Knob(
        "crosses",
        "Feature crosses",
        True,
        "User × category, device × category, region × category and placement × category as ids of their "
        "own: what a linear model cannot find by itself, at more ids to hash.",
        ("Feature_Store", "Model_Serving"),
        idle_when=lambda c: "The trees find interactions themselves." if c["model"] == "gbdt" else None,
    ),
    Knob(
        "position",
        "Slot position as a feature",
        True,
        "The slot sways the click (the top slot gets about three times the bottom one's). With the "
        "feature, the model learns the slot's effect and scores each candidate in the slot on offer; "
        "without it, the slot's effect is noise it averages over.",
        ("Feature_Store", "Model_Serving", "Training"),
    ),
    Knob(
        "negative_rate",
        "Negative downsampling: share of non-clicks kept",
        1.0,
        "Keep every click and this share of the rest: training on fewer rows is faster, and the model's "
        "odds come out 1/rate too high unless they are recalibrated.",
        ("Training",),
        options=(1.0, 0.5, 0.2, 0.1, 0.05, 0.02),
    ),
    Knob(
        "recalibrate",
        "Correct for downsampling",
        True,
        "q = p / (p + (1 − p) / rate): turns the downsampled model's probability back into the real "
        "world's. Without it every pCTR is too high, and money computed from it is wrong.",
        ("Model_Serving",),
        idle_when=lambda c: "Nothing is downsampled." if c["negative_rate"] == 1.0 else None,
    ),
    Knob(
        "calibration",
        "Calibration",
        "none",
        "Platt scaling or isotonic regression fitted on impressions held out from training: fixes a "
        "model whose probabilities are off as a whole or in places.",
        ("Model_Serving", "Training"),
        options=("none", "platt", "isotonic"),
    ),
    Knob(
        "model_age",
        "Model age",
        0,
        "Days since the model was trained. Ads' appeal drifts and new campaigns start every day; an "
        "old model has never seen them.",
        ("Training", "Model_Registry"),
        low=0,
        high=3,
        step=1,
        unit="days",
    ),
    Knob(
        "train_days",
        "Train window",
        3,
        "Days of impressions the model is fitted on: more data, but older, and slower to train.",
        ("Training",),
        low=1,
        high=4,
        step=1,
        unit="days",
    ),
    Knob(
        "frequency_cap",
        "Frequency cap",
        3,
        "Showings of one ad to one user per day. Each showing clicks less than the one before (fatigue).",
        ("Post_Processing",),
        options=(1, 2, 3, 5, 10),
        unit="a day",
    ),
    Knob(
        "drift",
        "World: daily drift of ads' appeal",
        0.15,
        "How fast ads' appeal wanders from day to day (the standard deviation of a day's step, in "
        "log-odds). New campaigns start every day whatever this is.",
        ("Ad_Request",),
        low=0.0,
        high=0.4,
        step=0.05,
        world=True,
    ),
    Knob(
        "base_ctr",
        "World: average click-through rate",
        0.02,
        "Display ads click at about 1 %, search ads more. A rarer click means fewer positives to learn "
        "from in the same impressions.",
        ("Ad_Request",),
        options=(0.005, 0.01, 0.02, 0.05),
        world=True,
    ),
    Knob(
        "scale",
        "Data scale",
        1.0,
        "Impressions per day: 1 is 40,000 (320,000 over the log's 8 days).",
        ("Ad_Request", "Impression_Log", "Training"),
        options=(0.5, 1.0, 2.0),
        unit="x",
        world=True,
    ),
)

NOT_ON_UPLOADS = " Not available for an uploaded file: it has no bids or auctions."

METRICS = (
    MetricSpec(
        "normalized_entropy",
        "Normalized entropy",
        "quality",
        ".4f",
        "Log loss over the entropy of the training data's average CTR (He et al., 2014): 1 is no better "
        "than predicting the average for everyone; lower is better.",
        higher_is_better=False,
    ),
    MetricSpec(
        "log_loss",
        "Log loss",
        "quality",
        ".4f",
        "Mean cross-entropy on the test day's impressions.",
        higher_is_better=False,
    ),  # fmt: skip
    MetricSpec(
        "auc",
        "AUC",
        "quality",
        ".3f",
        "Probability a clicked impression scores above an unclicked one. Blind to calibration.",
    ),  # fmt: skip
    MetricSpec(
        "calibration",
        "Predicted / observed",
        "quality",
        ".3f",
        "Predicted clicks over observed clicks on the test day: 1 is right; 2 means every pCTR is on "
        "average twice too high. Closer to 1 is better.",
        higher_is_better=False,
    ),
    MetricSpec(
        "ece",
        "Calibration error (ECE)",
        "quality",
        ".3%",
        "Expected calibration error: how far predicted CTR is from observed CTR within ten bins of "
        "the prediction, weighted by their impressions.",
        higher_is_better=False,
    ),
    MetricSpec(
        "revenue_per_mille",
        "Revenue per mille",
        "business",
        ",.2f",
        "Revenue per mille (RPM): what advertisers pay per thousand ad requests in the test day's "
        "auctions, counted with the world's true click probabilities." + NOT_ON_UPLOADS,
        prefix="$",
    ),
    MetricSpec(
        "advertiser_value",
        "Advertiser value per 1,000 requests",
        "business",
        ",.2f",
        "What the shown ads were worth to their advertisers (their bid per click or per impression), "
        "per thousand requests: high when the auction gives each slot to the ad that makes the most "
        "of it." + NOT_ON_UPLOADS,
        prefix="$",
    ),
    MetricSpec(
        "shown_ctr",
        "CTR of the shown ads",
        "business",
        ".2%",
        "The true click probability of the ads that won, on average." + NOT_ON_UPLOADS,
    ),  # fmt: skip
    *latency_metrics("one ad request: candidates, features, 40 scores, the auction and the cap"),
    MetricSpec(
        "model_memory_mb",
        "Model size",
        "system",
        ",.1f",
        "The weights served: 2^bits columns of the linear model and the trees' nodes.",
        higher_is_better=False,
        unit="MB",
    ),
    MetricSpec(
        "collision_rate",
        "Hash collisions",
        "system",
        ".1%",
        "Share of the log's distinct ids (and crosses) that share their column with another id.",
        higher_is_better=False,
    ),
    MetricSpec(
        "train_s",
        "Training time",
        "system",
        ".2f",
        "Time to fit the model and its calibration.",
        higher_is_better=False,
        unit="s",
        deterministic=False,
    ),  # fmt: skip
    MetricSpec("impressions", "Impressions", "data", ",.0f", "Impressions in the log."),
    MetricSpec("ctr", "Click-through rate", "data", ".2%", "Clicks over impressions in the log."),
)

SCENARIOS = (
    Scenario("none", "None", "Nothing changes: the same users, ads and appeal drift.", False),
    Scenario(
        "campaign_burst",
        "New campaign burst",
        "A new advertiser launches a hundred ads at once, better liked than most: ids the model has "
        "never seen.",
        strong=False,
    ),
    Scenario(
        "holiday",
        "Holiday shift",
        "Interest moves to two categories (gifts, travel) and clicks rise: the same ids, a different world.",
        strong=True,
    ),
)

DOWNSAMPLED = {"negative_rate": 0.1}
UNCORRECTED = {**DOWNSAMPLED, "recalibrate": False}
LESSONS = (
    Lesson(
        "downsample_calibration",
        "Keeping a tenth of the non-clicks without correcting the odds makes every pCTR several times "
        "too high",
        change=UNCORRECTED,
        metric="calibration",
        direction="up",
        at_least=1.0,
    ),
    Lesson(
        "downsample_auc",
        "yet the ranking is exactly as good: AUC cannot see it",
        change={"recalibrate": False},
        base=DOWNSAMPLED,
        metric="auc",
        direction="same",
    ),
    Lesson(
        "downsample_revenue",
        "and the auction loses money: per-click ads win slots the impression buyers should have had, and "
        "pay a price divided by an inflated pCTR",
        change={"recalibrate": False},
        base=DOWNSAMPLED,
        metric="revenue_per_mille",
        direction="down",
    ),
    Lesson(
        "recalibrated_calibration",
        "Corrected with q = p / (p + (1 − p) / w), the downsampled model is calibrated again",
        change=DOWNSAMPLED,
        metric="calibration",
        direction="same",
        at_least=0.05,
    ),
    Lesson(
        "downsample_ne",
        "though dropping nine non-clicks in ten costs a little normalized entropy: less to learn from",
        change=DOWNSAMPLED,
        metric="normalized_entropy",
        direction="up",
    ),
    Lesson(
        "platt_repairs",
        "Platt scaling on held-out impressions repairs a model that was never corrected",
        change={"calibration": "platt"},
        base=UNCORRECTED,
        metric="calibration",
        direction="down",
        at_least=1.0,
    ),
    Lesson(
        "stale_ne",
        "A model three days old scores today's impressions worse: ads' appeal has drifted and new "
        "campaigns have started since it was trained",
        change={"model_age": 3},
        metric="normalized_entropy",
        direction="up",
    ),
    Lesson(
        "hash_small",
        "Hashing into 2^12 columns makes ids share weights and costs normalized entropy",
        change={"hash_bits": 12},
        base={"hash_bits": 18},
        metric="normalized_entropy",
        direction="up",
        at_least=0.005,
    ),
    Lesson(
        "hash_diminishing",
        "16 times the columns of 2^18 buys almost nothing",
        change={"hash_bits": 22},
        base={"hash_bits": 18},
        metric="normalized_entropy",
        direction="same",
        at_least=0.003,
    ),
    Lesson(
        "hash_memory",
        "the model grows sixteenfold",
        change={"hash_bits": 22},
        base={"hash_bits": 18},
        metric="model_memory_mb",
        direction="up",
    ),
    Lesson(
        "crosses",
        "Without crosses the linear model cannot learn which categories each user, device and page prefers",
        change={"crosses": False},
        metric="normalized_entropy",
        direction="up",
    ),
    Lesson(
        "position",
        "Leaving the slot out makes the slot's effect noise the model cannot explain",
        change={"position": False},
        metric="normalized_entropy",
        direction="up",
    ),
    Lesson(
        "gbdt_better",
        "Trees over the feature store's counts predict better than logistic regression over ids",
        change={"model": "gbdt"},
        metric="normalized_entropy",
        direction="down",
    ),
    Lesson(
        "gbdt_latency",
        "the cost of scoring 40 candidates through 60 trees",
        change={"model": "gbdt"},
        metric="latency_p50_ms",
        direction="up",
    ),
    Lesson(
        "stacked_better",
        "Feeding the trees' leaves to the logistic regression beats it alone",
        change={"model": "gbdt_lr"},
        metric="normalized_entropy",
        direction="down",
    ),
)


def system() -> System:
    from case_studies.ads import drift, pipeline, release, serving

    return System(
        run=pipeline.run,
        predictor=serving.build,
        probe=pipeline.probe,
        pools=release.pools,
        agreement=release.agreement,
        period=drift.build_period,
    )


STUDY = Study(
    id="ads",
    title="Ad click prediction",
    question="Design ad click-through prediction",
    summary="A CTR model on hashed ids and click counts, calibrated because money is computed from it, "
    "feeding a second-price auction over a simulated world of users, ads and bids.",
    stages=STAGES,
    flow=FLOW,
    knobs=KNOBS,
    metrics=METRICS,
    system=system,
    upload=Upload(load_criteo, FORMAT, suffixes=("txt", "tsv", "csv")),  # Criteo's own is train.txt
    headline=("normalized_entropy", "calibration", "revenue_per_mille", "auc", "latency_p99_ms"),
    quality_metric="normalized_entropy",
    cost_metric="latency_p50_ms",
    content_dir=Path(__file__).parent / "content",
    order=5,
    probe=Probe("Pick a user", "a user id, e.g. 42", "42"),
    serving=Serving(
        example={"user_id": 42, "placement_id": 7, "position": 1, "hour": 20},
        request_doc="user_id: 0-19,999; placement_id: 0-199 (default 0); position: the slot, 1 (top) to 4 "
        "(default 1); hour: 0-23 (default 12); seen_today: optional {ad_id: showings} for the frequency cap",
        population_label="yesterday's ad requests",
    ),
    release=Release(
        metric_label="revenue per request ($)",
        metric_fmt=".4f",
        higher_is_better=True,
        metric_help="What the winning ad pays, per ad request, at the world's true click probability.",
        placement=Placement("Model_Serving", (4, -1), "Auction", "Training", (4, 2)),
        default_rpm=20000,
    ),
    drift=Drift(SCENARIOS),
    lessons=LESSONS,
)
