"""Tokenising, and query understanding: spelling correction against the index's vocabulary and
synonym expansion from a curated table."""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files

TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits in any script ("ünïcödé", "手机")
STOP_WORDS = frozenset(
    ["a", "an", "and", "the", "for", "of", "in", "on", "with", "to", "is", "are", "by", "or", "at", "from"]
)


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOP_WORDS]


# pyspellchecker's English word counts (from OpenSubtitles) start at 50, where most entries are names
# and slips ("redd", "wite"); from 100 on, 47,267 words are ordinary ones.
ORDINARY_WORD_COUNT = 100
MIN_CORRECTED = 3  # letters: a shorter token is as likely another word as a slip


@functools.cache
def english_words() -> frozenset[str]:
    """Ordinary English words, from the dictionary pyspellchecker ships. Read from its file rather than
    through SpellChecker, which also indexes them for its own corrections: 0.2 s instead of 0.65."""
    raw = (files("spellchecker") / "resources" / "en.json.gz").read_bytes()
    counts = json.loads(gzip.decompress(raw))
    return frozenset(word for word, count in counts.items() if count >= ORDINARY_WORD_COUNT)


@dataclass
class QueryUnderstanding:
    vocabulary: frozenset[str]
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    document_frequency: Mapping[str, int] = field(default_factory=dict)
    _one_delete: dict[str, list[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Words one edit apart share a form with one letter deleted (SymSpell's symmetric deletes):
        # a lookup costs a few dictionary probes whatever the vocabulary's size, where difflib's
        # scan of a 30,000-word vocabulary took 9-27 ms per unknown word.
        self._one_delete = defaultdict(list)
        for word in self.vocabulary:
            if not _has_digit(word):
                for form in _deletes(word) | {word}:
                    self._one_delete[form].append(word)
        english_words()  # loaded now, not by the first query with a word the index lacks

    def correct(self, tokens: list[str]) -> list[str]:
        """Replace each misspelt word by the most common index word one edit away from it. A word
        the index knows, an English word it lacks ("cheap", "bold"), a code with digits and a token
        of one or two letters are left alone: correcting them swaps a word the shopper meant for one
        they did not ("b" is one edit from the "t" of "t shirt")."""
        return [self._corrected(token) for token in tokens]

    def _corrected(self, token: str) -> str:
        known = token in self.vocabulary or token in english_words()
        if known or len(token) < MIN_CORRECTED or _has_digit(token):
            return token
        near = {word for form in _deletes(token) | {token} for word in self._one_delete.get(form, ())}
        near = {word for word in near if _one_edit_apart(token, word)}
        return min(near, key=lambda w: (-self.document_frequency.get(w, 0), w)) if near else token

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


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit_apart(typed: str, word: str) -> bool:
    """One letter dropped, added, changed, or two neighbours swapped (Damerau's single errors)."""
    if abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) != len(word):
        return True  # they share a one-delete form and differ in length by one: an insertion
    diff = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
    return len(diff) == 1 or (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and typed[diff[0]] == word[diff[1]]
        and typed[diff[1]] == word[diff[0]]
    )
