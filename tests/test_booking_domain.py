"""Booking before the day: announcing, quotas capped at a share of capacity, book / change / cancel, the
anti-tout rule, check-in into a booked visit, and the quota holding under a rush of 100 (SQLite and
PostgreSQL, whichever BOTRAM_TEST_DATABASE_URL names)."""
from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain import DomainError, booking, events
from botram.domain.clock import today_wib
from botram.domain.visibility import has_live_board, is_public
from botram.extensions import db
from botram.models import Booking, BookingQuota, EventStatus, Step, Visit

from .booking_world import booked_event, window_at
from .factories import make_desk, make_event, make_user, service


def _book(event, hour=14, codes=("KTP-REKAM",), phone="081234567890", **kw):
    w = window_at(event, hour)
    return booking.book(event.id, booking.BookingInput(
        window_id=w.id, service_ids=[service(c).id for c in codes], phone=phone, **kw))


def test_an_announced_draft_is_public_and_bookable_but_has_no_board(app, client):
    event = make_event(day=today_wib() + timedelta(days=3), status=EventStatus.DRAFT)
    make_desk(event, 1, "DISDUKCAPIL", ["KK"], state="closed")
    assert not is_public(event)
    assert client.get(f"/jadwal/{event.id}").status_code == 404
    events.set_announced(event, True)
    db.session.commit()
    assert is_public(event) and not has_live_board(event)
    assert client.get(f"/jadwal/{event.id}").status_code == 200
    assert event.title in client.get("/jadwal").get_data(as_text=True)
    assert any(e["id"] == event.id for e in client.get("/api/v1/events").get_json())
    assert client.get(f"/board/{event.id}").status_code == 404
    events.set_announced(event, False)
    db.session.commit()
    assert client.get(f"/jadwal/{event.id}").status_code == 404


def test_a_quota_may_not_exceed_the_share_of_the_windows_capacity(app):
    # Two desks x 120 min / 8 min (KTP-REKAM) = 30 per window; 50 % -> 15.
    event = booked_event({"KTP-REKAM": 15})
    assert window_at(event, 8).quota_for(service("KTP-REKAM").id).quota == 15
    with pytest.raises(DomainError) as refused:
        booked_event({"KTP-REKAM": 16}, day=today_wib() + timedelta(days=2))
    assert "paling banyak 15" in refused.value.message


def test_book_change_and_cancel_move_places(app):
    event = booked_event({"KTP-REKAM": 2, "KK": 2})
    made = _book(event, 14, ("KTP-REKAM", "KK"))
    assert len(made.code) == 6 and made.phone == "+6281234567890" and len(made.token) > 30
    db.session.commit()
    w14 = window_at(event, 14)
    assert [q.left for q in w14.quotas] == [1, 1]
    booking.change_booking(made.token, window_at(event, 10).id, [service("KK").id])
    db.session.commit()
    assert [q.left for q in window_at(event, 14).quotas] == [2, 2]
    w10 = window_at(event, 10)
    assert (w10.quota_for(service("KK").id).taken, w10.quota_for(service("KTP-REKAM").id).taken) == (1, 0)
    booking.cancel_booking(made.token)
    db.session.commit()
    assert all(q.taken == 0 for w in booking.booking_view(event).windows for q in w.quotas)
    with pytest.raises(DomainError):
        booking.cancel_booking(made.token)


def test_a_full_window_refuses_and_the_phone_rule_holds(app):
    event = booked_event({"KTP-REKAM": 1, "KK": 5})
    _book(event, 14, phone="081234567890")
    db.session.commit()
    with pytest.raises(DomainError) as full:
        _book(event, 14, phone="081298765432")
    assert "penuh" in full.value.message
    _book(event, 12, phone="081234567890")
    db.session.commit()
    with pytest.raises(DomainError) as tout:
        _book(event, 10, phone="0812-3456-7890")
    assert tout.value.field == "phone" and "2 pemesanan" in tout.value.message
    with pytest.raises(DomainError) as no_phone:
        _book(event, 10, phone="")
    assert no_phone.value.field == "phone"


