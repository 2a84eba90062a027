"""The regency view's booked vs walk-in per service (botram/domain/regency.py, issue 21): over the held events that
opened booking, visits, the mean wait from arrival to the call and booking no-shows; a closed event's figures come
from its summary (domain/summaries.py), an open one's are counted live; an event without booking adds nothing."""
from __future__ import annotations

import secrets
from datetime import time, timedelta

import sqlalchemy as sa

from botram.domain import events, regency, summaries
from botram.domain.booking import report as booking_report
from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reports_demo import StepPlan, record_visit
from botram.extensions import db
from botram.models import Booking, BookingPlan, BookingQuota, BookingWindow, EventSummary, StepStatus

from .factories import make_desk, make_event, make_user, service
from .summary_helpers import assert_summary_is_fresh


def _day(days_ago: int, *, with_booking: bool = True, title: str = "BOTRAM Pemesanan"):
    """A held event `days_ago`: a 10–12 window with three KK bookings, two checked in (booked visits that waited
    12 and 10 minutes), one never came; two walk-ins, one called after 30 minutes, one still waiting."""
    day = today_wib() - timedelta(days=days_ago)
    event = make_event(title, day=day)
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KK", "KTP-REKAM"])
    kk = service("KK")

    def at(hour, minute):
        return wib_to_utc(day, time(hour, minute))

    booked = [record_visit(event, at(9, 50), [StepPlan(kk, StepStatus.DONE, at(10, 2), at(10, 20), desk)]),
              record_visit(event, at(9, 55), [StepPlan(kk, StepStatus.DONE, at(10, 5), at(10, 25), desk)])]
    record_visit(event, at(10, 0), [StepPlan(kk, StepStatus.DONE, at(10, 30), at(10, 45), desk)])
    record_visit(event, at(10, 10), [StepPlan(kk, StepStatus.WAITING)])
    if with_booking:
        plan = BookingPlan(event_id=event.id, closes_at=at(0, 0) - timedelta(days=1), grace_minutes=15)
        db.session.add(plan)
        db.session.flush()
        window = BookingWindow(plan_id=plan.id, event_id=event.id, starts_at=at(10, 0), ends_at=at(12, 0))
        db.session.add(window)
        db.session.flush()
        db.session.add(BookingQuota(window_id=window.id, service_id=kk.id, quota=5, taken=3))
        for n, visit in enumerate([*booked, None]):
            if visit is not None:
                visit.booked = True
                visit.steps[0].booked_from = window.starts_at
            made = Booking(event_id=event.id, window_id=window.id, code=secrets.token_hex(3).upper(),
                           token=secrets.token_urlsafe(32), phone=f"+62812{days_ago:02d}{n:06d}",
                           status="checked_in" if visit else "booked", origin="",
                           visit_id=visit.id if visit else None, checked_in_at=at(9, 50) if visit else None)
            made.services = [kk]
            db.session.add(made)
    db.session.commit()
    return event


def _kk(view: regency.RegencyView) -> regency.BookedTotal:
    [row] = [r for r in view.booking if r.service_id == service("KK").id]
    return row


def test_booked_and_walk_in_add_up_over_a_closed_and_an_open_event(app):
    closed, still_open = _day(7), _day(1, title="BOTRAM Buka")
    _day(3, with_booking=False, title="BOTRAM Tanpa Pemesanan")  # its walk-ins compare nothing: not counted
    events.change_status(closed, "closed", by_user_id=make_user("koordinator").id)
    assert_summary_is_fresh(closed.id)
    row = _kk(regency.regency_view())
    assert (row.booked_visits, row.walk_in_visits, row.no_shows) == (4, 4, 2)
    assert (row.booked_wait, row.walk_in_wait) == (11.0, 30.0)  # means: (12 + 10) / 2 and 30 / 1 per event
    assert [r.service_id for r in regency.regency_view().booking] == [service("KK").id]
    # a year holds only its own events
    assert regency.regency_view(today_wib().year - 5).booking == []


def test_a_closed_event_is_read_from_its_summary(app):
    closed = _day(7)
    events.change_status(closed, "closed", by_user_id=make_user("koordinator").id)
    row = db.session.get(EventSummary, closed.id)
    assert row.booking["totals"] == {str(service("KK").id): [2, 2, 2, 22.0, 1, 30.0, 1]}
    # the view adds what the row holds (it never counts a closed event's steps)
    db.session.execute(sa.update(EventSummary).where(EventSummary.event_id == closed.id).values(
        booking={"rows": [], "totals": {str(service("KK").id): [40, 60, 40, 400.0, 60, 1800.0, 5]}}))
    db.session.commit()
    assert (_kk(regency.regency_view()).booked_visits, _kk(regency.regency_view()).booked_wait) == (40, 10.0)
    # a summary from before the column (NULL) is counted live
    db.session.execute(sa.update(EventSummary).where(EventSummary.event_id == closed.id).values(booking=None))
    db.session.commit()
    assert summaries.booking_totals([closed.id]) == booking_report.booking_totals(closed.id)
    assert _kk(regency.regency_view()).booked_visits == 2


def test_the_regency_page_shows_booked_vs_walk_in(client, auth, app):
    closed = _day(7)
    events.change_status(closed, "closed", by_user_id=make_user("koordinator").id)
    auth.login("koordinator")
    page = client.get("/reports/").get_data(as_text=True)
    assert 'id="booked"' in page and "Pemesanan daring dan datang langsung" in page
    section = page[page.index('id="booked"'):]
    section = section[:section.index("</section>")]
    assert service("KK").name in section and ">11,0<" in section and ">30,0<" in section
