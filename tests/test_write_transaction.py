"""The unit of work's transaction, checked against the database itself rather than through the in-process
writer lock (which serialises in-process writers before SQLite ever sees them, so the concurrency tests
would stay green without BEGIN IMMEDIATE or the retries): docs/unit-of-work.md, botram/domain/uow.py.

- SQLite: a unit holds the database's writer lock from its BEGIN (another connection cannot start writing);
  a writer lock held by another connection past the busy timeout is retried, not an error.
- PostgreSQL: a real deadlock between two connections is retried by the unit of work.
- Both: a unit whose COMMIT reached the database but whose answer was lost is not run again (it would write
  twice): DatabaseUnavailable, which the API answers 503; the device's repeat with the same Idempotency-Key
  writes nothing more.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from botram.domain import events as event_rules
from botram.domain.uow import DatabaseUnavailable, unit_of_work
from botram.extensions import db
from botram.models import AuditLog, Event, IdempotentRequest, Visit
from botram.models.types import utcnow

from .conftest import count
from .factories import bearer, make_desk, make_event, make_user, service


def _sqlite_file() -> str:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's writer lock (PostgreSQL locks rows, see the deadlock test)")
    return db.engine.url.database


def _probe_can_write(path: str) -> bool:
    """Can a second connection (as another process would) start writing this file right now?"""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc) or "busy" in str(exc), exc
        return False
    finally:
        probe.close()


def test_a_unit_of_work_holds_the_sqlite_writer_lock_from_its_begin(app):
    path = _sqlite_file()
    seen = []

    @unit_of_work(audited=False)
    def reads_first():
        # Nothing written yet: with a deferred BEGIN no lock would be held, and a writer of another process
        # committing now would make this unit's later write fail at once ("database is locked").
        seen.append(_probe_can_write(path))

    assert _probe_can_write(path), "nothing holds the lock outside a unit of work"
    reads_first()
    assert seen == [False], "BEGIN IMMEDIATE: the writer lock is taken up front"
    assert _probe_can_write(path), "and released at the commit"


@pytest.fixture
def short_busy_timeout(app):
    """Connections of the app wait 100 ms for a lock instead of 30 s, so a lock held longer is an error."""

    def lower(dbapi_connection, _record, _proxy):
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    sa.event.listen(db.engine, "checkout", lower)
    yield
    sa.event.remove(db.engine, "checkout", lower)
    db.engine.dispose()  # the pooled connections go back to the app's own timeout


def test_a_writer_lock_held_past_the_busy_timeout_is_retried_not_an_error(app, short_busy_timeout):
    path = _sqlite_file()
    coordinator = make_user("koordinator").id
    event_id = make_event(status="draft").id
    db.session.commit()
    holding, hold_for = threading.Event(), 0.35

    def other_process():
        other = sqlite3.connect(path, timeout=5, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(hold_for)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        event_rules.set_running_text(db.session.get(Event, event_id), "Loket 2 buka", by_user_id=coordinator)
        waited = time.monotonic() - started
    finally:
        holder.join()
    assert waited >= hold_for - 0.05, "the unit waited for the other writer (its first tries were refused)"
    db.session.expire_all()
    assert db.session.get(Event, event_id).running_text == "Loket 2 buka"
    assert count(AuditLog, AuditLog.action == "event.running_text") == 1


def test_a_real_deadlock_on_postgresql_is_retried_by_the_unit_of_work(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a deadlock between two connections needs PostgreSQL's row locks")
    first, second = make_event(title="Acara A").id, make_event(title="Acara B").id
    db.session.commit()
    engine = db.engine
    attempts, other_done = [], []
    locked_first, unit_waits = threading.Event(), threading.Event()

    def other_connection():
        with engine.connect() as conn:
            conn.execute(sa.text("SET LOCAL deadlock_timeout = '5s'"))
            conn.execute(sa.text("UPDATE event SET running_text = 'lain' WHERE id = :i"), {"i": first})
            locked_first.set()
            unit_waits.wait(10)
            time.sleep(0.15)  # the unit is now waiting for `first`; this one will wait for `second`
            conn.execute(sa.text("UPDATE event SET running_text = 'lain' WHERE id = :i"), {"i": second})
            conn.commit()
            other_done.append(True)

    @unit_of_work(audited=False)
    def both_rows():
        attempts.append(1)
        # This side checks for a deadlock first (0.5 s after it started waiting; the other side after 5 s), so
        # it is the side PostgreSQL aborts: a DeadlockDetected the unit of work must run again.
        db.session.execute(sa.text("SET LOCAL deadlock_timeout = '500ms'"))
        db.session.execute(sa.text("UPDATE event SET running_text = 'unit' WHERE id = :i"), {"i": second})
        if len(attempts) == 1:
            assert locked_first.wait(10)
            unit_waits.set()
        db.session.execute(sa.text("UPDATE event SET running_text = 'unit' WHERE id = :i"), {"i": first})

    thread = threading.Thread(target=other_connection)
    thread.start()
    try:
        both_rows()
    finally:
        unit_waits.set()
        thread.join(15)
    assert other_done == [True]
    assert len(attempts) == 2, "the deadlocked attempt was run again"
    db.session.expire_all()
    assert {db.session.get(Event, i).running_text for i in (first, second)} == {"unit"}


@pytest.fixture
def commit_answer_lost(app, monkeypatch):
    """Armed, the next COMMIT of an audited write reaches the database, but its answer is lost with the
    connection (a server restart or a network cut at that instant): the driver reports a lost connection.
    (Other commits, such as a token's last use or the test client's end of a read, pass.)"""
    dialect = db.engine.dialect
    real = dialect.do_commit
    armed = []

    def do_commit(dbapi_connection):
        real(dbapi_connection)
        if armed and db.session().info.get("uow_audited"):
            armed.clear()
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"),
                                          connection_invalidated=True)

    monkeypatch.setattr(dialect, "do_commit", do_commit)
    return armed


def test_a_unit_whose_commit_answer_was_lost_is_not_run_again(app, commit_answer_lost):
    coordinator = make_user("koordinator").id
    event_id = make_event(status="draft").id
    db.session.commit()
    runs = []

    @unit_of_work
    def note():
        runs.append(1)
        event_rules.set_running_text(db.session.get(Event, event_id), "Loket 4 tutup", by_user_id=coordinator)

    commit_answer_lost.append(True)
    with pytest.raises(DatabaseUnavailable):
        note()
    assert runs == [1], "run again blindly, it would have written twice"
    db.session.rollback()
    assert count(AuditLog, AuditLog.action == "event.running_text") == 1
    assert db.session.get(Event, event_id).running_text == "Loket 4 tutup"


def test_the_api_answers_503_and_the_repeat_with_the_same_key_writes_once(client, app, commit_answer_lost):
    event = make_event()
    make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI"])
    headers = {**bearer(make_user("resepsionis")), "Idempotency-Key": "kiosk-7-0042"}
    body = {"services": [service("AKTA-MATI").id]}
    commit_answer_lost.append(True)
    lost = client.post(f"/api/v1/events/{event.id}/visits", json=body, headers=headers)
    assert lost.status_code == 503, lost.get_data(as_text=True)
    assert lost.is_json and lost.get_json()["error"] == "unavailable" and "Retry-After" in lost.headers
    assert count(Visit) == 1, "the ticket was written: the commit reached the database"
    again = client.post(f"/api/v1/events/{event.id}/visits", json=body, headers=headers)
    assert again.status_code < 500, again.get_data(as_text=True)
    assert again.status_code != 201 or again.headers.get("Idempotent-Replayed") == "true"
    assert count(Visit) == 1, "the repeat did not issue a second ticket"
    assert count(IdempotentRequest, IdempotentRequest.key == "kiosk-7-0042") == 1
    assert count(AuditLog, AuditLog.action == "visit.issue") == 1
    # Half a minute on, the device still repeating is told the ticket is stored and its answer lost, not
    # asked to retry for the rest of the day.
    db.session.execute(sa.update(IdempotentRequest).values(created_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    later = client.post(f"/api/v1/events/{event.id}/visits", json=body, headers=headers)
    assert later.status_code == 409 and "Retry-After" not in later.headers, later.get_data(as_text=True)
    assert count(Visit) == 1


def test_operational_errors_are_not_swallowed(app):
    """Sanity for the fixtures above: a statement that is simply wrong is raised at once, not retried."""
    runs = []

    @unit_of_work(audited=False)
    def wrong():
        runs.append(1)
        db.session.execute(sa.text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError if db.engine.dialect.name == "sqlite" else sa.exc.ProgrammingError):
        wrong()
    assert runs == [1]
