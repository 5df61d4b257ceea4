"""Mock interview engine: scripts, rubric scoring, follow-ups, the live design, plan and export."""

import pytest

import engine
from engine.content import render
from engine.interview import LEVELS, has_script, load_script
from engine.interview.design import alternatives, design_config, effects, sentence
from engine.interview.export import literal, to_markdown
from engine.interview.followups import triggered
from engine.interview.plan import DAY, Review, plan, reschedule
from engine.interview.scoring import MAX_SCORE, overall, score, tokens
from engine.interview.store import Attempt

STRONG = {
    "requirements": "The business goal is engagement: watch time, not clickbait. I assume 100M users and "
    "20k requests per second, with a latency budget of 200 ms. Feedback is implicit watches.",
    "framing": "It is a two-stage system: candidate generation, then a ranking model (learning to rank). "
    "The baseline is popularity, which is what we must beat.",
    "data": "Train on the watch log: watches are positives, with negative sampling from unwatched "
    "videos. Split by time to avoid leakage; a feature store keeps training-serving skew away. "
    "Exposure bias matters.",
    "model": "ALS matrix factorisation versus item-kNN, then a gradient boosted ranker, because it uses "
    "richer features. Cold start for new users falls back to popularity. The ranker gains 0.05 nDCG "
    "at the cost of 3 ms.",
    "evaluation": "nDCG@10 of 0.45 offline, coverage and diversity, then an A/B test on watch time with "
    "enough sample size; offline and online metrics can disagree.",
    "serving": "We batch precompute candidates and do the ranking online, with ANN over an HNSW index. "
    "A new model goes out as a canary, and a cache is the fallback when a stage times out.",
    "monitoring": "I monitor latency and errors, and drift with PSI; we retrain daily and watch CTR. "
    "Against the feedback loop we reserve exploration traffic, which protects revenue and user trust.",
}
WEAK = {step: "I would use a neural network and deploy it." for step in STRONG}


@pytest.fixture(scope="module")
def script():
    return load_script("recommendation")


@pytest.mark.parametrize("study", [s.id for s in engine.list_studies()])
def test_every_study_brings_an_interview_script_whose_model_answers_render_live(study):
    assert has_script(engine.get_study(study))
    script = load_script(study)
    assert [s.id for s in script.steps] == [
        "requirements",
        "framing",
        "data",
        "model",
        "evaluation",
        "serving",
        "monitoring",
    ]
    assert all(s.prompt and len(s.hints) >= 2 and s.model_answer for s in script.steps)
    assert any(script.is_knob(c.id) for c in script.choices())
    assert {p.dimension for p in script.key_points} == set(script.dimensions)
    reference = engine.run(study, {}, 0)
    for step in script.steps:  # a placeholder naming an unknown metric raises KeyError
        text = render(step.model_answer, script.study, reference, lambda c: engine.run(study, c, 0))
        assert "{{" not in text


@pytest.mark.parametrize("study", [s.id for s in engine.list_studies()])
def test_the_model_answer_scores_strong_and_a_vague_answer_weak(study):
    script = load_script(study)
    reference = engine.run(study, {}, 0)
    model = {
        s.id: render(s.model_answer, script.study, reference, lambda c: engine.run(study, c, 0))
        for s in script.steps
    }
    vague = {s.id: "I would use a neural network and deploy it." for s in script.steps}
    strong, weak = score(script, model, "senior"), score(script, vague, "senior")
    assert overall(strong) >= 2.5 > 1.0 > overall(weak)
    for good, bad in zip(strong, weak, strict=True):
        if good.dimension in {s.id for s in script.steps}:
            assert good.auto > bad.auto, good.dimension


def test_a_strong_answer_beats_a_weak_one_on_every_dimension(script):
    strong, weak = score(script, STRONG, "senior"), score(script, WEAK, "senior")
    for good, bad in zip(strong, weak, strict=True):
        assert good.auto > bad.auto, good.dimension
        assert good.auto >= 2.0, good.dimension


def test_empty_answers_score_zero_even_with_a_generous_self_assessment(script):
    generous = {d: MAX_SCORE for d in script.dimensions}
    scores = score(script, {}, "junior", self_assessment=generous)
    assert all(s.auto == 0 and s.final == 0 for s in scores)
    assert overall(scores) == 0
    assert all(len(s.missed) == len(s.expected) > 0 for s in scores)


def test_higher_levels_expect_more_points(script):
    counts = [len(script.expected(level)) for level in LEVELS]
    assert counts[0] < counts[1] < counts[2]
    # A junior-level answer meets the junior bar better than the staff bar.
    junior = {"requirements": "The business goal is engagement. How many users and what latency?"}
    at = {level: score(script, junior, level)[0].auto for level in LEVELS}
    assert at["junior"] > at["senior"] > at["staff"]


def test_hints_cost_points_on_their_step_only(script):
    plain = {s.dimension: s.auto for s in score(script, STRONG, "senior")}
    hinted = {s.dimension: s.auto for s in score(script, STRONG, "senior", hints={"model": 2})}
    assert hinted["model"] == pytest.approx(plain["model"] - 1.0)
    assert {d: v for d, v in hinted.items() if d != "model"} == {
        d: v for d, v in plain.items() if d != "model"
    }


