"""Loading user-supplied tables with row-numbered, human-readable errors."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd


class DataError(ValueError):
    """Why an uploaded file cannot be used, in words a user can act on."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id" (any non-empty text), "number", "flag" (0/1, true/false) or "time"
    required: bool = True
    positive: bool = False


def read_table(raw: bytes, columns: tuple[Column, ...], max_errors: int = 3) -> pd.DataFrame:
    """Parse CSV bytes and check columns and values; line numbers count the header as line 1."""
    if not raw.strip():
        raise DataError("The file is empty.")
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError:
        raise DataError(
            'This file is not UTF-8 text: save it as UTF-8 (in Excel, "CSV UTF-8") and upload it again.'
        ) from None
    except pd.errors.ParserError as err:
        raise DataError(f"This is not a readable CSV file ({_first_line(err)}).") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c.name for c in columns if c.required and c.name not in frame.columns]
    if missing:
        expected = ",".join(c.name if c.required else f"[{c.name}]" for c in columns)
        found = ",".join(frame.columns)
        raise DataError(
            f"Missing column(s) {', '.join(missing)}. Expected a header like `{expected}`; found `{found}`."
        )
    if frame.empty:
        raise DataError("The file has a header but no data rows.")
    problems: list[str] = []
    for column in columns:
        if column.name in frame.columns:
            frame[column.name] = _check_column(frame[column.name], column, problems)
    if problems:
        shown = problems[:max_errors]
        more = f" (and {len(problems) - max_errors} more)" if len(problems) > max_errors else ""
        raise DataError("; ".join(shown) + more + ".")
    return frame[[c.name for c in columns if c.name in frame.columns]]


def _check_column(values: pd.Series, column: Column, problems: list[str]) -> pd.Series:
    text = values.str.strip()
    empty = text == ""
    for row in text.index[empty]:
        problems.append(f"line {row + 2}, column {column.name}: value is empty")
    if column.kind == "id":
        return text
    if column.kind == "flag":
        return _flags(text, empty, column, problems)
    if column.kind == "time":
        return _seconds(text, empty, column, problems)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & ~empty
    for row in text.index[bad]:
        problems.append(f"line {row + 2}, column {column.name}: {text[row]!r} is not a number")
    if column.positive:
        for row in text.index[numbers <= 0]:
            problems.append(f"line {row + 2}, column {column.name}: must be above 0")
    return numbers


FLAGS = {"0": False, "1": True, "false": False, "true": True, "no": False, "yes": True}


def _flags(text: pd.Series, empty: pd.Series, column: Column, problems: list[str]) -> pd.Series:
    flags = text.str.lower().map(FLAGS)
    for row in text.index[flags.isna() & ~empty]:
        problems.append(f"line {row + 2}, column {column.name}: {text[row]!r} is not 0 or 1")
    return flags.fillna(0.0).astype(bool)


def _seconds(text: pd.Series, empty: pd.Series, column: Column, problems: list[str]) -> pd.Series:
    """Unix seconds, or a date/time such as 2018-04-01 08:30:00, as seconds."""
    numbers = pd.to_numeric(text, errors="coerce")
    dates = pd.to_datetime(text.where(numbers.isna()), errors="coerce", format="mixed")
    seconds = numbers.fillna((dates - pd.Timestamp(0)).dt.total_seconds())
    for row in text.index[seconds.isna() & ~empty]:
        problems.append(f"line {row + 2}, column {column.name}: {text[row]!r} is not a date or Unix time")
    return seconds


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