def test_check_in_makes_a_booked_visit_whose_steps_carry_the_window(app):
    event = booked_event()
    made = _book(event, 14, ("KTP-REKAM", "KK"))
    db.session.commit()
    events.change_status(event, "open")  # the day has come (the test does not wait for it)
    reception = make_user("resepsionis")
    found = booking.find_for_check_in(event.id, made.code.lower())
    assert [b.id for b in found] == [made.id]
    assert [b.id for b in booking.find_for_check_in(event.id, "0812 3456 7890")] == [made.id]
    issued = booking.check_in(made.id, by_user_id=reception.id)
    db.session.commit()
    visit = db.session.get(Visit, issued.visit.id)
    assert visit.booked and len(visit.steps) == 2
    assert {s.booked_from for s in visit.steps} == {window_at(event, 14).starts_at}
    with pytest.raises(DomainError) as again:
        booking.check_in(made.id, by_user_id=reception.id)
    assert again.value.status == 409


def test_a_hundred_people_booking_the_last_ten_places_at_once(app):
    event = booked_event({"KTP-REKAM": 12, "KK": 0})
    for n in range(2):
        _book(event, 14, phone=f"08121111000{n}")
    db.session.commit()
    w14 = window_at(event, 14).id
    sid = service("KTP-REKAM").id
    event_id = event.id
    gate = threading.Barrier(100)
    got, full, other = [], [], []
    lock = threading.Lock()

    def person(n):
        with app.app_context():
            try:
                gate.wait()
                made = booking.book(event_id, booking.BookingInput(
                    window_id=w14, service_ids=[sid], phone=f"0813{n:08d}"))
                with lock:
                    got.append(made.code)
            except DomainError as exc:
                with lock:
                    (full if "penuh" in exc.message else other).append(exc.message)
            except Exception as exc:  # noqa: BLE001 - the test reports it
                with lock:
                    other.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=person, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    assert len(got) == 10 and len(full) == 90
    db.session.rollback()  # end this test's own read snapshot: see what the hundred committed
    quota = db.session.scalar(sa.select(BookingQuota).where(BookingQuota.window_id == w14,
                                                            BookingQuota.service_id == sid))
    assert quota.taken == 12
    assert db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.window_id == w14)) == 12


def test_purge_pii_clears_bookings_of_old_closed_events(app):
    from botram.domain.privacy import purge_pii

    event = booked_event({"KK": 3, "KTP-REKAM": 3})
    made = _book(event, 14, ("KK",), name="Siti", nik="3216014512900003")
    db.session.commit()
    event.status = EventStatus.CLOSED
    event.date = today_wib() - timedelta(days=400)
    db.session.commit()
    result = purge_pii(timedelta(days=365))
    db.session.commit()
    assert result.bookings == 1
    db.session.expire_all()
    assert (made.phone, made.name, made.nik) == (None, None, None) and made.pii_purged_at is not None


def test_the_share_setting_moves_the_cap_and_the_phone_setting_the_anti_tout_rule(app, monkeypatch):
    monkeypatch.setitem(app.config, "BOTRAM_BOOKING_SHARE_PERCENT", 20)  # 30 per window x 20 % = 6
    with pytest.raises(DomainError) as refused:
        booked_event({"KTP-REKAM": 7})
    assert "paling banyak 6" in refused.value.message
    db.session.rollback()
    monkeypatch.setitem(app.config, "BOTRAM_MAX_BOOKINGS_PER_PHONE", 1)
    event = booked_event({"KTP-REKAM": 6}, day=today_wib() + timedelta(days=2))
    _book(event, 14)
    db.session.commit()
    with pytest.raises(DomainError) as tout:
        _book(event, 12)
    assert "1 pemesanan" in tout.value.message
