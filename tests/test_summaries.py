"""A closed event's summary row equals a fresh computation after every kind of change that reaches a closed
event: closing it, a survey typed in afterwards, the PII purge, a restore from a backup (the field check-in is
in tests/test_field_sync.py, where the day's story is). Pages read the row: the event report, its XLSX and the
regency view show the same figures as the live computation."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from botram.domain import events, privacy, regency, skm
from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reports_demo import StepPlan, record_visit
from botram.extensions import db
from botram.models import Event, EventSummary, Region, StepStatus, SurveyResponse, UNSUR_KEYS, Visit

from .factories import make_desk, make_event, make_user, service
from .summary_helpers import assert_summary_is_fresh

SCORES = {key: 3 for key in UNSUR_KEYS}


def _held_event(days_ago: int = 7) -> Event:
    """An open event dated `days_ago` with a served, a waiting, a no-show and a transferred-out step, two desks of
    two agencies (one closing early) and two survey answers, one with a NIK in its comment."""
    day = today_wib() - timedelta(days=days_ago)
    event = make_event("BOTRAM Ringkasan", day=day)
    capil = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
    bapenda = make_desk(event, 2, "BAPENDA", ["PBB-BAYAR"])
    bapenda.closes_at = wib_to_utc(day, time(12))
    for i, hour in enumerate((8, 9, 9, 10, 11, 14)):
        at = wib_to_utc(day, time(hour, 5 * i))
        plans = [StepPlan(service("KK"), StepStatus.DONE, at + timedelta(minutes=5 + i), at + timedelta(minutes=20),
                          capil)]
        if i % 2:
            plans.append(StepPlan(service("PBB-BAYAR"), StepStatus.WAITING))
        if i == 3:
            plans.append(StepPlan(service("KTP-REKAM"), StepStatus.NO_SHOW, at + timedelta(minutes=30),
                                  at + timedelta(minutes=32), capil))
        visit = record_visit(event, at, plans, priority="lansia" if i == 2 else "none")
        if i < 2:
            db.session.add(SurveyResponse(visit_id=visit.id, event_id=event.id, channel="qr", sex="P",
                                          next_desa_code=db.session.scalar(sa.select(Region.code).where(
                                              Region.level == 4).order_by(Region.code).limit(1)),
                                          comment="NIK saya 3216014512900003, cepat" if i == 0 else None, **SCORES))
    db.session.commit()
    return event


def _close(event: Event) -> None:
    events.change_status(event, "closed", by_user_id=make_user("koordinator").id)


def test_closing_an_event_writes_its_summary(app):
    event = _held_event()
    open_event = _held_event(days_ago=0)
    assert db.session.get(EventSummary, event.id) is None
    _close(event)
    row = assert_summary_is_fresh(event.id)
    assert (row.visits, row.done_steps, row.respondents) == (6, 6, 2)
    assert db.session.get(EventSummary, open_event.id) is None  # open events keep the live computation


def test_a_survey_entered_after_closing_refreshes_the_summary(app):
    event = _held_event()
    _close(event)
    clerk = make_user("resepsionis", username="pengetik")
    code = db.session.scalars(sa.select(Visit.code).where(Visit.event_id == event.id).order_by(Visit.id)).all()[3]
    skm.submit_survey_by_code(event.id, code, {k: 1 for k in UNSUR_KEYS}, "Antre lama", channel="paper",
                              entered_by_id=clerk.id, education="sma")
    assert assert_summary_is_fresh(event.id).respondents == 3


def test_the_pii_purge_refreshes_the_summary_of_the_events_it_touched(app):
    event = _held_event(days_ago=120)
    _close(event)
    assert privacy.purge_pii(timedelta(days=90)).comments == 1
    assert_summary_is_fresh(event.id)
    stored = db.session.get(EventSummary, event.id).figures["comments"]
    assert "3216014512900003" not in repr(stored)


def test_the_regency_view_reads_summaries_and_counts_as_the_live_one(app):
    closed, still_open = _held_event(), _held_event(days_ago=0)
    _close(closed)
    view = regency.regency_view()
    rows = {r.event.id: r for r in view.events}
    assert (rows[closed.id].visits, rows[closed.id].done, rows[closed.id].ikm.respondents) == (6, 6, 2)
    assert (rows[still_open.id].visits, rows[still_open.id].done) == (6, 6)
    year = today_wib().year if closed.date.year == today_wib().year else closed.date.year
    by_year = regency.regency_view(year).requests  # closed events' requests from their summaries
    live = skm.next_location_tally(year=year)
    assert [(r.code, r.desa, r.kecamatan, r.requests) for r in by_year] == \
        [(r.code, r.desa, r.kecamatan, r.requests) for r in live] and live
    # The row is what the view read: change it and the view follows (a page never counts a closed event's steps).
    db.session.execute(sa.update(EventSummary).where(EventSummary.event_id == closed.id).values(visits=999))
    db.session.commit()
    assert {r.event.id: r.visits for r in regency.regency_view().events}[closed.id] == 999


def test_the_report_pages_render_from_the_summary(client, auth, app):
    event = _held_event()
    _close(event)  # makes the koordinator
    auth.login("koordinator")
    page = client.get(f"/reports/events/{event.id}")
    assert page.status_code == 200 and 'data-testid="visits">6<' in page.get_data(as_text=True)
    workbook = client.get(f"/reports/events/{event.id}.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
