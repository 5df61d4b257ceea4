"""Bring-your-own messages: a CSV of features and a 0/1 label, one row per message."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from engine.data import Column, DataError, read_table

FEATURES = ("links", "capitals", "exclamations", "known_sender")
COLUMNS = (*(Column(name, "number") for name in FEATURES), Column("is_spam", "flag"))
FORMAT = "CSV with a header `links,capitals,exclamations,known_sender,is_spam`: one row per message."


@dataclass(frozen=True)
class Emails:
    x: np.ndarray
    y: np.ndarray
    token: str
    summary: str


def load_emails(raw: bytes) -> Emails:
    table = read_table(raw, COLUMNS)
    y = table["is_spam"].to_numpy(bool)
    if y.sum() < 10 or (~y).sum() < 10:
        raise DataError("At least 10 spam and 10 other messages are needed to train and test.")
    x = table[list(FEATURES)].to_numpy(float)
    return Emails(x, y, hashlib.sha256(raw).hexdigest()[:16], f"{len(y):,} messages, {y.mean():.0%} spam")