def test_self_assessment_moves_the_score_within_one_point_of_the_text(script):
    auto = score(script, STRONG, "senior")[0].auto
    low = score(script, STRONG, "senior", self_assessment={"requirements": 1})[0].final
    high = score(script, STRONG, "senior", self_assessment={"requirements": 4})[0].final
    assert low < auto
    assert high <= (auto + min(4, auto + 1)) / 2


def test_coverage_quotes_the_sentence_that_earned_the_point(script):
    scores = score(script, {"evaluation": "We ship it. Then an A/B test on watch time decides."}, "junior")
    evaluation = next(s for s in scores if s.dimension == "evaluation")
    assert "Then an A/B test on watch time decides." in evaluation.covered.values()


def test_tokens_fold_plurals_and_keep_technical_words_whole():
    assert tokens("Metrics: nDCG@10, A/B tests, p99 latencies, trade-offs") == [
        "metric",
        "ndcg@10",
        "a/b",
        "test",
        "p99",
        "latency",
        "trade-off",
    ]


def test_followups_react_to_choices_and_to_what_was_never_said(script):
    asked = {f.id for f in triggered(script, "serving", {}, {"serving_mode": "online"})}
    assert "spike" in asked and "stale" not in asked
    assert "stale" in {f.id for f in triggered(script, "serving", {}, {"serving_mode": "batch"})}
    assert "no_metric" in {f.id for f in triggered(script, "evaluation", {"model": "ALS."}, {})}
    said = {"model": "We track nDCG@10 and run an A/B test."}
    assert "no_metric" not in {f.id for f in triggered(script, "evaluation", said, {})}
    # Only earlier steps count: what is being typed in this step does not make questions flicker.
    typing = {"evaluation": "nDCG@10"}
    assert "no_metric" in {f.id for f in triggered(script, "evaluation", typing, {})}


def test_a_choice_is_measured_against_the_reference_design(script):
    design = design_config(script, {"ranker": "none", "serving_mode": "batch"})
    assert design["ranker"] == "none" and "serving_mode" not in design
    chosen = engine.run("recommendation", design, 0)
    reference = engine.run("recommendation", {**design, "ranker": "gbdt"}, 0)
    quality, cost = effects(script, chosen, reference)
    assert quality.label == "nDCG@10" and quality.delta.startswith("-") and quality.better is False
    assert cost.delta.startswith("-") and cost.better is True  # no ranker: cheaper
    text = sentence(script.choice("ranker"), "none", "gbdt", [quality, cost])
    assert text.startswith("Against gradient-boosted trees (the reference): nDCG@10 -0.")


def test_alternatives_run_every_option_of_every_live_choice(script):
    runs = []

    def run(config):
        runs.append(config)
        return engine.run("recommendation", config, 0)

    rows = alternatives(script, {"ranker": "none"}, run)
    live = [c for c in script.choices() if script.is_knob(c.id)]
    assert len(rows) == sum(len(c.options) for c in live)
    taken = [r for r in rows if r.taken]
    assert len(taken) == len(live)  # one taken option per choice: the candidate's or the reference's
    assert all(r.result.config["ranker"] == "none" for r in rows if r.choice.id != "ranker")


def test_the_practice_plan_brings_weak_dimensions_back_first():
    now = 1_000_000.0
    first = reschedule([], "fraud", {"data": 1.0, "model": 3.5}, now)
    by = {r.dimension: r for r in first}
    assert by["data"].interval_days == 1 and by["model"].interval_days > 1
    later = now + 3 * DAY
    assert [r.dimension for r in plan(first, later)] == ["data", "model"]
    again = {r.dimension: r for r in reschedule(first, "fraud", {"model": 3.5}, later)}
    assert again["model"].interval_days > by["model"].interval_days  # holding up: the gap grows
    weak_now = reschedule(first, "fraud", {"model": 1.0}, later)[0]
    assert weak_now.interval_days == 1  # a lapse starts over
    due = [
        Review("a", "x", later - 1, 3.0, 1),
        Review("b", "y", later - 1, 1.0, 1),
        Review("c", "z", later + DAY, 0.0, 1),
    ]
    assert [r.study for r in plan(due, later)] == ["b", "a", "c"]


def test_the_export_keeps_the_candidates_text_literal(script):
    attempt = Attempt("abc", "recommendation", "senior", 45, 0, 0.0, 6, 60.0)
    attempt.answers = {"model": "Use ``` fences <script>alert(1)</script>", "followup:spike": ""}
    attempt.seconds = {"model": 125}
    text = to_markdown(script, attempt, score(script, attempt.answers, "senior"))
    assert literal(attempt.answers["model"]) in text
    assert "````text\nUse ``` fences" in text  # the fence outgrows the candidate's own backticks
    assert "**Follow-up:** Traffic spikes 10x" in text
    assert "Time 2:05 of a 12:00 budget" in text
