"""Rubric scoring: which key points a candidate's text makes, and a 0–4 score per dimension.

Coverage stays transparent, so the feedback can quote the sentence that earned each point, but it
reads sentences, not a bag of words:
- evidence is a claim: a declarative sentence with the function words of real prose, so questions
  and bare lists of terms earn nothing;
- a term or pattern preceded by a negation in its clause ("we don't need a baseline") does not count;
- paraphrases count through character n-gram similarity to the point's wording and its phrasings;
- some points need company (`nearby`): a reason must come with a cost, a quoted number with a metric;
- each point quotes the sentence that makes it best, and one sentence carries at most three of the
  steps' points (trade-offs and numbers are how a sentence argues, so they come on top)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from engine.interview.script import KeyPoint, Script

MAX_SCORE = 4.0
HINT_COST = 0.5  # points off the hinted step's dimension, per hint
SELF_MARGIN = 1.0  # a self-assessment counts up to this far above what the text shows
POINTS_PER_SENTENCE = 3  # of a step's own points; how it argues and quantifies is not capped
CROSS_CUTTING = frozenset({"tradeoffs", "numbers"})
SIMILAR = 0.3  # cosine of character n-grams that counts as a paraphrase (set by bench/grader.py)
# Words with slashes, @, dashes or decimal points stay whole: "a/b", "ndcg@10", "trade-off", "0.45".
TOKEN_PATTERN = r"(?u)[\w@]+(?:[/.\-][\w@]+)*"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# Clauses end at punctuation, and start at a connector, which stays with its clause: "because" is
# itself a term ("justifies a choice with a reason").
CLAUSE_END = re.compile(
    r"[,;:()]|(?=\b(?:but|while|whereas|although|though|instead|because|since|so that)\b)", re.IGNORECASE
)
NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "without",
        "nor",
        "neither",
        "none",
        "cannot",
        "nothing",
        "unnecessary",
        "overkill",
        "pointless",
        "needless",
    ]
)
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "we",
        "you",
        "it",
        "they",
        "this",
        "that",
        "these",
        "those",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "will",
        "would",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "as",
        "and",
        "or",
        "so",
        "if",
        "then",
        "than",
        "because",
        "since",
        "which",
        "who",
        "what",
        "when",
        "where",
        "how",
        "about",
        "into",
        "over",
        "under",
        "after",
        "before",
        "each",
        "every",
        "our",
        "my",
        "its",
        "their",
        "there",
        "here",
        "has",
        "have",
        "had",
        "not",
        "no",
    ]
)
MIN_CLAIM_WORDS = 4
MIN_FUNCTION_WORDS = 2


@cache
def _tokenizer():
    return CountVectorizer(token_pattern=TOKEN_PATTERN, lowercase=True).build_analyzer()


def _fold(token: str) -> str:
    """Plural to singular, cheaply: 'metrics' -> 'metric', 'latencies' -> 'latency'."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    return list(_words(text))


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    """Folded word tokens; "don't" reads as "do not", so negations are one word to look for."""
    return tuple(_fold(t) for t in _tokenizer()(re.sub(r"n['’]t\b", " not", text)))


def _term_positions(term: str, words) -> list[int]:
    """Where `term` (several words; `*` for a prefix) starts in `words`."""
    wanted = _words(term.rstrip("*"))
    if not wanted:
        return []
    prefix = term.endswith("*")
    last = len(wanted) - 1
    found = []
    for start in range(len(words) - last):
        window = words[start : start + len(wanted)]
        tail = window[last]
        if tuple(window[:last]) == wanted[:last] and (
            tail.startswith(wanted[last]) if prefix else tail == wanted[last]
        ):
            found.append(start)
    return found


def mentions(text: str, terms: Iterable[str]) -> bool:
    """Whether `text` uses any of `terms` at all (follow-up triggers: a topic raised or not)."""
    words = tokens(text)
    return any(_term_positions(term, words) for term in terms)


def is_claim(sentence: str) -> bool:
    """A declarative sentence of real prose: not a question, not a fragment or a list of terms."""
    sentence = sentence.strip()
    if not sentence or sentence.endswith("?"):
        return False
    words = tokens(sentence)
    return len(words) >= MIN_CLAIM_WORDS and sum(w in FUNCTION_WORDS for w in words) >= MIN_FUNCTION_WORDS


def _negated(clause_words) -> bool:
    """A clause that denies what it names: "we don't need a baseline", "drift isn't a problem"."""
    return any(w in NEGATIONS for w in clause_words)


@lru_cache(maxsize=4096)
def _clauses(sentence: str) -> tuple[tuple[str, ...], ...]:
    return tuple(_words(part) for part in CLAUSE_END.split(sentence) if part and part.strip())


