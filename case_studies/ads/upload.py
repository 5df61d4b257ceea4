"""Bring-your-own impressions in the Criteo display-ads format: tab-separated, no header, one line per
impression: the click (0/1), 13 integer features, 26 categorical features (hashed strings); any
feature may be empty. Lines are in time order, as in Criteo's files: the lab cuts them into seven
equal "days" and tests on the last."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from case_studies.ads import features as f
from case_studies.ads.source import CountColumns
from engine.data import DataError

INTS, CATS = 13, 26
DAYS = 7
MIN_CLICKS = 20
FORMAT = (
    "Criteo display-ads format: tab-separated, no header, one impression per line in time order: the "
    "click (0 or 1), 13 integer features, then 26 categorical features (any text); empty fields are "
    "missing values. The lines are cut into 7 equal days; the last is the test day."
)


@dataclass(eq=False)
class CriteoData:
    clicks: np.ndarray
    ints: np.ndarray  # (rows, 13) float, NaN where missing
    cats: np.ndarray  # (rows, 26) int codes, one code per column for "missing"
    token: str
    summary: str
    _store: f.CountStore | None = field(default=None, init=False)

    auction = False
    days = DAYS
    test_day = DAYS - 1
    limits = {
        "crosses": (False, "an uploaded file's fields have no known interactions to cross"),
        "position": (False, "the Criteo format has no slot position"),
    }

    @property
    def y(self) -> np.ndarray:
        return self.clicks

    @property
    def day(self) -> np.ndarray:
        return (np.arange(self.clicks.size) * DAYS) // self.clicks.size

    def ids(self, crosses: bool, position: bool, pairs=None) -> dict[str, np.ndarray]:
        """The integer features in log-squared bins (the Criteo winners' transform), the categories
        as they are; crosses and position do not apply to a file."""
        return {
            **{f"I{j + 1}": _log_bins(self.ints[:, j]) for j in range(INTS)},
            **{f"C{j + 1}": self.cats[:, j] for j in range(CATS)},
        }

    def counts(self, position: bool, pairs=None) -> CountColumns:
        if self._store is None:
            keys = {f"C{j + 1}": self.cats[:, j] for j in range(CATS)}
            self._store = f.CountStore.build(keys, self.day, self.clicks, DAYS)
        columns = self._store.features({f"C{j + 1}": self.cats[:, j] for j in range(CATS)}, self.day)
        return CountColumns(np.column_stack([*columns, self.ints]).astype(np.float32), [])


def _log_bins(values: np.ndarray) -> np.ndarray:
    """v for v <= 2, else floor(log(v)^2) + 3; missing is its own bin."""
    out = np.full(values.size, -1_000, np.int64)
    known = ~np.isnan(values)
    v = values[known]
    big = v > 2
    out[known] = np.where(big, np.floor(np.log(np.where(big, v, 3)) ** 2) + 3, v).astype(np.int64)
    return out


def load_criteo(raw: bytes) -> CriteoData:
    if not raw.strip():
        raise DataError("The file is empty.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("This file is not UTF-8 text.") from None
    lines = text.splitlines()
    problems = [
        f"line {i}: {len(line.split(chr(9)))} tab-separated fields, expected {1 + INTS + CATS}"
        for i, line in enumerate(lines, start=1)
        if line.strip() and len(line.split("\t")) != 1 + INTS + CATS
    ]
    _raise(problems, "Is it tab-separated, with the click, 13 integers and 26 categories per line?")
    frame = pd.read_csv(io.StringIO(text), sep="\t", header=None, dtype=str, keep_default_na=False,
                        skip_blank_lines=True)  # fmt: skip
    label = frame[0].str.strip()
    problems = [
        f"line {i + 1}: the click is {v!r}, not 0 or 1" for i, v in label.items() if v not in ("0", "1")
    ]
    _raise(problems)
    ints = frame[list(range(1, 1 + INTS))].apply(lambda c: pd.to_numeric(c.str.strip(), errors="coerce"))
    bad = ints.isna() & (frame[list(range(1, 1 + INTS))].apply(lambda c: c.str.strip()) != "")
    problems = [
        f"line {row + 1}, integer feature I{column + 1}: {frame.at[row, column + 1]!r} is not a number"
        for row, column in zip(*np.nonzero(bad.to_numpy()), strict=True)
    ]
    _raise(problems)
    clicks = label.to_numpy() == "1"
    if clicks.sum() < MIN_CLICKS or (~clicks).sum() < MIN_CLICKS:
        raise DataError(
            f"At least {MIN_CLICKS} clicks and {MIN_CLICKS} non-clicks are needed to train and test."
        )
    if clicks.size < DAYS * 100:
        raise DataError(f"At least {DAYS * 100} lines are needed: the lab cuts them into {DAYS} days.")
    cats = np.column_stack(
        [pd.factorize(frame[c].str.strip().replace("", None), use_na_sentinel=True)[0] for c in
         range(1 + INTS, 1 + INTS + CATS)]
    )  # fmt: skip
    cats = np.where(cats < 0, cats.max(axis=0) + 1, cats)  # "missing" is a category of its own
    return CriteoData(
        clicks,
        ints.to_numpy(float),
        cats,
        hashlib.sha256(raw).hexdigest()[:16],
        f"{clicks.size:,} impressions, CTR {clicks.mean():.2%}",
    )


def _raise(problems: list[str], hint: str = "") -> None:
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise DataError("; ".join(problems[:3]) + more + "." + (f" {hint}" if hint else ""))
