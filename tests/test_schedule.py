"""The public schedule (issue 21, first part): domain reads, pages, the iCalendar feed and the A4 poster.

Real rows on the real database; the feed is parsed back with icalendar and the poster's QR code is checked by
regenerating it from the URL the page prints (segno is deterministic) and comparing the drawn modules."""
from __future__ import annotations

import re
from datetime import time, timedelta, timezone

import icalendar
import pytest
import segno
import sqlalchemy as sa

from botram.domain import schedule
from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reference import kecamatan_code
from botram.extensions import db
from botram.models import EventStatus

from .factories import make_desk, make_event, service
from .html_text import texts

def _world():
    """Five events: a coming open one (Cikarang Timur, two desks), a coming draft, a past closed one, one called
    off before its day (closed, in the future), and a coming one in Cikarang Pusat."""
    today = today_wib()
    coming = make_event("BOTRAM Desa Karangsari", day=today + timedelta(days=7), kecamatan="Cikarang Timur")
    make_desk(coming, 1, "DISDUKCAPIL", ["KK", "AKTA-MATI"])
    late = make_desk(coming, 2, "DISDUKCAPIL", ["KK"])
    late.opens_at = wib_to_utc(coming.date, time(12))
    late.closes_at = wib_to_utc(coming.date, time(19))
    make_desk(coming, 3, "BAPENDA", ["PBB-BAYAR"])
    draft = make_event("BOTRAM Rahasia", day=today + timedelta(days=3), status=EventStatus.DRAFT.value)
    make_desk(draft, 1, "DISDUKCAPIL", ["KK"])
    past = make_event("BOTRAM Lalu", day=today - timedelta(days=2), status=EventStatus.CLOSED.value)
    make_desk(past, 1, "DISDUKCAPIL", ["KK"])
    called_off = make_event("BOTRAM Batal", day=today + timedelta(days=10), status=EventStatus.CLOSED.value)
    make_desk(called_off, 1, "DINSOS", ["DTKS"])
    pusat = make_event("BOTRAM Alun-alun", day=today + timedelta(days=14), kecamatan="Cikarang Pusat")
    make_desk(pusat, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    db.session.commit()
    return dict(coming=coming, draft=draft, past=past, called_off=called_off, pusat=pusat)


# ------------------------------------------------------------------ domain

def test_coming_events_leave_out_drafts_and_past_days_in_date_order(app):
    w = _world()
    found = schedule.coming_events()
    assert [e.title for e in found] == ["BOTRAM Desa Karangsari", "BOTRAM Batal", "BOTRAM Alun-alun"]
    phases = {e.title: e.phase() for e in found}
    assert phases == {"BOTRAM Desa Karangsari": "coming", "BOTRAM Batal": "cancelled", "BOTRAM Alun-alun": "coming"}
    assert schedule.public_event(w["draft"].id) is None
    # a past event keeps its page (a printed QR code still opens), saying it is over
    assert schedule.public_event(w["past"].id).phase() == "past"


def test_phases_of_today(app):
    today = today_wib()
    open_today = make_event("Hari ini", day=today)
    closed_today = make_event("Tutup hari ini", day=today, status=EventStatus.CLOSED.value)
    assert schedule.public_event(open_today.id).phase() == "today"
    assert schedule.public_event(closed_today.id).phase() == "ended"
    assert [e.title for e in schedule.coming_events()] == ["Hari ini", "Tutup hari ini"]


def test_kecamatan_filter(app):
    _world()
    pusat = kecamatan_code("Cikarang Pusat")
    assert [e.title for e in schedule.coming_events(pusat)] == ["BOTRAM Alun-alun"]
    assert schedule.coming_events(kecamatan_code("Setu")) == []
    assert schedule.kecamatan_named(pusat).name == "Cikarang Pusat"
    assert len(schedule.kecamatan_choices()) == 23
    for junk in ("", None, "32.16", "99.99.99", "1" * 400, "32.16.05.2001"):
        assert schedule.kecamatan_named(junk) is None, junk


def test_services_hours_come_from_their_desks_and_carry_what_to_bring(app):
    w = _world()
    event = schedule.public_event(w["coming"].id)
    by_code = {s.code: s for s in event.services}
    assert set(by_code) == {"KK", "AKTA-MATI", "PBB-BAYAR"}
    kk = by_code["KK"]
    # KK is on desk 1 (08-16) and desk 2 (12-19): earliest opening, latest closing
    assert kk.desk_numbers == (1, 2)
    assert kk.opens_at == wib_to_utc(event.date, time(8)) and kk.closes_at == wib_to_utc(event.date, time(19))
    assert by_code["AKTA-MATI"].closes_at == wib_to_utc(event.date, time(16))
    catalogue = service("AKTA-MATI").requirements
    assert [r.text for r in by_code["AKTA-MATI"].requirements] == [r.text for r in catalogue]
    assert len(catalogue) == 5
    rekam = schedule.public_event(w["pusat"].id).services[0]
    assert [r.optional for r in rekam.requirements] == [r.optional for r in service("KTP-REKAM").requirements]
    assert any(r.optional for r in rekam.requirements)


def _queries(app, fn) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_reading_the_schedule_costs_the_same_queries_for_one_event_or_many(app):
    today = today_wib()
    first = make_event("Satu", day=today + timedelta(days=1))
    make_desk(first, 1, "DISDUKCAPIL", ["KK"])
    db.session.expire_all()
    one = _queries(app, schedule.coming_events)
    for n in range(2, 8):
        more = make_event(f"Lagi {n}", day=today + timedelta(days=n), kecamatan="Setu")
        make_desk(more, 1, "DISDUKCAPIL", ["KK", "AKTA-MATI"])
        make_desk(more, 2, "BAPENDA", ["PBB-BAYAR"])
    db.session.expire_all()
    many = _queries(app, schedule.coming_events)
    assert len(schedule.coming_events()) == 7
    assert many == one, (one, many)


# ------------------------------------------------------------------ pages

def test_schedule_page_lists_coming_events_and_filters_by_kecamatan(app, client):
    w = _world()
    page = client.get("/jadwal")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    titles = texts(html, "h2")
    assert titles == ["BOTRAM Desa Karangsari", "BOTRAM Batal", "BOTRAM Alun-alun"]
    assert "BOTRAM Rahasia" not in html and "BOTRAM Lalu" not in html
    assert "Dibatalkan" in texts(html, "span", "phase-cancelled")
    # no script on a page meant for a slow phone
    assert "<script" not in html
    # cached by the phone only: the page carries the session's CSRF token (base.html)
    assert page.headers["Cache-Control"] == "private, max-age=300"
    pusat = kecamatan_code("Cikarang Pusat")
    filtered = client.get(f"/jadwal?kecamatan={pusat}").get_data(as_text=True)
    assert texts(filtered, "h2") == ["BOTRAM Alun-alun"]
    assert f'value="{pusat}" selected' in filtered
    assert f"/jadwal.ics?kecamatan={pusat}" in filtered
    none = client.get(f"/jadwal?kecamatan={kecamatan_code('Setu')}").get_data(as_text=True)
    assert "Belum ada BOTRAM terjadwal di Kecamatan Setu." in " ".join(none.split())
    bad = client.get("/jadwal?kecamatan=%3Cscript%3E")
    assert bad.status_code == 400
    assert "Kecamatan tidak dikenal" in bad.get_data(as_text=True)
    assert "<script>" not in bad.get_data(as_text=True)
    assert w["coming"].id


def test_event_page_shows_services_hours_and_what_to_bring(app, client):
    w = _world()
    html = client.get(f"/jadwal/{w['coming'].id}").get_data(as_text=True)
    # by agency, then name
    assert texts(html, "h3") == [service("PBB-BAYAR").name, "Akta kematian", "Perubahan Kartu Keluarga"]
    bring = " ".join(texts(html, "ul", "bring-list"))
    for requirement in service("AKTA-MATI").requirements:
        assert requirement.text in bring
    assert "08.00–19.00 WIB" in " ".join(texts(html, "span", "service-meta"))
    assert client.get(f"/jadwal/{w['draft'].id}").status_code == 404
    assert client.get("/jadwal/999999").status_code == 404
    past = client.get(f"/jadwal/{w['past'].id}").get_data(as_text=True)
    assert "sudah berlalu" in past
    called_off = client.get(f"/jadwal/{w['called_off'].id}").get_data(as_text=True)
    assert "BOTRAM ini dibatalkan" in called_off


def test_schedule_speaks_english_when_chosen(app, client):
    w = _world()
    page = client.get("/jadwal").get_data(as_text=True)
    assert 'action="/lang/en"' in page and 'action="/lang/id"' not in page  # only the other language
    assert 'name="next" value="/jadwal?"' in page
    assert "Jadwal BOTRAM" in texts(page, "h1")
    answer = client.post("/lang/en", data={"next": f"/jadwal/{w['coming'].id}"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/jadwal/{w['coming'].id}")
    html = client.get(f"/jadwal/{w['coming'].id}").get_data(as_text=True)
    assert "Services and what to bring" in texts(html, "h2")
    assert "What to bring" in texts(html, "h4")
    assert texts(client.get("/jadwal").get_data(as_text=True), "h1") == ["BOTRAM schedule"]


def test_login_page_links_the_schedule_and_keeps_its_form(app, client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/jadwal"' in html
    assert re.search(r'<form method="post"', html) and 'name="username"' in html and 'name="password"' in html


# ------------------------------------------------------------------ iCalendar

def _feed(client, query: str = "") -> icalendar.Calendar:
    response = client.get("/jadwal.ics" + query)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "public, max-age=300"
    return icalendar.Calendar.from_ical(response.get_data())


def test_ical_feed_carries_every_public_event_with_times_venue_and_link(app, client):
    app.config["BOTRAM_PUBLIC_URL"] = "http://192.168.1.10:5000"
    w = _world()
    make_event("BOTRAM Lama", day=today_wib() - timedelta(days=schedule.FEED_DAYS_BACK + 1),
               status=EventStatus.CLOSED.value)
    events = {str(v["summary"]): v for v in _feed(client).walk("VEVENT")}
    # the past one stays in the calendar a while (not for ever); the draft never appears
    assert set(events) == {"BOTRAM Desa Karangsari", "BOTRAM Batal", "BOTRAM Alun-alun", "BOTRAM Lalu"}
    coming = events["BOTRAM Desa Karangsari"]
    start, end = coming.decoded("dtstart"), coming.decoded("dtend")
    assert start == wib_to_utc(w["coming"].date, time(8)) and end == wib_to_utc(w["coming"].date, time(16))
    assert start.utcoffset() == timedelta(0) and start.tzinfo is not None
    assert str(coming["url"]) == f"http://192.168.1.10:5000/jadwal/{w['coming'].id}"
    assert "Balai Desa" in str(coming["location"]) and "Kecamatan Cikarang Timur" in str(coming["location"])
    description = str(coming["description"])
    assert "Akta kematian (Disdukcapil), 08.00–16.00" in description
    assert "Perubahan Kartu Keluarga (Disdukcapil), 08.00–19.00" in description
    assert str(coming["status"]) == "CONFIRMED"
    assert str(events["BOTRAM Batal"]["status"]) == "CANCELLED"
    assert len({str(v["uid"]) for v in events.values()}) == 4


def test_ical_feed_per_kecamatan(app, client):
    _world()
    pusat = kecamatan_code("Cikarang Pusat")
    summaries = [str(v["summary"]) for v in _feed(client, f"?kecamatan={pusat}").walk("VEVENT")]
    assert summaries == ["BOTRAM Alun-alun"]
    assert _feed(client, f"?kecamatan={kecamatan_code('Setu')}").walk("VEVENT") == []
    bad = client.get("/jadwal.ics?kecamatan=xyz")
    assert bad.status_code == 400 and "Kecamatan tidak dikenal" in bad.get_data(as_text=True)


# ------------------------------------------------------------------ poster

@pytest.mark.parametrize("public_url", ["http://192.168.1.10:5000", None])
def test_poster_qr_points_at_the_event_page(app, client, public_url):
    app.config["BOTRAM_PUBLIC_URL"] = public_url
    w = _world()
    html = client.get(f"/jadwal/{w['coming'].id}/poster").get_data(as_text=True)
    expected = f"{public_url or 'http://localhost'}/jadwal/{w['coming'].id}"
    assert texts(html, "p", "poster-url") == [expected]
    # the drawn QR code is the one for that address: segno draws the same path for the same data
    drawn = re.search(r'<path[^>]* d="([^"]+)"', html).group(1)
    again = segno.make(expected, error="m").svg_inline(scale=6, omitsize=True)
    assert re.search(r'<path[^>]* d="([^"]+)"', again).group(1) == drawn
    assert "@page" in open(app.static_folder + "/css/schedule.css", encoding="utf-8").read()
    assert texts(html, "h1", "poster-title") == ["BOTRAM Desa Karangsari"]
    assert "Surat keterangan kematian" in html
    assert client.get(f"/jadwal/{w['draft'].id}/poster").status_code == 404