def _term_strength(point: KeyPoint, sentence: str) -> float:
    """How many of the point's terms the sentence uses un-negated (0 when none)."""
    hits = 0
    for term in point.terms:
        for words in _clauses(sentence):
            if _term_positions(term, words) and not _negated(words):
                hits += 1
                break
    return float(hits)


def _pattern_strength(point: KeyPoint, sentence: str) -> float:
    if not point.pattern:
        return 0.0
    for clause in CLAUSE_END.split(sentence):
        if not clause:
            continue
        match = re.search(point.pattern, clause, flags=re.IGNORECASE)
        if match and not _negated(_words(clause)):
            return 1.0
    return 0.0


def _similarities(points: list[KeyPoint], sentences: list[str]) -> dict[tuple[int, int], float]:
    """Best cosine between each sentence and each point's wording or phrasings, on character
    n-grams (robust to inflection and word order). Negated sentences are scored 0 unless the
    phrasing itself is negative ("offline wins don't always hold online")."""
    references = [(i, text) for i, p in enumerate(points) for text in (p.point, *p.phrasings)]
    if not references or not sentences:
        return {}
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectoriser.fit_transform([t for _, t in references] + sentences)
    cosine = cosine_similarity(matrix[len(references) :], matrix[: len(references)])
    best: dict[tuple[int, int], float] = {}
    for s, sentence in enumerate(sentences):
        negative = any(w in NEGATIONS for w in tokens(sentence))
        for r, (point_index, text) in enumerate(references):
            if negative and not any(w in NEGATIONS for w in tokens(text)):
                continue
            key = (point_index, s)
            best[key] = max(best.get(key, 0.0), float(cosine[s, r]))
    return best


# A line break inside a paragraph is only wrapping; a blank line or a new bullet starts a sentence.
WRAPPED_LINE = re.compile(r"\n(?!\s*\n|\s*(?:[-*•]|\d+[.)])\s)")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(WRAPPED_LINE.sub(" ", text)) if s and s.strip()]


def covered_points(points: list[KeyPoint], text: str) -> dict[str, str]:
    """{point: the sentence that makes it best} for the points `text` makes."""
    sentences = split_sentences(text)
    claims = [i for i, s in enumerate(sentences) if is_claim(s)]
    similar = _similarities(points, [sentences[i] for i in claims])
    candidates = []
    for p_index, point in enumerate(points):
        for c_index, s_index in enumerate(claims):
            sentence = sentences[s_index]
            strength = _term_strength(point, sentence) + _pattern_strength(point, sentence)
            cosine = similar.get((p_index, c_index), 0.0)
            if cosine >= SIMILAR:
                strength += 1.0 + cosine
            if strength <= 0 or not _has_company(point, sentences, s_index):
                continue
            candidates.append((strength, -s_index, point.point, s_index))
    by_name = {p.point: p for p in points}
    covered: dict[str, str] = {}
    used: dict[int, int] = {}
    for _, _, point, s_index in sorted(candidates, reverse=True):
        cross_cutting = by_name[point].dimension in CROSS_CUTTING  # a property of the sentence
        if point in covered or (not cross_cutting and used.get(s_index, 0) >= POINTS_PER_SENTENCE):
            continue
        covered[point] = sentences[s_index]
        used[s_index] = used.get(s_index, 0) + (not cross_cutting)
    return covered


def _has_company(point: KeyPoint, sentences: list[str], index: int) -> bool:
    if not point.nearby:
        return True
    around = " ".join(sentences[index : index + 2])
    return mentions(around, point.nearby)


def evidence(point: KeyPoint, text: str) -> str | None:
    """The sentence of `text` that makes `point` best, or None."""
    return covered_points([point], text).get(point.point)


@dataclass
class DimensionScore:
    dimension: str
    title: str
    expected: list[KeyPoint]
    covered: dict[str, str]  # point -> the sentence that covered it
    hints: int
    auto: float
    self_score: float | None = None
    missed: list[KeyPoint] = field(default_factory=list)

    @property
    def final(self) -> float:
        """The text's score, averaged with the self-assessment where one was given. A
        self-assessment counts only up to SELF_MARGIN above the text: it can sharpen the score, not
        replace it, so an empty answer stays at zero."""
        if self.self_score is None:
            return self.auto
        if self.auto == 0:
            return 0.0
        return round((self.auto + min(self.self_score, self.auto + SELF_MARGIN)) / 2, 2)


