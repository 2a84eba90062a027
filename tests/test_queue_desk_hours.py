"""Calling outside a desk's hours, at the domain (botram/domain/queue/desk_hours.py): what the console offers and
what accepting it records. The page's side is in test_desk.py; this file is in the mutation run's selection
(pyproject.toml [tool.mutmut]), which leaves page tests out."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain import DomainError, NotFound
from botram.domain import queue
from botram.domain.clock import WIB, to_wib
from botram.extensions import db
from botram.models import AuditLog, Desk, EventStatus

from .factories import make_desk, make_event, make_user


@pytest.fixture
def desk(app):
    event = make_event()
    desk = make_desk(event)
    _hours(desk, time(8), time(16))
    return desk


def _day(desk) -> datetime:
    return datetime.combine(desk.event.date, time(0), tzinfo=WIB)


def _hours(desk, opens: time, closes: time) -> None:
    day = _day(desk)
    desk.opens_at = day.replace(hour=opens.hour, minute=opens.minute)
    desk.closes_at = day.replace(hour=closes.hour, minute=closes.minute)
    db.session.commit()


def _at(desk, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return _day(desk).replace(hour=hour, minute=minute, second=second)


def test_inside_the_hours_nothing_is_offered(desk):
    assert queue.hours_extension(desk, at=_at(desk, 8)) is None  # the opening minute is inside
    assert queue.hours_extension(desk, at=_at(desk, 15, 59, 59)) is None


@pytest.mark.parametrize("hour, minute, opens", [
    (7, 59, time(7, 30)), (7, 30, time(7, 30)), (7, 29, time(7, 0)), (4, 0, time(4, 0)),
])
def test_before_the_opening_the_opening_moves_back_to_the_half_hour(desk, hour, minute, opens):
    offer = queue.hours_extension(desk, at=_at(desk, hour, minute, 42))
    assert (offer.opens, offer.closes) == (time(8), time(16))
    assert (offer.new_opens, offer.new_closes) == (opens, time(16))
    assert offer.early is True
    assert offer.now == time(hour, minute, 42)


@pytest.mark.parametrize("hour, minute, closes", [
    (16, 0, time(16, 30)), (16, 29, time(16, 30)), (16, 30, time(17, 0)), (16, 59, time(17, 0)),
    (23, 29, time(23, 30)), (23, 30, time(23, 59)), (23, 59, time(23, 59)),
])
def test_after_the_closing_the_closing_moves_on_to_the_next_half_hour(desk, hour, minute, closes):
    offer = queue.hours_extension(desk, at=_at(desk, hour, minute))
    assert (offer.new_opens, offer.new_closes) == (time(8), closes)
    assert offer.early is False


def test_another_day_cannot_be_stretched_from_the_console(desk):
    with pytest.raises(DomainError, match="bukan hari ini") as refused:
        queue.hours_extension(desk, at=_at(desk, 9) + timedelta(days=1))
    assert refused.value.status == 409
    with pytest.raises(DomainError, match="bukan hari ini"):
        queue.hours_extension(desk, at=_at(desk, 9) - timedelta(days=1))


@pytest.fixture
def at_1612(desk, monkeypatch):
    """The officer presses N at 16.12 WIB on the event's day, after the desk's 16.00 closing: a fixed moment,
    so the test reads the same at any hour it runs (near midnight too)."""
    moment = _at(desk, 16, 12, 30)
    monkeypatch.setattr("botram.domain.queue.desk_hours.now", lambda: moment)
    return moment


def test_accepting_stretches_the_closing_to_cover_now_and_audits_it(desk, at_1612):
    officer = make_user("petugas", agency_code="DISDUKCAPIL")
    version = desk.event.queue_version
    changed = queue.extend_hours_to_now(desk.id, by_user_id=officer.id)
    db.session.expire_all()
    stored = db.session.get(Desk, desk.id)
    assert changed.id == desk.id
    assert (to_wib(stored.opens_at).time(), to_wib(stored.closes_at).time()) == (time(8), time(16, 30))
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "desk.hours"))
    assert entry is not None and (entry.user_id, entry.entity, entry.entity_id) == (officer.id, "desk", desk.id)
    assert entry.detail["reason"] == "call_outside_hours"
    assert stored.event.queue_version > version  # boards and desks learn of the new hours


def test_accepting_inside_the_hours_changes_nothing(desk, at_1612):
    officer = make_user("petugas", agency_code="DISDUKCAPIL")
    _hours(desk, time(8), time(17))
    before = (desk.opens_at, desk.closes_at)
    assert queue.extend_hours_to_now(desk.id, by_user_id=officer.id).id == desk.id
    db.session.expire_all()
    stored = db.session.get(Desk, desk.id)
    assert (stored.opens_at, stored.closes_at) == before
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "desk.hours")) == 0


def test_accepting_is_refused_for_an_event_that_is_not_open_and_for_no_desk(desk, at_1612):
    officer = make_user("petugas", agency_code="DISDUKCAPIL")
    desk.event.status = EventStatus.CLOSED
    db.session.commit()
    closes = desk.closes_at
    with pytest.raises(DomainError, match="belum dibuka atau sudah ditutup"):
        queue.extend_hours_to_now(desk.id, by_user_id=officer.id)
    db.session.expire_all()
    assert db.session.get(Desk, desk.id).closes_at == closes
    with pytest.raises(NotFound):
        queue.extend_hours_to_now(999_999, by_user_id=officer.id)
