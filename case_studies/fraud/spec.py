"""Design a fraud detection pipeline for PayPal: the study's declaration on the engine."""

from pathlib import Path

from case_studies.fraud.charts import PANELS
from case_studies.fraud.upload import FORMAT, load_transactions
from engine import (
    Drift,
    Knob,
    Lesson,
    MetricSpec,
    Placement,
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

PER_TX = "The figure is its median time per payment, each served alone."

STAGES = (
    Stage(
        "Transaction",
        "Transaction",
        "A card payment arrives from a merchant's terminal.",
        (0, 0),
        timed=False,
    ),
    Stage(
        "API_Gateway",
        "API gateway",
        "Authenticates the merchant and parses the payment message (card, terminal, amount, time). " + PER_TX,
        (1, 0),
    ),
    Stage(
        "Rules",
        "Rules",
        "Hand-written rules that need no model: here, any amount above $220 is declined. Cheap and "
        "exact on the pattern they name, blind to everything else, and fraudsters learn them. " + PER_TX,
        (2, 0),
    ),
    Stage(
        "Feature_Store",
        "Feature store",
        "Velocity windows computed live: the card's payment count and average amount over 1, 7 and 30 "
        "days, and the terminal's fraud rate over the same windows, using only labels older than the "
        "label delay. " + PER_TX,
        (3, 0),
    ),
    Stage(
        "Model_Serving",
        "Model serving",
        "Scores the payment with the deployed model version: the probability it is fraud. " + PER_TX,
        (4, 0),
    ),
    Stage(
        "Decision",
        "Decision",
        "Turns the calibrated probability into an action: approve, send to review, or decline outright, "
        "at two thresholds tuned by cost within the analysts' capacity. " + PER_TX,
        (4, 1),
    ),
    Stage(
        "Review_Queue",
        "Review queue",
        "Analysts review the riskiest alerts first, up to their daily capacity; alerts past it are "
        "approved unread, so a threshold the team cannot staff catches nothing extra. Its latency is "
        "analyst hours, not request time: putting an alert on it is counted in the decision.",
        (3, 1),
        timed=False,
    ),
    Stage(
        "Labels",
        "Delayed labels",
        "Chargebacks and analyst verdicts arrive days or weeks later: the label delay. Until then the "
        "feature store and the training set cannot know a payment was fraud. The figure is the time to "
        "index them, per run.",
        (2, 1),
        online=False,
    ),
    Stage(
        "Retraining",
        "Retraining",
        "Fits the model on the labelled window, calibrates it and tunes the decision thresholds on the "
        "latest two labelled weeks, once or on a cadence. The figure is the total training time of the "
        "run.",
        (1, 1),
        online=False,
    ),
    registry_stage((0, 1)),
)

FLOW = (
    ("Transaction", "API_Gateway"),
    ("API_Gateway", "Rules"),
    ("Rules", "Feature_Store"),
    ("Feature_Store", "Model_Serving"),
    ("Model_Serving", "Decision"),
    ("Decision", "Review_Queue"),
    ("Review_Queue", "Labels"),
    ("Labels", "Retraining"),
    ("Labels", "Feature_Store"),
    ("Retraining", "Model_Registry"),
    ("Model_Registry", "Model_Serving"),
)

KNOBS = (
    Knob(
        "model",
        "Model",
        "logistic",
        "Logistic regression is fast and calibrated; a random forest or gradient boosting find "
        "interactions between features, at more training and scoring time.",
        ("Model_Serving", "Retraining"),
        options=("logistic", "random_forest", "gradient_boosting"),
    ),
    Knob(
        "customer_windows",
        "Features: card spending windows",
        True,
        "The card's payment count and average amount over 1, 7 and 30 days: catches a stolen card "
        "that suddenly spends differently, at the cost of a per-card lookup on every payment.",
        ("Feature_Store", "Model_Serving"),
    ),
    Knob(
        "terminal_windows",
        "Features: terminal risk windows",
        True,
        "The terminal's share of (already labelled) fraud over 1, 7 and 30 days: catches compromised "
        "terminals, but only once labels arrive, so it weakens as the label delay grows.",
        ("Feature_Store", "Model_Serving", "Labels"),
    ),
    Knob(
        "time_flags",
        "Features: weekend and night flags",
        True,
        "Two cheap calendar features; they matter little in this world.",
        ("Feature_Store", "Model_Serving"),
    ),
    Knob(
        "imbalance",
        "Class imbalance",
        "none",
        "Under 1 % of payments are fraud. Class weights or undersampling make the model attend to "
        "frauds; they barely move AUC, often lower average precision, and inflate the scores.",
        ("Retraining",),
        options=("none", "class_weight", "undersample"),
    ),
    Knob(
        "label_delay",
        "Label delay",
        7,
        "Days until a fraud is confirmed. Longer delays starve the terminal-risk features and push "
        "training data further into the past.",
        ("Labels", "Feature_Store", "Retraining"),
        low=1,
        high=28,
        step=1,
        unit="days",
    ),
    Knob(
        "label_maturity",
        "How labels arrive",
        "complete",
        "Complete: every fraud is confirmed exactly a label delay after it happens. Gradual: chargebacks "
        "trickle in (the delay is their mean), so the newest training days hold frauds nobody has "
        "reported yet, and they train as legitimate payments. Wait: gradual, but train only on days "
        "two mean delays old, when most labels are in: cleaner labels, older data. Which wins depends "
        "on how fast fraud changes; here it differs by seed.",
        ("Labels", "Retraining"),
        options=("complete", "gradual", "wait"),
    ),
    Knob(
        "train_window",
        "Train window",
        7,
        "Days of labelled payments the model is fitted on: more data, but older, and slower to train.",
        ("Retraining",),
        options=(7, 14, 21, 28),
        unit="days",
    ),
    Knob(
        "false_alarm_cost",
        "Cost of a false alarm",
        5.0,
        "Analyst time and a delayed customer per legitimate payment sent to review; a missed fraud costs "
        "its amount. The review threshold is tuned to minimise the sum, so it rises with this cost.",
        ("Decision", "Review_Queue"),
        low=1.0,
        high=50.0,
        step=1.0,
        unit="$",
    ),
    Knob(
        "false_decline_cost",
        "Cost of a false decline",
        30.0,
        "A legitimate payment declined outright: the lost sale, and often the customer. Dearer than a "
        "review, so only the surest payments are declined; the block threshold rises with it.",
        ("Decision",),
        low=1.0,
        high=200.0,
        step=1.0,
        unit="$",
    ),
    Knob(
        "review_capacity",
        "Review capacity",
        10,
        "Alerts the analyst team can review per day. Alerts past it are approved unread.",
        ("Review_Queue",),
        low=1,
        high=100,
        step=1,
        unit="alerts/day",
    ),
    Knob(
        "retraining",
        "Retraining cadence",
        "never",
        "Retrain on the newest labels every one or two weeks: more training compute, and the model "
        "catches up with new fraud patterns once their labels arrive.",
        ("Retraining", "Model_Registry", "Model_Serving"),
        options=("never", "biweekly", "weekly"),
    ),
    Knob(
        "protocol",
        "Evaluation protocol",
        "lab",
        "The lab scores 28 test days (four times the Handbook's frauds, so tighter ranges) and never "
        "scores a card again once any fraud on it is confirmed; the Handbook scores one week and forgets "
        "cards found before its train window, so more compromised cards are left to find and card "
        "precision@100 is higher. Compare with the Handbook's figures under its own protocol.",
        ("Labels",),
        options=("lab", "handbook"),
    ),
    Knob(
        "drift",
        "World: new fraud pattern",
        "none",
        "From the drift day, fraudsters try something the model never saw: card testing (bursts of "
        "tiny payments) or amounts split under the $220 rule.",
        ("Transaction", "Rules"),
        options=("none", "card_testing", "split_amounts"),
        world=True,
    ),
    Knob(
        "drift_day",
        "World: drift starts on test day",
        0,
        "The test day the new pattern starts (the test period is 28 days). Retraining can only learn it "
        "once its labels arrive: a label delay after it starts.",
        ("Transaction",),
        low=0,
        high=21,
        step=1,
        world=True,
    ),
    Knob(
        "scale",
        "Data scale",
        0.2,
        "1 is the Handbook's world (5,000 cards, 10,000 terminals, ~10k payments a day); smaller "
        "worlds train faster and have fewer test frauds, so noisier metrics.",
        ("Transaction", "Labels", "Retraining"),
        options=(0.1, 0.2, 0.5, 1.0),
        unit="x",
        world=True,
    ),
)


def _money(key, label, help_text):
    return MetricSpec(
        key, label, "business", ",.0f", help_text, higher_is_better=False, unit="/day", prefix="$"
    )


METRICS = (
    MetricSpec(
        "average_precision",
        "Average precision",
        "quality",
        ".3f",
        "Area under the precision-recall curve over the test days: how well frauds rank above "
        "legitimate payments. A random score gets the fraud rate.",
    ),
    MetricSpec(
        "auc",
        "AUC-ROC",
        "quality",
        ".3f",
        "Probability a fraud scores above a legitimate payment. Flattering when frauds are rare.",
    ),
    MetricSpec(
        "card_precision@100",
        "Card precision@100",
        "quality",
        ".3f",
        "Each day investigators check the riskiest cards (100 a day per 5,000 cards, as in the "
        "Handbook): the share that really were compromised.",
    ),
    MetricSpec(
        "ap_after_drift",
        "AP from the drift day",
        "quality",
        ".3f",
        "Average precision on the test days from the drift day on (the same days when there is no drift).",
    ),
    MetricSpec(
        "recall@threshold",
        "Recall at the threshold",
        "quality",
        ".1%",
        "Share of frauds the rules block or the model flags at its threshold.",
    ),
    MetricSpec(
        "fraud_stopped",
        "Frauds stopped",
        "business",
        ".1%",
        "Share of frauds actually stopped: blocked, or reviewed within the team's capacity.",
    ),
    MetricSpec(
        "fraud_dollars_stopped",
        "Fraud dollars stopped",
        "business",
        ".1%",
        "Share of the fraud amount stopped: a $2 card test counts for less than a $200 theft.",
    ),
    MetricSpec(
        "false_decline_rate",
        "False declines",
        "business",
        ".2%",
        "Share of legitimate payments declined outright, by the $220 rule or the model.",
        higher_is_better=False,
    ),
    MetricSpec(
        "alerts_per_day",
        "Alerts per day",
        "business",
        ".1f",
        "Payments sent to analysts per day; compare with the review capacity.",
        higher_is_better=False,
    ),
    MetricSpec(
        "unreviewed_per_day",
        "Alerts past capacity",
        "business",
        ".1f",
        "Alerts per day the team had no time for, approved unread.",
        higher_is_better=False,
    ),
    _money(
        "total_cost_per_day",
        "Total cost",
        "Missed fraud amounts plus the costs of reviewing and of declining legitimate payments, per day.",
    ),
    _money("fraud_loss_per_day", "Fraud loss", "Amounts of frauds that got through, per day."),
    _money("review_cost_per_day", "False-alarm cost", "Legitimate payments reviewed, times their cost."),
    _money("decline_cost_per_day", "False-decline cost", "Legitimate payments declined, times their cost."),
    _money(
        "rules_only_loss_per_day", "Loss with rules only", "What frauds would cost per day with no model."
    ),
    MetricSpec(
        "threshold",
        "Review threshold",
        "system",
        ".3f",
        "The calibrated fraud probability from which a payment goes to review, tuned by cost within the "
        "team's capacity on the latest two labelled weeks.",
        higher_is_better=False,
    ),
    MetricSpec(
        "block_threshold",
        "Block threshold",
        "system",
        ".3f",
        "The calibrated fraud probability from which a payment is declined outright (above 1: never).",
        higher_is_better=False,
    ),
    *latency_metrics("one payment decided: parse, the $220 rule, live features, the score, the decision"),
    MetricSpec(
        "train_s",
        "Training time",
        "system",
        ".2f",
        "Wall-clock time to fit every model version the run deployed.",
        higher_is_better=False,
        unit="s",
        deterministic=False,
    ),
    MetricSpec("transactions", "Transactions", "data", ",.0f", "Payments in the log."),
    MetricSpec("fraud_rate", "Fraud rate", "data", ".2%", "Share of payments that are fraud."),
    MetricSpec(
        "test_frauds", "Test frauds", "data", ",.0f", "Frauds in the test period, known cards removed."
    ),
)

WAVE = 50  # attacks per day in a Monitor scenario, as a multiple of the drift knob's rate
SCENARIOS = (
    Scenario("none", "None", "Nothing changes: the same customers, terminals and fraud scenarios.", False),
    # A new fraud pattern is a minority of payments: the score's PSI stays under 0.25 (not "strong");
    # the amount's PSI and, once labels arrive, AP show it.
    Scenario(
        "card_testing",
        "Card-testing wave",
        "Bots try stolen cards with bursts of tiny payments (under $5), a pattern the model never saw, "
        f"at {WAVE} times the study's drift rate.",
        strong=False,
    ),
    Scenario(
        "split_amounts",
        "Split-amounts wave",
        "Fraudsters split large thefts into bursts of payments just under the $220 rule, "
        f"at {WAVE} times the study's drift rate.",
        strong=False,
    ),
)


FOREST = {"model": "random_forest"}
CARD_TESTING = {**FOREST, "drift": "card_testing", "drift_day": 0}
LESSONS = (
    Lesson(
        "terminal_risk",
        "The terminals' recent fraud rate carries the model",
        change={"terminal_windows": False},
        metric="average_precision",
        direction="down",
        at_least=0.2,
    ),
    Lesson(
        "time_flags",
        "Weekend and night flags matter little in this world",
        change={"time_flags": False},
        metric="average_precision",
        direction="same",
        at_least=0.02,
    ),
    Lesson(
        "forest_latency",
        "A random forest takes longer to score one payment than logistic regression",
        change=FOREST,
        metric="latency_p50_ms",
        direction="up",
    ),
    Lesson(
        "models_close",
        "and its average precision is no better, here",
        change=FOREST,
        metric="average_precision",
        direction="not_up",
    ),
    Lesson(
        "weights_auc",
        "Class weights barely move AUC",
        change={"imbalance": "class_weight"},
        metric="auc",
        direction="same",
        at_least=0.03,
    ),
    Lesson(
        "weights_calibrated",
        "and once scores are calibrated, the review threshold hardly moves: calibration undoes the "
        "inflation reweighting causes",
        change={"imbalance": "class_weight"},
        metric="threshold",
        direction="same",
        at_least=0.05,
    ),
    Lesson(
        "handbook_protocol",
        "The Handbook's protocol finds more compromised cards to score than the lab's",
        change={"protocol": "handbook"},
        metric="card_precision@100",
        direction="up",
    ),
    Lesson(
        "alarm_cost_threshold",
        "A dearer false alarm raises the cost-tuned review threshold",
        change={"false_alarm_cost": 50.0},
        metric="threshold",
        direction="up",
    ),
    Lesson(
        "decline_cost_threshold",
        "A dearer false decline raises the block threshold: only the surest payments are declined",
        change={"false_decline_cost": 200.0},
        base={"false_decline_cost": 5.0},
        metric="block_threshold",
        direction="up",
    ),
    Lesson(
        "label_delay_money",
        "A longer label delay costs money on the same payments: terminal risk goes stale and the model "
        "learns from older fraud",
        change={"label_delay": 28},
        metric="total_cost_per_day",
        direction="up",
    ),
    Lesson(
        "label_delay_ap",
        "and average precision falls",
        change={"label_delay": 28},
        metric="average_precision",
        direction="down",
        at_least=0.1,
    ),
    Lesson(
        "card_testing_hurts",
        "Card testing the model never saw lowers a static forest's average precision",
        change={"drift": "card_testing", "drift_day": 0},
        base=FOREST,
        metric="ap_after_drift",
        direction="down",
        at_least=0.1,
    ),
    Lesson(
        "retraining_recovers",
        "and weekly retraining wins part of it back once the new pattern's labels arrive (from a "
        "little to most of it, by seed)",
        change={"retraining": "weekly"},
        base=CARD_TESTING,
        metric="ap_after_drift",
        direction="up",
        at_least=0.01,
    ),
    Lesson(
        "maturity_bias",
        "When chargebacks trickle in, training on the newest days teaches the model that recent fraud "
        "is legitimate, and it costs money",
        change={"label_maturity": "gradual"},
        metric="total_cost_per_day",
        direction="up",
    ),
    Lesson(
        "tiny_capacity",
        "A team that can review only one alert a day stops fewer frauds",
        change={"review_capacity": 1},
        metric="fraud_stopped",
        direction="down",
    ),
)


def system() -> System:
    from case_studies.fraud import drift, pipeline, release, serving

    return System(
        run=pipeline.run,
        predictor=serving.build,
        pools=release.pools,
        agreement=release.agreement,
        period=drift.build_period,
    )


STUDY = Study(
    id="fraud",
    title="Fraud detection",
    question="Design a fraud detection pipeline for PayPal",
    summary="Rules, live velocity features, a classifier and a cost-tuned decision over a simulated "
    "payment world, with delayed labels, an analyst team of fixed size and fraud patterns that change.",
    stages=STAGES,
    flow=FLOW,
    knobs=KNOBS,
    metrics=METRICS,
    system=system,
    upload=Upload(load_transactions, FORMAT),
    headline=(
        "average_precision",
        "card_precision@100",
        "fraud_stopped",
        "total_cost_per_day",
        "alerts_per_day",
        "latency_p99_ms",
    ),
    quality_metric="average_precision",
    cost_metric="total_cost_per_day",
    content_dir=Path(__file__).parent / "content",
    latency_floor=0.4,  # up to 40 % between runs in one process (bench/production.py --only-noise)
    order=2,
    panels=PANELS,
    serving=Serving(
        example={"customer_id": 17, "terminal_id": 3, "amount": 57.3, "timestamp": 15_000_000},
        request_doc="customer_id, terminal_id: integers; amount: dollars, 0 or more; timestamp: seconds on "
        "the log's clock (default: the end of the log); transaction_id: optional, echoed",
        population_label="yesterday's payments",
    ),
    release=Release(
        metric_label="cost per payment ($)",
        metric_fmt=".3f",
        higher_is_better=False,
        metric_help="Money lost on approved frauds plus the false-alarm cost of each legitimate "
        "payment stopped, per payment.",
        placement=Placement("Model_Serving", (4, -1), "Decision", "Retraining", (4, 2)),
        default_rpm=20000,
    ),
    drift=Drift(SCENARIOS),
    lessons=LESSONS,
)
