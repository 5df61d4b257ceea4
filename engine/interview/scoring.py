"""Rubric scoring: which key points a candidate's text covers, and a 0–4 score per dimension.

Coverage is deliberately transparent (a key point's terms or pattern, matched on scikit-learn's word
tokens with plurals folded) so the feedback can quote the sentence that earned each point."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from sklearn.feature_extraction.text import CountVectorizer

from engine.interview.script import KeyPoint, Script

MAX_SCORE = 4.0
HINT_COST = 0.5  # points off the hinted step's dimension, per hint
SELF_MARGIN = 1.0  # a self-assessment counts up to this far above what the text shows
# Words with slashes, @, dashes or decimal points stay whole: "a/b", "ndcg@10", "trade-off", "0.45".
TOKEN_PATTERN = r"(?u)[\w@]+(?:[/.\-][\w@]+)*"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


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
    return [_fold(t) for t in _tokenizer()(text)]


def _term_matches(term: str, words: list[str]) -> bool:
    wanted = tokens(term.rstrip("*"))
    if not wanted:
        return False
    prefix = term.endswith("*")
    last = len(wanted) - 1
    for start in range(len(words) - last):
        window = words[start : start + len(wanted)]
        head_ok = window[:last] == wanted[:last]
        tail = window[last]
        if head_ok and (tail.startswith(wanted[last]) if prefix else tail == wanted[last]):
            return True
    return False


def mentions(text: str, terms: Iterable[str]) -> bool:
    words = tokens(text)
    return any(_term_matches(term, words) for term in terms)


def evidence(point: KeyPoint, text: str) -> str | None:
    """The first sentence of `text` that covers `point`, or None."""
    for sentence in SENTENCE_END.split(text):
        if sentence.strip() and _covers(point, sentence):
            return sentence.strip()
    return None


def _covers(point: KeyPoint, text: str) -> bool:
    if point.pattern and re.search(point.pattern, text, flags=re.IGNORECASE):
        return True
    return mentions(text, point.terms)


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
    """Score an attempt per rubric dimension. `answers` maps answer slots (step ids and follow-ups)
    to text; a point counts wherever in the transcript it is made. `hints` counts hints per step."""
    text = "\n".join(t for t in answers.values() if t)
    hints = hints or {}
    self_assessment = self_assessment or {}
    expected = script.expected(level)
    results = []
    for dimension, title in script.dimensions.items():
        wanted = [p for p in expected if p.dimension == dimension]
        covered = {p.point: e for p in wanted if (e := evidence(p, text)) is not None}
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
