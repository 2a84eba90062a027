"""Thin views over domain/schedule.py. Public: no capability, no personal data (events, services, documents)."""
from __future__ import annotations

from datetime import datetime, timezone

import icalendar
import segno
from flask import abort, current_app, render_template, request
from flask_babel import format_time, gettext as _

from ...domain import schedule
from ...domain.booking.plan import booking_open
from ...domain.clock import today_wib
from ..public.routes import public_url
from . import bp

# A citizen's phone on a slow connection may reopen the schedule often; a few minutes of caching is harmless.
# The pages are private: base.html puts the visitor's session CSRF token in them, which no shared cache may
# hand to someone else. The feed carries nothing of a session.
PAGE_CACHE = "private, max-age=300"
FEED_CACHE = "public, max-age=300"


def _kecamatan_filter():
    """(Region or None, error message or None) from ?kecamatan=; empty means every kecamatan."""
    code = (request.args.get("kecamatan") or "").strip()
    if not code:
        return None, None
    region = schedule.kecamatan_named(code)
    if region is None:
        return None, _("Kecamatan tidak dikenal. Pilih kecamatan dari daftar.")
    return region, None


def _cached(response, policy: str = PAGE_CACHE):
    response.headers["Cache-Control"] = policy
    return response


@bp.get("/jadwal")
def index():
    region, error = _kecamatan_filter()
    events = schedule.coming_events(region.code if region else None)
    ics_url = public_url("schedule.ics", kecamatan=region.code) if region else public_url("schedule.ics")
    html = render_template("schedule/index.html", events=events, kecamatan=schedule.kecamatan_choices(),
                           chosen=region.code if region else "", region=region, error=error, ics_url=ics_url,
                           today=today_wib())
    return _cached(current_app.response_class(html, status=400 if error else 200, mimetype="text/html"))


def _event_or_404(event_id: int) -> schedule.ScheduledEvent:
    """The public event, or 404 (a draft is not news, as in the API)."""
    event = schedule.public_event(event_id)
    if event is None:
        abort(404)
    return event


@bp.get("/jadwal/<int:event_id>")
def event(event_id: int):
    found = _event_or_404(event_id)
    bookable = booking_open(event_id)
    return _cached(current_app.response_class(
        render_template("schedule/event.html", event=found, today=today_wib(), bookable=bookable),
        mimetype="text/html"))


@bp.get("/jadwal/<int:event_id>/poster")
def poster(event_id: int):
    found = _event_or_404(event_id)
    url = public_url("schedule.event", event_id=found.id)
    qr_svg = segno.make(url, error="m").svg_inline(scale=6, omitsize=True,
                                                   title=_("Kode QR jadwal %(title)s", title=found.title))
    return _cached(current_app.response_class(
        render_template("schedule/poster.html", event=found, url=url, qr_svg=qr_svg, today=today_wib()),
        mimetype="text/html"))


@bp.get("/jadwal.ics")
def ics():
    """The programme as an iCalendar feed (RFC 5545), times in UTC, one VEVENT per public event."""
    region, error = _kecamatan_filter()
    if error:
        return current_app.response_class(error + "\n", status=400, mimetype="text/plain")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Pemerintah Kabupaten Bekasi//BOTRAM//ID")
    calendar.add("version", "2.0")
    name = _("Jadwal BOTRAM Kecamatan %(name)s", name=region.name) if region else _("Jadwal BOTRAM")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Jakarta")
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    for found in schedule.feed_events(region.code if region else None):
        calendar.add_component(_vevent(found, stamp))
    response = current_app.response_class(calendar.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = "inline; filename=jadwal-botram.ics"
    return _cached(response, FEED_CACHE)


def _vevent(found: schedule.ScheduledEvent, stamp: datetime) -> icalendar.Event:
    url = public_url("schedule.event", event_id=found.id)
    vevent = icalendar.Event()
    # The same UID whatever address served the feed (LAN IP, server name): calendars must not see two events.
    vevent.add("uid", f"botram-event-{found.id}@botram.bekasikab.go.id")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", found.opens_at.astimezone(timezone.utc))
    vevent.add("dtend", found.closes_at.astimezone(timezone.utc))
    vevent.add("summary", found.title)
    vevent.add("location", ", ".join(part for part in (found.venue, _region_words(found)) if part))
    vevent.add("url", url)
    vevent.add("status", "CANCELLED" if found.phase() == "cancelled" else "CONFIRMED")
    lines = [_("Layanan dan jam (WIB):")]
    for service in found.services:
        lines.append(f"- {service.name} ({service.agency}), "
                     f"{format_time(service.opens_at, 'HH.mm')}–{format_time(service.closes_at, 'HH.mm')}")
    lines.append(_("Apa yang perlu dibawa: %(url)s", url=url))
    vevent.add("description", "\n".join(lines))
    return vevent


def _region_words(found: schedule.ScheduledEvent) -> str:
    kecamatan = _("Kecamatan %(name)s", name=found.kecamatan)
    if found.desa:
        return f"{found.desa_kind.capitalize()} {found.desa}, {kecamatan}"
    return kecamatan
