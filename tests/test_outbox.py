"""The generic outbox (botram/domain/outbox, docs/outbox.md): rows written with the change that causes them,
at most once per dedupe key, claimed by one worker at a time, retried with backoff, given up, never lost."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import audit, outbox
from botram.domain.clock import now
from botram.domain.uow import unit_of_work
from botram.extensions import db
from botram.models import AuditLog, Outbox, OutboxStatus


@unit_of_work
def _cause(keys: list[str], *, fail: bool = False) -> None:
    """A stand-in for a domain change that leaves a side effect (audited like any write)."""
    for key in keys:
        outbox.enqueue("test.thing", key, {"key": key})
    audit.record("test.cause", "test", None)
    if fail:
        raise RuntimeError("the change is refused after the enqueue")


@pytest.fixture
def sent():
    got: list[dict] = []
    outbox.register_sender("test.", lambda kind, payload: got.append(payload))
    yield got
    outbox.unregister_sender("test.")


def _rows() -> list[Outbox]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Outbox).order_by(Outbox.id)))


def test_a_row_is_written_with_its_cause_and_a_duplicate_key_is_a_quiet_no_op(app):
    _cause(["a:1", "a:2"])
    _cause(["a:1"])  # the same citizen's same kind of message again: nothing, and the change still commits
    with pytest.raises(RuntimeError):
        _cause(["a:3"], fail=True)  # the change rolled back: its message with it
    assert [r.dedupe_key for r in _rows()] == ["a:1", "a:2"]
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "test.cause")) == 2


def test_enqueue_outside_a_unit_of_work_is_refused(app):
    db.session.rollback()
    with pytest.raises(RuntimeError, match="inside a unit of work"):
        outbox.enqueue("test.thing", "b:1", {})


def test_the_worker_sends_each_row_once_and_audits_that_it_was_sent(app, sent):
    _cause(["c:1", "c:2", "c:3"])
    assert outbox.deliver_due() == 3
    assert outbox.deliver_due() == 0
    assert sorted(p["key"] for p in sent) == ["c:1", "c:2", "c:3"]
    rows = _rows()
    assert {r.status for r in rows} == {OutboxStatus.SENT} and all(r.sent_at for r in rows)
    entries = list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "outbox.sent")))
    assert len(entries) == 3 and all(e.detail == {"kind": "test.thing"} for e in entries)


def test_rows_without_a_sender_in_this_process_are_left_for_one_that_has_it(app):
    _cause(["d:1"])
    assert outbox.deliver_due() == 0
    assert _rows()[0].status == OutboxStatus.PENDING and _rows()[0].attempts == 0


def test_a_failing_gateway_is_retried_with_backoff_then_given_up(app):
    calls = []

    def down(kind, payload):
        calls.append(kind)
        raise ConnectionError("gateway unreachable")

    outbox.register_sender("test.", down)
    try:
        _cause(["e:1"])
        assert outbox.deliver_due() == 1
        row = _rows()[0]
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert row.last_error == "ConnectionError: gateway unreachable"
        wait = (row.next_attempt_at - now()).total_seconds()
        assert 1.5 <= wait <= 2.5, wait  # the first retry after about two seconds
        assert outbox.deliver_due() == 0  # not due yet
        assert outbox.health().warning and outbox.health().failing == 1

        # Due again, but past the admin's give-up time since its cause: given up, audited, never sent.
        db.session.execute(sa.update(Outbox).values(
            next_attempt_at=now() - timedelta(seconds=1), created_at=now() - timedelta(hours=2)))
        db.session.commit()
        assert outbox.deliver_due() == 1
        row = _rows()[0]
        assert row.status == OutboxStatus.GIVEN_UP and row.attempts == 2 and len(calls) == 2
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "outbox.given_up")) == 1
        assert outbox.health().given_up_recently == 1
    finally:
        outbox.unregister_sender("test.")


def test_backoff_doubles_up_to_its_ceiling():
    waits = [outbox.backoff_seconds(n) for n in range(1, 8)]
    assert 2 <= waits[0] <= 2.4 and 4 <= waits[1] <= 4.8 and 8 <= waits[2] <= 9.6
    assert all(30 <= w <= 36 for w in waits[4:])


def test_a_claim_that_was_never_settled_is_taken_again_after_its_lease(app, sent):
    """A worker killed mid-send leaves its rows claimed; once the lease runs out another worker sends them."""
    _cause(["f:1"])
    claimed = outbox.claim_due()  # the worker that dies: claimed, never sent, never marked
    assert [c.payload["key"] for c in claimed] == ["f:1"]
    assert outbox.deliver_due() == 0  # still leased to the dead worker
    db.session.execute(sa.update(Outbox).values(claimed_until=now() - timedelta(seconds=1)))
    db.session.commit()
    assert outbox.deliver_due() == 1
    assert [p["key"] for p in sent] == ["f:1"]
    row = _rows()[0]
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_two_workers_claiming_at_once_never_take_the_same_row(app, sent):
    _cause([f"g:{n}" for n in range(40)])
    db.session.remove()
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def worker(slot: int) -> None:
        with app.app_context():
            start.wait()
            while batch := outbox.claim_due(limit=3):
                taken[slot].extend(c.id for c in batch)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 40
