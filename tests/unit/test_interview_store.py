"""The attempts database: schema migrations, writes that survive a new process, history queries."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.interview.plan import Review
from engine.interview.scoring import DimensionScore
from engine.interview.store import NotYours, Store
from engine.schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version

ROOT = Path(__file__).parents[2]


@pytest.fixture
def url(db_url):
    """Every test here runs on SQLite and on PostgreSQL."""
    return db_url


def test_schema_is_created_on_first_use_and_migrating_again_is_a_no_op(url):
    engine = create_engine(url)
    assert migrate(engine) == SCHEMA_VERSION == len(MIGRATIONS)
    assert migrate(engine) == SCHEMA_VERSION
    with engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM schema_version")).scalar() == SCHEMA_VERSION


def test_an_older_database_is_migrated_forward_without_losing_attempts(url):
    engine = create_engine(url)
    migrate(engine, target=1)  # a database written by the first release
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO attempts (id, study, level, minutes, seed, created_at) "
                "VALUES ('old', 'fraud', 'senior', 45, 0, 1.0)"
            )
        )
        c.execute(text("INSERT INTO answers VALUES ('old', 'data', 'label delay', 2.0)"))
        assert schema_version(c) == 1
    store = Store(engine)  # opening it runs the missing migrations
    with engine.connect() as c:
        assert schema_version(c) == SCHEMA_VERSION
    assert store.get("old").answers == {"data": "label delay"}
    store.save_practice(Review("fraud", "data", 10.0, 1.0, 1))  # the table migration 2 added
    assert store.practice()[0].dimension == "data"


def test_an_attempt_round_trips_every_kind_of_write(url):
    store = Store(create_engine(url))
    attempt_id = store.create("recommendation", "staff", 30, seed=3)
    store.save_answer(attempt_id, "requirements", "first")
    store.save_answer(attempt_id, "requirements", "first draft, edited")
    store.set_choice(attempt_id, "candidates", 500)
    store.set_choice(attempt_id, "ranker", "none")
    store.set_choice(attempt_id, "ranker", "gbdt")
    store.set_step(attempt_id, 2)
    store.add_time(attempt_id, "requirements", 61.5)
    store.add_time(attempt_id, "requirements", 10)
    store.take_hint(attempt_id, "framing")
    store.ask(attempt_id, "spike")
    store.save_answer(attempt_id, "followup:spike", "autoscale")
    store.ask(attempt_id, "spike")  # asking again keeps the answer
    got = store.get(attempt_id)
    assert (got.study, got.level, got.minutes, got.seed, got.step_index) == (
        "recommendation",
        "staff",
        30,
        3,
        2,
    )
    assert got.answers == {"requirements": "first draft, edited", "followup:spike": "autoscale"}
    assert got.choices == {"candidates": 500, "ranker": "gbdt"}  # JSON keeps the number a number
    assert got.seconds == {"requirements": 71.5, "framing": 0}
    assert got.hints == {"requirements": 0, "framing": 1}
    assert got.asked() == ["spike"]
    assert not got.finished
    assert store.get("nope") is None


def test_finishing_stores_scores_for_the_progress_page(url):
    store = Store(create_engine(url))
    first, second = store.create("fraud", "senior", 45), store.create("search", "junior", 45)
    for attempt_id, value in ((first, 1.0), (second, 3.0)):
        scores = [DimensionScore("data", "Data", [], {}, 0, value, None)]
        store.finish(attempt_id, {"data": value + 1}, scores)
    rows = store.scores()
    assert [(r["study"], r["final"]) for r in rows] == [("fraud", 1.0), ("search", 3.0)]
    assert store.get(first).finished and store.get(first).self_assessment == {"data": 2.0}
    assert [a.id for a in store.attempts()] == [second, first]
    plan = {(r.study, r.dimension): r.interval_days for r in store.practice()}
    assert plan == {("fraud", "data"): 1.0, ("search", "data"): 2.0}  # weak: tomorrow; strong: later


WRITER = """
import sys
from sqlalchemy import create_engine
from engine.interview.store import NotYours, Store
store = Store(create_engine(sys.argv[1]))
if sys.argv[2] == "create":
    print(store.create("search", "senior", 45))
else:
    store.save_answer(sys.argv[2], "data", sys.argv[3])
    store.add_time(sys.argv[2], "data", 42)
"""


def test_writes_survive_the_process_that_made_them(url):
    """Each write commits at once: a process that exits (or is killed) right after loses nothing."""

    def run(*args):
        out = subprocess.run(
            [sys.executable, "-c", WRITER, url, *args], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    attempt_id = run("create")
    run(attempt_id, "clicks are a proxy <b>label</b>")
    got = Store(create_engine(url)).get(attempt_id)
    assert got.answers == {"data": "clicks are a proxy <b>label</b>"}
    assert got.seconds == {"data": 42}


def test_replicas_starting_together_migrate_once(url):
    """Several app servers opening a new database at the same moment: every one comes up, and each
    migration is applied exactly once."""
    code = (
        "import sys; from sqlalchemy import create_engine; "
        "from engine.interview.store import Store; Store(create_engine(sys.argv[1]))"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in starts]
    assert all(p.returncode == 0 for p in starts), errors
    with create_engine(url).connect() as c:
        versions = [row[0] for row in c.execute(text("SELECT version FROM schema_version ORDER BY version"))]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_each_signed_in_person_sees_only_their_own_attempts_and_plan(url):
    engine = create_engine(url)
    alice, bob, alone = Store(engine, "alice@example.com"), Store(engine, "bob@example.com"), Store(engine)
    mine = alice.create("fraud", "senior", 45)
    alice.save_answer(mine, "data", "label delay")
    alice.finish(mine, {}, [DimensionScore("data", "Data", [], {}, 0, 2.0, None)])
    assert [a.id for a in alice.attempts()] == [mine]
    assert bob.attempts() == [] and alone.attempts() == [] and bob.scores() == []
    assert [r.study for r in alice.practice()] == ["fraud"] and bob.practice() == []
    with pytest.raises(NotYours):
        bob.get(mine)
    assert alice.get(mine).answers == {"data": "label delay"}
