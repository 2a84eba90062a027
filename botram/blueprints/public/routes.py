"""The citizen's ticket status page: `/status/<token>` is printed as a QR code, so the URL is stable.

No name, NIK or phone ever appears here. The page polls a fragment every 10 s with the event's queue
version; an unchanged version answers 204 with no body (htmx 2 keeps the old content).
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ...domain import crest, notify, queue
from ...domain.guidance import build_guidance
from ...extensions import db
from ...models import Desk, Event, Step, Visit
from ...web import is_fragment_request, render_page_or_fragment, status_label
from . import bp


FINAL_STATES = {"done", "no_show", "transferred", "cancelled"}


LOOPBACK_HOSTS = {"localhost", "localhost.localdomain", "ip6-localhost", "0.0.0.0", "::", "::1"}


def public_url(endpoint: str, **values) -> str:
    """An address a citizen's phone can open (a printed QR code, a calendar entry): BOTRAM_PUBLIC_URL when
    set, else the address of the current request (what reception's browser typed, which may be the laptop's
    own 127.0.0.1)."""
    base = current_app.config.get("BOTRAM_PUBLIC_URL") or ""
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def status_url(token: str) -> str:
    """The ticket's status page address (public_url)."""
    return public_url("public.status", token=token)


def is_loopback(url: str) -> bool:
    """True when the address only reaches the machine that opens it (a phone would open itself)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.endswith(".localhost")


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/status/<token>")
def status(token: str):
    if len(token) > 64:
        return _not_found()
    version = db.session.scalar(
        sa.select(Event.queue_version).join(Visit, Visit.event_id == Event.id).where(Visit.public_token == token))
    if version is None:
        return _not_found()
    if is_fragment_request() and request.args.get("v", type=int) == version:
        return _no_store(current_app.response_class(status=204))

    visit = db.session.scalar(
        sa.select(Visit).where(Visit.public_token == token)
        .options(selectinload(Visit.steps).selectinload(Step.desk).selectinload(Desk.agency),
                 selectinload(Visit.steps).selectinload(Step.service), selectinload(Visit.event)))
    info = queue.visit_status(token)
    if info is None:
        return _not_found()
    desks = db.session.scalars(
        sa.select(Desk).where(Desk.event_id == visit.event_id).order_by(Desk.number)
        .options(selectinload(Desk.services), selectinload(Desk.agency))).all()
    desks_by_service: dict[int, list[Desk]] = {}
    for desk in desks:
        for service in desk.services:
            desks_by_service.setdefault(service.id, []).append(desk)
    steps = [_describe(view, visit, desks_by_service) for view in info.steps]
    active = any(view.status not in FINAL_STATES for view in info.steps)
    incomplete = any(step["incomplete"] for step in steps)
    called = steps[0] if steps and steps[0]["status"] == "called" else None
    # The tab title is what a phone shows on its lock screen or tab strip: the call itself when called.
    if called:
        page_title = _("Dipanggil ke Loket %(number)d — %(code)s", number=called["desk_number"], code=visit.code)
    else:
        page_title = _("Tiket %(code)s", code=visit.code)
    # What the page's notifier (static/js/status-notify.js) watches: the fewest people ahead in any queue of
    # this ticket, and the desk it is called to; it tells the phone once at each.
    waiting_ahead = [view.people_ahead for view in info.steps if view.status == "waiting"]
    alert = {
        "near": notify.near_ahead(visit.event),
        "ahead": min(waiting_ahead) if waiting_ahead else "",
        "called": called["desk_number"] if called else "",
        "near_text": _("Giliran tiket %(code)s sudah dekat. Mohon kembali ke ruang tunggu.", code=visit.code),
        "called_text": (_("Tiket %(code)s dipanggil ke Loket %(number)d.", code=visit.code,
                          number=called["desk_number"]) if called else ""),
    }
    response = render_page_or_fragment(
        "public/status.html", "public/_status_poll.html", visit=visit, event=visit.event, steps=steps,
        called=called, page_title=page_title, version=info.queue_version, active=active, token=token,
        incomplete=incomplete, alert=alert)
    return _no_store(response)


def _desk_words(desk: Desk) -> str:
    return _("Loket %(number)d (%(agency)s)", number=desk.number, agency=desk.agency.short_name)


def _describe(view, visit: Visit, desks_by_service: dict[int, list[Desk]]) -> dict:
    """One service of the ticket in plain Indonesian: its state, and where to go."""
    step = next(s for s in visit.steps if s.id == view.step_id)
    agency = step.service.agency
    sentence, where, missing, deadline = "", "", [], ""
    if view.status == "waiting":
        if view.people_ahead == 0:
            sentence = _("Menunggu — Anda berikutnya")
        elif view.estimated_minutes:
            sentence = _("Menunggu — %(n)d orang di depan Anda, sekitar %(m)d menit",
                         n=view.people_ahead, m=view.estimated_minutes)
        else:
            sentence = _("Menunggu — %(n)d orang di depan Anda", n=view.people_ahead)
        numbers = [str(d.number) for d in desks_by_service.get(view.service_id, [])]
        if numbers:
            where = _("Saat nomor Anda dipanggil, datang ke Loket %(numbers)s (%(agency)s).",
                      numbers=_(" atau ").join(numbers), agency=agency.short_name)
        if visit.busy_desk_id is not None:
            where = (where + " " if where else "") + _("Tempat Anda tetap aman selama dilayani di loket lain.")
    elif view.status == "called" and step.desk is not None:
        sentence = _("Dipanggil ke %(desk)s", desk=_desk_words(step.desk))
        where = _("Segera datang ke loket.")
    elif view.status == "serving" and step.desk is not None:
        sentence = _("Sedang dilayani di %(desk)s", desk=_desk_words(step.desk))
    elif view.status == "done" and view.outcome == "incomplete":
        # Not done: the citizen must come back with documents, so say which and where to get them.
        sentence = _("Belum selesai — berkas belum lengkap")
        sheet = build_guidance(step)
        missing = [{"text": line.text, "where": line.where_to_get} for line in sheet.missing]
        deadline = sheet.deadline
        if missing:
            where = _("Lengkapi berkas berikut, lalu datang kembali ke %(agency)s:", agency=agency.short_name)
        else:
            where = _("Tanyakan kepada petugas %(agency)s berkas yang masih kurang.", agency=agency.short_name)
    elif view.status == "done":
        sentence = {"referred": _("Selesai — dirujuk")}.get(view.outcome or "", _("Selesai"))
    elif view.status == "no_show":
        sentence = _("Tidak hadir saat dipanggil")
        where = _("Hubungi meja pendaftaran untuk kembali ke antrean.")
    elif view.status == "transferred":
        sentence = _("Dialihkan ke layanan lain")
    elif view.status == "cancelled":
        sentence = _("Dibatalkan")
    else:
        sentence = status_label(view.status)
    incomplete = view.status == "done" and view.outcome == "incomplete"
    return {"service_name": view.service_name, "agency_name": agency.short_name, "agency_color": agency.color,
            "status": view.status, "state_class": "incomplete" if incomplete else view.status,
            "incomplete": incomplete, "missing": missing, "deadline": deadline,
            "sentence": sentence, "where": where, "desk_number": view.desk_number,
            "people_ahead": view.people_ahead, "estimated_minutes": view.estimated_minutes}


def _not_found():
    """A friendly page for a mistyped or unknown ticket address."""
    return _no_store(current_app.response_class(render_template("public/not_found.html"), status=404,
                                                mimetype="text/html"))


@bp.route("/lambang")
def crest_image():
    """The regency's crest for printed letterheads; public like the letters that carry it. The URL carries
    the crest's digest (?v=), so a letter may keep the image for good and a new crest gets a new URL."""
    content = crest.content()
    if content is None:
        abort(404)
    response = Response(content.data, mimetype=content.content_type)
    response.set_etag(content.etag)
    immutable = request.args.get("v") == content.etag
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
