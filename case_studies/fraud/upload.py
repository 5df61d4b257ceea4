"""Bring-your-own transactions: `transaction_id,timestamp,customer_id,terminal_id,amount,is_fraud`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from case_studies.fraud.world import DAY, TEST_DAYS, Log
from engine.data import Column, DataError, read_table

COLUMNS = (
    Column("transaction_id", "id"),
    Column("timestamp", "time"),
    Column("customer_id", "id"),
    Column("terminal_id", "id"),
    Column("amount", "number"),
    Column("is_fraud", "flag"),
)
FORMAT = (
    "CSV with a header `transaction_id,timestamp,customer_id,terminal_id,amount,is_fraud`: one row per "
    "payment. Timestamps are dates (2018-04-01 08:30:00) or Unix seconds; is_fraud is 0 or 1. The last "
    "quarter of the days (at most 28) is the test period."
)
MIN_DAYS, MIN_FRAUDS = 35, 20


@dataclass(frozen=True)
class Transactions:
    log: Log
    token: str
    summary: str


def load_transactions(raw: bytes) -> Transactions:
    table = read_table(raw, COLUMNS)
    duplicated = table["transaction_id"].duplicated()
    if duplicated.any():
        line = int(np.flatnonzero(duplicated)[0]) + 2
        raise DataError(
            f"line {line}, column transaction_id: {table['transaction_id'][line - 2]!r} appears twice."
        )
    negative = np.flatnonzero(table["amount"].to_numpy() < 0)
    if negative.size:
        raise DataError(
            f"line {negative[0] + 2}, column amount: must be 0 or more (refunds are not payments)."
        )
    table = table.sort_values("timestamp", kind="stable")
    seconds = table["timestamp"].to_numpy(float)
    first_day = np.floor(seconds.min() / DAY) * DAY
    time = (seconds - first_day).astype(np.int64)
    n_days = int(time.max() // DAY) + 1
    fraud = table["is_fraud"].to_numpy(bool)
    if n_days < MIN_DAYS or fraud.sum() < MIN_FRAUDS:
        raise DataError(
            f"Too little history to train and test: {n_days} days with {int(fraud.sum())} frauds; at "
            f"least {MIN_DAYS} days and {MIN_FRAUDS} frauds are needed "
            "(train, validation, label delay, test)."
        )
    customers, customer_labels = pd.factorize(table["customer_id"], sort=True)
    terminals, terminal_labels = pd.factorize(table["terminal_id"], sort=True)
    test_days = min(TEST_DAYS, n_days // 4)
    log = Log(
        time=time,
        customer=customers.astype(np.int64),
        terminal=terminals.astype(np.int64),
        amount=table["amount"].to_numpy(float),
        fraud=fraud,
        scenario=np.full(time.size, -1, np.int8),
        n_customers=customer_labels.size,
        n_terminals=terminal_labels.size,
        test_start=n_days - test_days,
        test_days=test_days,
        drift_day=None,
    )
    return Transactions(
        log=log,
        token=hashlib.sha256(raw).hexdigest()[:16],
        summary=f"{len(log):,} transactions over {n_days} days, {fraud.mean():.2%} fraud, "
        f"{customer_labels.size:,} cards",
    )
