"""Bring-your-own transactions: clear, line-numbered errors, and a valid file runs the study."""

import io

import pandas as pd
import pytest

import engine
from case_studies.fraud.upload import load_transactions
from case_studies.fraud.world import DAY, generate_world
from engine.data import DataError

STUDY = engine.get_study("fraud")
HEADER = "transaction_id,timestamp,customer_id,terminal_id,amount,is_fraud\n"


def simulated_csv(days=70) -> bytes:
    """A real-looking export: the simulator's first `days` days, dates as text."""
    world = generate_world(scale=0.1, drift="none", drift_test_day=0, seed=4)
    keep = world.time < days * DAY
    frame = pd.DataFrame(
        {
            "transaction_id": [f"tx{i}" for i in range(int(keep.sum()))],
            "timestamp": pd.to_datetime(world.time[keep], unit="s", origin="2018-04-01").astype(str),
            "customer_id": [f"card-{c}" for c in world.customer[keep]],
            "terminal_id": world.terminal[keep],
            "amount": world.amount[keep],
            "is_fraud": world.fraud[keep].astype(int),
        }
    )
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty."),
        (b"id,time,card\n1,2,3\n", "Missing column(s) transaction_id, timestamp, customer_id"),
        (HEADER.encode(), "The file has a header but no data rows."),
        (
            HEADER.encode() + b"t1,2018-04-01,c1,T1,12.5,maybe\n",
            "line 2, column is_fraud: 'maybe' is not 0 or 1",
        ),
        (
            HEADER.encode() + b"t1,yesterday,c1,T1,12.5,0\n",
            "line 2, column timestamp: 'yesterday' is not a date",
        ),
        (HEADER.encode() + b"t1,1522540800,c1,T1,ten,0\n", "line 2, column amount: 'ten' is not a number"),
        (
            HEADER.encode() + b"t1,1522540800,c1,T1,10,0\nt1,1522540900,c1,T1,10,0\n",
            "line 3, column transaction_id: 't1' appears twice",
        ),
        (HEADER.encode() + b"t1,1522540800,c1,T1,-3,0\n", "line 2, column amount: must be 0 or more"),
        (HEADER.encode() + b"t1,1522540800,c1,T1,10,1\n", "Too little history to train and test: 1 days"),
    ],
)
def test_bad_files_say_what_is_wrong_and_where(raw, message):
    with pytest.raises(DataError) as caught:
        load_transactions(raw)
    assert message in str(caught.value)


def test_a_real_export_runs_the_study_on_it():
    data = load_transactions(simulated_csv())
    assert data.log.n_days == 70 and data.log.test_days == 17
    assert "transactions over 70 days" in data.summary
    result = engine.run(STUDY, {}, seed=0, data=data)
    assert 0.3 < result.metrics["average_precision"] <= 1.0
    assert len(result.artifacts["daily"]["alerts"]) == 17


def test_a_configuration_the_history_cannot_support_is_explained():
    data = load_transactions(simulated_csv())
    with pytest.raises(DataError, match="Not enough history before day 53.*Shorten the train window"):
        engine.run(STUDY, {"label_delay": 28, "train_window": 28}, seed=0, data=data)
