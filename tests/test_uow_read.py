"""The unit of work ends the read transaction a request left open without committing it (botram/domain/uow.py),
and refuses rows a view changed before calling the domain: they would be written under another action's audit
entry, or (SQLite) committed unaudited."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from botram.domain import events
from botram.domain.uow import Unaudited
from botram.extensions import db
from botram.models import AuditLog, Event

from .factories import make_event, make_user


def test_a_row_changed_outside_a_unit_of_work_is_refused_and_not_written(app):
    user_id = make_user("koordinator").id
    event = make_event("Judul asli")
    db.session.commit()
    audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    loaded = db.session.get(Event, event.id)
    loaded.title = "Diubah diam-diam"
    with pytest.raises(Unaudited):
        events.set_running_text(loaded, "Selamat datang", by_user_id=user_id)
    db.session.rollback()
    assert db.session.execute(sa.select(Event.title, Event.running_text).where(Event.id == event.id)).one() \
        == ("Judul asli", "")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == audits


def test_a_read_before_the_unit_is_ended_and_the_write_goes_through(app):
    user = make_user("koordinator")
    event = make_event("Judul asli")
    db.session.commit()
    loaded = db.session.get(Event, event.id)  # a read transaction is open now, as in a request
    assert db.session().in_transaction()
    events.set_running_text(loaded, "Selamat datang", by_user_id=user.id)
    db.session.rollback()
    assert db.session.scalar(sa.select(Event.running_text).where(Event.id == event.id)) == "Selamat datang"
