"""Tokenising, and query understanding: spelling correction against the index's vocabulary and
synonym expansion from a curated table."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits in any script ("ünïcödé", "手机")
STOP_WORDS = frozenset(
    ["a", "an", "and", "the", "for", "of", "in", "on", "with", "to", "is", "are", "by", "or", "at", "from"]
)
SPELLING_CUTOFF = 0.75  # difflib similarity needed to replace an unknown word


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOP_WORDS]


@dataclass
class QueryUnderstanding:
    vocabulary: frozenset[str]
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _words: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._words = sorted(self.vocabulary)

    def correct(self, tokens: list[str]) -> list[str]:
        """Replace words the index has never seen by the closest word it has, if one is close."""
        fixed = []
        for token in tokens:
            if token in self.vocabulary or token.isdigit():
                fixed.append(token)
                continue
            close = difflib.get_close_matches(token, self._words, n=1, cutoff=SPELLING_CUTOFF)
            fixed.append(close[0] if close else token)
        return fixed

    def expand(self, tokens: list[str]) -> list[str]:
        """Append the synonyms of every phrase in the table that the query contains."""
        text = f" {' '.join(tokens)} "
        extra = [
            word
            for phrase, others in self.synonyms.items()
            if f" {phrase} " in text
            for other in others
            for word in tokenize(other)
        ]
        return tokens + [w for w in dict.fromkeys(extra) if w not in tokens]

    def understand(self, text: str, spelling: bool, synonyms: bool) -> list[str]:
        tokens = tokenize(text)
        if spelling:
            tokens = self.correct(tokens)
        if synonyms:
            tokens = self.expand(tokens)
        return tokens
