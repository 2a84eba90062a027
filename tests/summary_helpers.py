"""What a test compares to say an event's summary row equals a fresh computation (botram/domain/summaries.py)."""
from __future__ import annotations

from botram.domain import stats, summaries
from botram.extensions import db
from botram.models import Event, EventSummary


def digest(report: stats.EventReport) -> dict:
    """Everything the event report page, its XLSX and the API show of an event, as plain values."""
    return {
        "stats": stats.stats_payload(report),
        "completed": report.completed, "priority": dict(report.priority), "channels": dict(report.channels),
        "profile": {name: [(str(label), n) for label, n in rows] for name, rows in report.profile.items()},
        "comments": [(c.comment, c.created_at) for c in report.comments],
        "ikm_groups": [(g.id, g.name, g.color, g.agency_name, g.result.as_dict())
                       for g in report.ikm_agencies + report.ikm_services],
        "groups": [(g.id, g.code, g.name, g.agency, g.color, g.visit_count, g.completed)
                   for g in report.agencies + report.services],
        "hours": [(h.label, h.start, h.arrivals, h.open_desks, h.exceeded_agencies) for h in report.hours.hours],
        "after_close": report.hours.after_close,
    }


def assert_summary_is_fresh(event_id: int) -> EventSummary:
    """The summary row exists, is what the pages read, and equals the report computed now from the raw rows (at
    the row's own time: unserved-at-closing depends on it); the regency view's counts equal the live ones."""
    db.session.expire_all()
    row = db.session.get(EventSummary, event_id)
    assert row is not None, f"event {event_id} has no summary"
    event = db.session.get(Event, event_id)
    stored = summaries.event_report(event_id)
    assert stored.generated_at == row.computed_at  # the page reads the row, not a live computation
    fresh = stats.event_report(event_id, at=row.computed_at)
    assert digest(stored) == digest(fresh)
    assert summaries.look_back(stored) == summaries._look_back_live(fresh)  # the live forecast's look-back
    # booked vs walk-in (the report's rows, and the totals the regency view adds up)
    from botram.domain.booking import report as booking_report

    assert row.booking is not None, (row.event_id, row.booking, row.computed_at, row.figures.keys())
    assert summaries.booked_rows(event_id) == booking_report.booked_vs_walk_in(event_id, at=row.computed_at)
    assert summaries.booking_totals([event_id]) == (booking_report.booking_totals(event_id, at=row.computed_at)
                                                    or {})
    assert (row.visits, row.done_steps, row.respondents) == (
        fresh.visits, fresh.states["done"], fresh.ikm.respondents)
    assert event.status == "closed"
    return row
