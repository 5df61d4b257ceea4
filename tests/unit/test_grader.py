"""The grader against hand-graded answers (tests/data/graded), and against answers built to game it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine.interview import load_script
from engine.interview.agreement import measure, model_answers
from engine.interview.scoring import evidence, grade, score

GRADED = Path(__file__).parents[1] / "data" / "graded"
STUDIES = [s.id for s in engine.list_studies()]


def test_every_study_has_hand_graded_answers():
    missing = [s for s in STUDIES if not (GRADED / f"{s}.json").exists()]
    assert not missing, f"no hand-graded answers in {GRADED} for {missing}"


@pytest.fixture(scope="module", params=STUDIES)
def agreement(request):
    if not (GRADED / f"{request.param}.json").exists():
        pytest.skip(f"{request.param} has no hand-graded answers (see the test above)")
    return measure(request.param)


def test_the_grader_ranks_answers_as_the_graders_did(agreement):
    assert agreement.spearman >= 0.8, agreement
    means = agreement.mean_by_label
    assert means["strong"] > means["adequate"] > means["weak"] >= means["off_topic"]
    assert means["strong"] >= 3.0 and means["off_topic"] <= 0.5


def test_answers_built_to_game_the_grader_score_low(agreement):
    scores = agreement.adversarial
    for kind in ("keyword_lists", "pasted_terms", "questions_only", "negated"):
        assert scores[kind] <= 1.0, (kind, scores)
    assert scores["model_shuffled"] <= scores["model_answers"] - 1.5  # right words, wrong questions


def test_the_model_answers_score_strong_and_a_paraphrase_beats_every_gamed_answer(agreement):
    scores = agreement.adversarial
    assert scores["model_answers"] >= 3.5, scores
    # Character n-grams see a paraphrase only through the words it shares with a phrasing: a strong
    # answer in other words scores 1.0-1.6 here, short of the 2.5 aimed for (see bench/grader.py),
    # but well above anything built from the rubric's own terms.
    gamed = ("keyword_lists", "pasted_terms", "questions_only", "negated")
    assert scores["strong_paraphrase"] >= 1.0
    assert scores["strong_paraphrase"] > max(scores[k] for k in gamed) + 0.5, scores


@pytest.fixture(scope="module")
def script():
    return load_script("recommendation")


def point(script, text):
    return next(p for p in script.key_points if p.point.startswith(text))


def test_a_question_never_counts_as_evidence(script):
    cold = point(script, "Handles cold start")
    assert evidence(cold, "Should we handle cold start for new users and new videos?") is None
    assert evidence(cold, "New users get popular videos until they watch some: that is our cold start.")


@pytest.mark.parametrize(
    "sentence",
    [
        "Cold start isn't a problem worth handling here.",
        "We don't need to handle cold start for new users.",
        "I would never bother with cold start for new videos.",
    ],
)
def test_a_negated_sentence_never_counts(script, sentence):
    assert evidence(point(script, "Handles cold start"), sentence) is None


def test_a_bare_list_of_terms_is_not_a_claim(script):
    cold = point(script, "Handles cold start")
    assert evidence(cold, "cold start. new users. fallback. popularity.") is None
    assert evidence(cold, "cold start new users fallback popularity exploration two-tower") is None


def test_the_quoted_evidence_is_the_sentence_that_makes_the_point(script):
    text = (
        "Questions first: what is the business goal, and should we handle cold start? "
        "We will rank videos with a learned model. "
        "For cold start, brand-new users get the popular videos of their region until they watch some."
    )
    quoted = evidence(point(script, "Handles cold start"), text)
    assert quoted.startswith("For cold start, brand-new users")


def test_two_minutes_of_a_thirty_minute_interview_cannot_be_strong(script):
    model = model_answers(script)
    scores = score(script, model, "senior")
    quick = grade(script, scores, model, seconds=120, minutes=30)
    full = grade(script, scores, model, seconds=28 * 60, minutes=30)
    assert quick.value < 1.5 and quick.signal == "very weak" and "2 of 30 minutes" in quick.reason
    assert full.value > quick.value


def test_headless_scoring_prints_scores_with_their_evidence(tmp_path):
    answers = {"requirements": "The business goal is long-term engagement, measured as watch time."}
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    command = [sys.executable, "-m", "engine", "interview", "score", "recommendation", "--answers", str(path)]
    out = subprocess.run([*command, "--json"], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    requirements = next(d for d in result["dimensions"] if d["dimension"] == "requirements")
    assert requirements["covered"][0]["evidence"] == answers["requirements"]
    assert result["hire_signal"] == "very weak" and "1 of 7 steps answered" in result["reason"]
    path.write_text('{"nonsense": "x"}')
    bad = subprocess.run(command, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown answer slots nonsense" in bad.stderr


def test_the_interviewer_answers_from_the_live_world_and_says_when_out_of_scope(script):
    from engine.interview.clarify import OUT_OF_SCOPE, answer

    def reply(scale):
        reference = engine.run("recommendation", {"scale": scale}, seed=0)
        return answer(script, "How many users and videos do we have?", reference, lambda c: reference)

    small, large = reply(1), reply(2)
    assert small[0] == large[0] == "scale"
    users = engine.run("recommendation", {"scale": 2}, seed=0).metrics["users"]
    assert f"{users:,.0f} users" in large[1] and small[1] != large[1]
    reference = engine.run("recommendation", {}, seed=0)
    assert answer(script, "What colour is the logo?", reference, lambda c: reference) == (None, OUT_OF_SCOPE)


def test_asking_the_right_clarifying_question_earns_its_point(script):
    asks = "Asks about the scale of users, videos and traffic"
    through_the_box = score(script, {"clarify:001": "How many users and videos do we have?"}, "senior")
    in_the_answer = score(script, {"requirements": "How many users and videos do we have?"}, "senior")
    assert asks in through_the_box[0].covered
    assert asks not in in_the_answer[0].covered  # a question in the answer is not a claim


def test_a_diversity_choice_shows_the_diversity_it_buys_not_only_what_it_costs(script):
    from engine.interview.design import effects

    choice = script.choice("diversity")
    chosen = engine.run("recommendation", {"diversity": 0.5}, seed=0)
    reference = engine.run("recommendation", {}, seed=0)
    found = {e.label: e for e in effects(script, chosen, reference, choice.shows)}
    assert found["nDCG@10"].better is False  # relevance given up...
    assert found["Intra-list diversity"].better is True  # ...for variety, now shown next to it
    assert "Simulated online CTR" in found


def test_a_follow_up_probes_the_point_the_last_answer_missed_and_its_answer_counts_there(script):
    from engine.interview.followups import probe, probe_by_id

    answers = {"requirements": "The business goal is long-term engagement, measured as watch time."}
    asked = probe(script, "framing", answers, "senior")
    missing = [s for s in score(script, answers, "senior") if s.dimension == "requirements"][0].missed[0]
    assert asked.step == "framing" and missing.point[1:] in asked.ask
    assert probe_by_id(script, asked.id) == asked  # the same question after a reload
    assert probe(script, "framing", {}, "senior") is None  # nothing written: nothing to dig into
    assert probe(script, "requirements", answers, "senior") is None  # the first step has no "before"

    reply = {
        **answers,
        f"followup:{asked.id}": "I assume 50 million daily users and 5,000 requests per second.",
    }
    before = next(s for s in score(script, answers, "senior") if s.dimension == "requirements")
    after = next(s for s in score(script, reply, "senior") if s.dimension == "requirements")
    assert after.auto > before.auto


def test_a_hint_is_skipped_when_the_answer_already_makes_its_point(script):
    from engine.interview.hints import next_hint

    data = script.step("data")
    assert next_hint(script, data, "", [], "senior") == 0
    assert next_hint(script, data, "", [0], "senior") == 1
    covered = "I split the log by time, training on earlier weeks and testing on the last, to avoid leakage."
    assert next_hint(script, data, covered, [0], "senior") is None  # the split hint has nothing to add
