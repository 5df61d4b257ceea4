"""Design an email spam filter: the smallest study that keeps the contract (`engine.check`), and the
template `python -m engine new-study ID` copies. Replace the world, the system and the text with your
own; keep the shape. docs/adding-a-study.md walks through each part.

It declares stages, knobs, metrics and lessons, and an implementation (`system()`) whose modules
load on first use. It serves nothing, releases nothing and has no drift scenarios: add `serving`,
`release` and `drift` (with their System hooks) when your study takes them to the Production page."""

from pathlib import Path

from engine import Knob, Lesson, MetricSpec, Stage, Study, System, Upload, latency_metrics, registry_stage

from .upload import FORMAT, load_emails

STAGES = (
    Stage("Email", "Email", "A message arrives for a user's inbox.", (0, 0), timed=False),
    Stage("API_Gateway", "API gateway", "Parses the message into its features.", (1, 0)),
    Stage("Model_Serving", "Model serving", "Scores the message: the probability it is spam.", (2, 0)),
    Stage("Decision", "Decision", "Sends it to the spam folder above the threshold.", (3, 0)),
    Stage("Training", "Training", "Fits the model on labelled messages.", (2, -1), online=False),
    registry_stage((3, -1)),
)
FLOW = (
    ("Email", "API_Gateway"),
    ("API_Gateway", "Model_Serving"),
    ("Model_Serving", "Decision"),
    ("Training", "Model_Registry"),
    ("Model_Registry", "Model_Serving"),
)
KNOBS = (
    Knob(
        "model",
        "Model",
        "logistic",
        "Logistic regression is fast and calibrated; gradient boosting finds interactions, at more "
        "training time.",
        ("Model_Serving", "Training"),
        options=("logistic", "gbdt"),
    ),
    Knob(
        "threshold",
        "Spam threshold",
        0.5,
        "A higher threshold sends fewer messages to spam: fewer good ones lost, more spam let through.",
        ("Decision",),
        low=0.1,
        high=0.9,
        step=0.05,
    ),
    Knob(
        "spam_share",
        "World: share of spam",
        0.3,
        "How much of the mail is spam in the simulated world.",
        ("Email",),
        low=0.1,
        high=0.5,
        step=0.05,
        world=True,
    ),
)
METRICS = (
    MetricSpec("precision", "Precision", "quality", ".3f", "Share of messages sent to spam that were spam."),
    MetricSpec("recall", "Recall", "quality", ".3f", "Share of spam sent to the spam folder."),
    MetricSpec(
        "average_precision", "Average precision", "quality", ".3f", "Area under the precision-recall curve."
    ),
    *latency_metrics("one message: parse, score, decide"),
    MetricSpec(
        "train_s", "Training time", "system", ".2f", "Time to fit the model.", False, "s", deterministic=False
    ),
    MetricSpec("messages", "Messages", "data", ",.0f", "Messages in the test set."),
)
LESSONS = (
    Lesson(
        "threshold_precision",
        "A higher threshold makes what lands in the spam folder more surely spam",
        change={"threshold": 0.8},
        metric="precision",
        direction="up",
        at_least=0.01,
    ),
    Lesson(
        "threshold_recall",
        "and lets more spam through",
        change={"threshold": 0.8},
        metric="recall",
        direction="down",
        at_least=0.01,
    ),
)


def system() -> System:
    from . import pipeline

    return System(run=pipeline.run)


STUDY = Study(
    id="_template",
    title="Email spam filter",
    question="Design an email spam filter",
    summary="A classifier over a message's features and a threshold that decides the spam folder.",
    stages=STAGES,
    flow=FLOW,
    knobs=KNOBS,
    metrics=METRICS,
    system=system,
    upload=Upload(load_emails, FORMAT),
    headline=("precision", "recall", "average_precision", "latency_p99_ms"),
    quality_metric="average_precision",
    cost_metric="latency_p50_ms",
    content_dir=Path(__file__).parent / "content",
    lessons=LESSONS,
)