def score(
    script: Script,
    answers: Mapping[str, str],
    level: str,
    hints: Mapping[str, int] | None = None,
    self_assessment: Mapping[str, float] | None = None,
) -> list[DimensionScore]:
    """Score an attempt per rubric dimension. `answers` maps answer slots (step ids and follow-ups,
    `followup:<id>`) to text. A step's points count where that step is answered (its box and its
    follow-ups): the right words under the wrong question do not answer it. Trade-offs and numbers
    count anywhere. `hints` counts hints per step."""
    hints = hints or {}
    self_assessment = self_assessment or {}
    expected = script.expected(level)
    by_step = _text_by_step(script, answers)
    everything = "\n".join(by_step.values())
    results = []
    for dimension, title in script.dimensions.items():
        wanted = [p for p in expected if p.dimension == dimension]
        covered = covered_points(wanted, by_step.get(dimension, "") if dimension in by_step else everything)
        if dimension == CLARIFYING_DIMENSION:
            covered.update(_asked(wanted, covered, answers))
        hint_count = hints.get(dimension, 0)
        raw = MAX_SCORE * len(covered) / len(wanted) if wanted else 0.0
        auto = round(max(0.0, raw - HINT_COST * hint_count), 2)
        results.append(
            DimensionScore(
                dimension,
                title,
                wanted,
                covered,
                hint_count,
                auto,
                self_assessment.get(dimension),
                [p for p in wanted if p.point not in covered],
            )
        )
    return results


CLARIFYING_DIMENSION = "requirements"
PROBE = "probe-"  # follow-ups that dig into a point the previous answer missed


def _asked(points: list[KeyPoint], covered: dict[str, str], answers: Mapping[str, str]) -> dict[str, str]:
    """Questions put to the interviewer through the question box are evidence for the
    requirements points that are about asking ("Asks about the scale..."): there, a question is
    the right move."""
    asked = [t for slot, t in answers.items() if slot.startswith("clarify:") and t.strip()]
    found = {}
    for point in points:
        if point.point.startswith("Asks") and point.point not in covered:
            question = next((q for q in asked if mentions(q, point.terms)), None)
            if question:
                found[point.point] = question
    return found


def _text_by_step(script: Script, answers: Mapping[str, str]) -> dict[str, str]:
    """Each step's answer with its follow-ups' answers, for every step of the script."""
    step_of = {f"followup:{f.id}": f.step for f in script.followups}
    texts = {step.id: [] for step in script.steps}
    for slot, text in answers.items():
        step = step_of.get(slot, slot)
        if slot.startswith(f"followup:{PROBE}"):  # a probe's answer belongs to the step it probes
            asked_on = slot.removeprefix(f"followup:{PROBE}").rpartition("-")[0]
            order = [s.id for s in script.steps]
            step = order[order.index(asked_on) - 1] if asked_on in order[1:] else None
        if text and step in texts:
            texts[step].append(text)
    return {step: "\n".join(parts) for step, parts in texts.items()}


def overall(scores: list[DimensionScore]) -> float:
    return round(sum(s.final for s in scores) / len(scores), 2) if scores else 0.0


def verdict(value: float) -> str:
    """Interviewers' four-point scale, from the rubric research (Exponent's signals)."""
    if value >= 3.25:
        return "very strong"
    if value >= 2.5:
        return "strong"
    if value >= 1.5:
        return "weak"
    return "very weak"


MIN_TIME_SHARE = 0.25  # under a quarter of the interview's length, no design can be judged strong
MIN_STEPS_FOR_STRONG = 5  # of the seven


@dataclass(frozen=True)
class Grade:
    value: float
    signal: str
    reason: str  # the hire signal explained in one sentence


def grade(
    script: Script,
    scores: list[DimensionScore],
    answers: Mapping[str, str],
    seconds: float | None = None,
    minutes: int | None = None,
) -> Grade:
    """The overall grade as an interviewer would give it: the dimensions' mean, held down when too
    few steps were answered or too little of the time was used, with the reason spelled out."""
    value = overall(scores)
    answered = [step for step, text in _text_by_step(script, answers).items() if text.strip()]
    limits = []
    if len(answered) < MIN_STEPS_FOR_STRONG:
        value = min(value, 2.49)
        limits.append(f"only {len(answered)} of {len(script.steps)} steps answered")
    if seconds is not None and minutes and seconds < MIN_TIME_SHARE * minutes * 60:
        value = min(value, 1.49)
        limits.append(f"{seconds / 60:.0f} of {minutes} minutes used")
    ranked = sorted((s for s in scores if s.expected), key=lambda s: s.final)
    parts = [f"{len(answered)} of {len(script.steps)} steps answered"]
    if ranked:
        parts.append(f"strongest on {ranked[-1].title.lower()} ({ranked[-1].final:.1f})")
        parts.append(f"weakest on {ranked[0].title.lower()} ({ranked[0].final:.1f})")
    reason = f"{verdict(value).capitalize()}: " + ", ".join(parts)
    if limits:
        reason += "; held down because " + " and ".join(limits)
    return Grade(round(value, 2), verdict(value), reason + ".")
