"""The events surface over HTTP: roles, forms, htmx fragments, bad input."""
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain.clock import to_wib, today_wib
from botram.extensions import db
from botram.models import AuditLog, Desk, Event, Region

from .conftest import count
from .factories import agency, make_desk, make_event, make_user, service


def _kecamatan(name="Cikarang Timur") -> Region:
    return db.session.scalar(sa.select(Region).where(Region.level == 3, Region.name == name))


def _desa(kecamatan: Region) -> Region:
    return db.session.scalar(sa.select(Region).where(Region.parent_code == kecamatan.code).order_by(Region.code))


def _event_form(**overrides) -> dict:
    kec = _kecamatan()
    data = {"title": "BOTRAM Balai Desa Jatireja", "date": (today_wib() + timedelta(days=5)).isoformat(),
            "venue": "Balai Desa Jatireja", "kecamatan_code": kec.code, "desa_code": _desa(kec).code,
            "opens": "08:00", "closes": "16:00"}
    data.update(overrides)
    return data


def _desk_form(**overrides) -> dict:
    data = {"number": "1", "label": "Disdukcapil — KTP-el", "agency_id": str(agency("DISDUKCAPIL").id),
            "service_ids": [str(service("KTP-REKAM").id), str(service("KIA").id)], "opens": "08:00",
            "closes": "15:00"}
    data.update(overrides)
    return data


@pytest.fixture
def koordinator(auth):
    make_user("koordinator")
    auth.login("koordinator")


# ---------------------------------------------------------------- roles

READ_URLS = ["/events/", "/events/{id}"]
WRITE_GETS = ["/events/new", "/events/{id}/edit", "/events/{id}/desks/new", "/events/desa-options",
              "/events/{id}/desks/{desk}/edit", "/events/{id}/desks/{desk}/hours", "/events/{id}/desks/services"]


@pytest.mark.parametrize("role, allowed", [("koordinator", True), ("admin", True), ("keuangan", "read"),
                                           ("resepsionis", False), ("petugas", False)])
def test_roles(client, auth, app, role, allowed):
    event = make_event(status="draft")
    desk = make_desk(event)
    make_user(role)
    auth.login(role)
    for url in READ_URLS:
        status = client.get(url.format(id=event.id)).status_code
        assert status == (200 if allowed else 403), url
    for url in WRITE_GETS:
        status = client.get(url.format(id=event.id, desk=desk.id)).status_code
        assert status == (200 if allowed is True else 403), url
    post = client.post(f"/events/{event.id}/running-text", data={"running_text": "Halo"})
    assert post.status_code == (303 if allowed is True else 403)


def test_anonymous_is_sent_to_login(client, app):
    event = make_event()
    for url in ["/events/", f"/events/{event.id}", "/events/new"]:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post("/events/new", data=_event_form()).status_code == 302
    assert client.get("/events/", headers={"HX-Request": "true"}).headers["HX-Redirect"].startswith("/login")
    assert count(Event) == 1


def test_nav_links_to_the_list(client, koordinator):
    assert 'href="/events/"' in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- list

def test_list_filters_by_status_and_month_and_answers_htmx_with_the_fragment(client, koordinator, htmx_headers):
    today = today_wib()
    make_event("BOTRAM Hari Ini", status="open")
    make_event("BOTRAM Draf Depan", day=today + timedelta(days=40), status="draft")
    page = client.get("/events/").get_data(as_text=True)
    assert "BOTRAM Hari Ini" in page and "BOTRAM Draf Depan" in page and "<html" in page
    drafts = client.get("/events/?status=draft", headers=htmx_headers)
    body = drafts.get_data(as_text=True)
    assert drafts.status_code == 200 and "<html" not in body and 'id="event-list"' in body
    assert "BOTRAM Draf Depan" in body and "BOTRAM Hari Ini" not in body
    assert "HX-Request" in drafts.headers["Vary"]
    month = client.get(f"/events/?month={today:%Y-%m}").get_data(as_text=True)
    assert "BOTRAM Hari Ini" in month and ("BOTRAM Draf Depan" not in month or (today + timedelta(days=40)).month == today.month)


def test_list_pages_25_events_keeping_the_filters(client, koordinator, htmx_headers):
    today = today_wib()
    for i in range(30):
        make_event(f"BOTRAM Urut {i:02d}", day=today - timedelta(days=i), status="closed")
    first = client.get("/events/").get_data(as_text=True)
    assert first.count('class="ev-title"') == 25 and "BOTRAM Urut 00" in first and "BOTRAM Urut 25" not in first
    assert "Kegiatan 1–25 dari 30." in first and "Halaman 1 dari 2" in first
    assert 'href="/events/?page=2"' in first
    second = client.get("/events/?page=2&status=closed", headers=htmx_headers)
    body = second.get_data(as_text=True)
    assert second.status_code == 200 and "<html" not in body and body.count('class="ev-title"') == 5
    assert "BOTRAM Urut 29" in body and "BOTRAM Urut 24" not in body
    assert 'href="/events/?page=1&amp;status=closed"' in body  # the filters stay on the page links
    past_the_end = client.get("/events/?page=9").get_data(as_text=True)
    assert "Halaman 2 dari 2" in past_the_end and "BOTRAM Urut 29" in past_the_end


def test_list_filters_by_year_and_kecamatan(client, koordinator):
    today = today_wib()
    make_event("BOTRAM Tahun Lalu", day=today.replace(year=today.year - 1), status="closed")
    make_event("BOTRAM Cibarusah", kecamatan="Cibarusah")
    make_event("BOTRAM Cikarang Timur")
    this_year = client.get(f"/events/?year={today.year}").get_data(as_text=True)
    assert "BOTRAM Tahun Lalu" not in this_year and "BOTRAM Cibarusah" in this_year
    code = db.session.scalar(sa.select(Region.code).where(Region.level == 3, Region.name == "Cibarusah"))
    place = client.get(f"/events/?kecamatan={code}").get_data(as_text=True)
    assert "BOTRAM Cibarusah" in place and "BOTRAM Cikarang Timur" not in place
    assert f'<option value="{code}" selected>' in place


@pytest.mark.parametrize("query, message", [
    ("year=20x6", "Tahun tidak valid."),
    ("year=1999", "Tahun tidak valid."),
    ("year=²²²²", "Tahun tidak valid."),  # str.isdigit() says yes, int() refuses: was a 500
    ("page=²", "Nomor halaman tidak valid."),
    ("kecamatan=32.16.99", "Kecamatan tidak dikenal."),
    ("kecamatan=" + "9" * 300, "Kecamatan tidak dikenal."),
    ("page=0", "Nomor halaman tidak valid."),
    ("page=abc", "Nomor halaman tidak valid."),
    ("page=" + "9" * 300, "Nomor halaman tidak valid."),
    ("status=bogus", "Status tidak dikenal."),
    ("month=2026-13", "Bulan tidak valid."),
    ("month=abc", "Bulan tidak valid."),
    ("month=" + "9" * 300, "Bulan tidak valid."),
])
def test_list_refuses_bad_filters_with_a_message(client, koordinator, query, message):
    make_event("BOTRAM Tetap Tampil")
    response = client.get(f"/events/?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body and "BOTRAM Tetap Tampil" in body


# ---------------------------------------------------------------- create / edit

def test_create_event_redirects_to_its_detail(client, koordinator):
    response = client.post("/events/new", data=_event_form())
    event = db.session.scalar(sa.select(Event))
    assert response.status_code == 303 and response.headers["Location"] == f"/events/{event.id}"
    assert event.status == "draft" and to_wib(event.opens_at).time() == time(8)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kegiatan dibuat sebagai draf" in page and "BOTRAM Balai Desa Jatireja" in page


def test_create_form_lists_kecamatan_and_reloads_desa(client, koordinator, htmx_headers):
    page = client.get("/events/new").get_data(as_text=True)
    assert "Cikarang Timur" in page and 'hx-get="/events/desa-options"' in page and 'hx-target="#desa-field"' in page
    kec = _kecamatan()
    fragment = client.get(f"/events/desa-options?kecamatan_code={kec.code}", headers=htmx_headers)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and 'id="desa-field"' in body and _desa(kec).name in body
    assert "<html" not in body
    empty = client.get("/events/desa-options?kecamatan_code=zzz").get_data(as_text=True)
    assert "Pilih kecamatan dahulu" in empty and "disabled" in empty


def test_without_javascript_the_refresh_button_reloads_the_desa_list(client, koordinator):
    kec = _kecamatan("Tambun Selatan")
    response = client.post("/events/new", data=_event_form(kecamatan_code=kec.code, desa_code="", refresh="1"))
    assert response.status_code == 200 and _desa(kec).name in response.get_data(as_text=True)
    assert count(Event) == 0


@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "Nama kegiatan wajib diisi."),
    ({"title": "x" * 161}, "Nama kegiatan 3–160 karakter."),
    ({"date": ""}, "Tanggal wajib diisi."),
    ({"date": "28-11-2026"}, "Tanggal tidak valid."),
    ({"date": "2020-01-01"}, "Tanggal tidak boleh sebelum hari ini."),
    ({"venue": ""}, "Tempat wajib diisi."),
    ({"kecamatan_code": "", "desa_code": ""}, "Pilih kecamatan di Kabupaten Bekasi."),
    ({"kecamatan_code": "32.75.01"}, "Pilih kecamatan di Kabupaten Bekasi."),
    ({"desa_code": ""}, "Pilih desa/kelurahan."),
    ({"opens": ""}, "Jam buka wajib diisi."),
    ({"opens": "25:00"}, "Isi jam dengan format JJ:MM"),
    ({"closes": "pagi"}, "Isi jam dengan format JJ:MM"),
    ({"opens": "16:00", "closes": "08:00"}, "Jam tutup harus setelah jam buka"),
])
def test_create_event_bad_input(client, koordinator, overrides, message):
    response = client.post("/events/new", data=_event_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Event) == 0


def test_desa_of_another_kecamatan_is_refused_and_the_list_follows_the_kecamatan(client, koordinator):
    other = _kecamatan("Tambun Selatan")
    response = client.post("/events/new", data=_event_form(kecamatan_code=other.code))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "tidak berada di kecamatan" in body
    assert _desa(other).name in body and count(Event) == 0


def test_create_without_csrf_is_refused(client, koordinator):
    response = client.post("/events/new", data=_event_form(), no_csrf=True)
    assert response.status_code == 400 and count(Event) == 0


def test_edit_event_and_closed_event_is_refused(client, koordinator):
    event = make_event(status="draft")
    form = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="08:00"' in form and event.title in form
    response = client.post(f"/events/{event.id}/edit", data=_event_form(title="BOTRAM Diganti",
                                                                        date=event.date.isoformat()))
    assert response.status_code == 303
    assert db.session.get(Event, event.id).title == "BOTRAM Diganti"
    closed = make_event("Sudah selesai", status="closed")
    refused = client.post(f"/events/{closed.id}/edit", data=_event_form(date=closed.date.isoformat()))
    assert refused.status_code == 303 and db.session.get(Event, closed.id).title == "Sudah selesai"
    assert "tidak dapat diubah" in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_unknown_event_is_404(client, koordinator):
    assert client.get("/events/999").status_code == 404
    assert client.post("/events/999/status", data={"status": "open"}).status_code == 404
    assert client.get("/events/abc").status_code == 404


# ---------------------------------------------------------------- detail and status

def test_detail_shows_summary_desks_and_status_buttons(client, koordinator, app):
    event = make_event(status="draft")
    make_desk(event, 1, service_codes=["KTP-REKAM"])
    make_desk(event, 2, agency_code="BAPENDA", service_codes=["PBB-BAYAR"])
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Perekaman KTP-el" in page and "Informasi dan pembayaran PBB-P2" in page
    assert "Kec. Cikarang Timur" in page and "08.00–16.00" in page
    assert "Buka kegiatan" in page and "--agency: #E69F00" in page
    assert (f'href="/board/{event.id}"' in page) == ("board.show" in app.view_functions)


def test_keuangan_reads_without_write_controls(client, auth, app):
    event = make_event(status="draft")
    make_desk(event)
    make_user("keuangan")
    auth.login("keuangan")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert ">Buka kegiatan</button>" not in page and "Tambah loket" not in page and "Ubah kegiatan" not in page
    assert client.post(f"/events/{event.id}/status", data={"status": "open"}).status_code == 403
    assert db.session.get(Event, event.id).status == "draft"


def test_status_transitions_through_the_page(client, koordinator):
    event = make_event(status="draft")
    refused = client.post(f"/events/{event.id}/status", data={"status": "open"})
    assert refused.status_code == 303
    assert "paling sedikit satu loket" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert db.session.get(Event, event.id).status == "draft"
    make_desk(event, state="closed")
    assert client.post(f"/events/{event.id}/status", data={"status": "open"}).status_code == 303
    assert db.session.get(Event, event.id).status == "open"
    assert db.session.get(Event, event.id).desks[0].state == "open"
    client.post(f"/events/{event.id}/status", data={"status": "closed"})
    assert db.session.get(Event, event.id).status == "closed"
    client.post(f"/events/{event.id}/status", data={"status": "open"})
    assert db.session.get(Event, event.id).status == "closed"
    assert client.post(f"/events/{event.id}/status", data={}).status_code == 400
    assert count(AuditLog, AuditLog.action == "event.status") == 2


def test_running_text_htmx_and_plain(client, koordinator, htmx_headers):
    event = make_event()
    response = client.post(f"/events/{event.id}/running-text", data={"running_text": "Siapkan KK dan KTP-el."},
                           headers=htmx_headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="running-text"' in body and "<html" not in body
    assert "botram:toast" in response.headers["HX-Trigger"]
    assert db.session.get(Event, event.id).running_text == "Siapkan KK dan KTP-el."
    too_long = client.post(f"/events/{event.id}/running-text", data={"running_text": "x" * 501}, headers=htmx_headers)
    assert too_long.status_code == 422 and "paling banyak 500 karakter" in too_long.get_data(as_text=True)
    assert db.session.get(Event, event.id).running_text == "Siapkan KK dan KTP-el."
    plain = client.post(f"/events/{event.id}/running-text", data={"running_text": ""})
    assert plain.status_code == 303 and db.session.get(Event, event.id).running_text == ""


# ---------------------------------------------------------------- desks

def test_add_desk_inline_through_htmx(client, koordinator, htmx_headers):
    event = make_event(status="draft")
    form = client.get(f"/events/{event.id}/desks/new", headers=htmx_headers).get_data(as_text=True)
    assert 'id="desks"' in form and "<html" not in form and 'value="1"' in form
    assert 'hx-target="#desk-services"' in form
    response = client.post(f"/events/{event.id}/desks/new", data=_desk_form(), headers=htmx_headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Disdukcapil — KTP-el" in body and "<html" not in body
    assert "Loket 1 ditambahkan" in response.headers["HX-Trigger"]
    desk = db.session.scalar(sa.select(Desk))
    assert [s.code for s in desk.services] == ["KIA", "KTP-REKAM"] and to_wib(desk.closes_at).time() == time(15)


def test_add_desk_without_htmx_redirects(client, koordinator):
    event = make_event(status="draft")
    page = client.get(f"/events/{event.id}/desks/new")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    response = client.post(f"/events/{event.id}/desks/new", data=_desk_form())
    assert response.status_code == 303 and response.headers["Location"] == f"/events/{event.id}#desks"
    assert count(Desk) == 1


def test_services_reload_for_the_chosen_agency(client, koordinator, htmx_headers):
    event = make_event(status="draft")
    bapenda = agency("BAPENDA")
    body = client.get(f"/events/{event.id}/desks/services?agency_id={bapenda.id}", headers=htmx_headers) \
        .get_data(as_text=True)
    assert 'id="desk-services"' in body and "PBB" in body and "KTP" not in body
    assert "Pilih instansi" in client.get(f"/events/{event.id}/desks/services?agency_id=x").get_data(as_text=True)
    refresh = client.post(f"/events/{event.id}/desks/new", data=_desk_form(agency_id=str(bapenda.id), refresh="1"))
    assert refresh.status_code == 200 and "PBB-MUTASI" in refresh.get_data(as_text=True) and count(Desk) == 0


@pytest.mark.parametrize("overrides, message", [
    ({"number": ""}, "Nomor loket wajib diisi."),
    ({"number": "abc"}, "Nomor loket harus berupa angka 1–99."),
    ({"number": "0"}, "Nomor loket 1–99."),
    ({"number": "100"}, "Nomor loket 1–99."),
    ({"label": ""}, "Nama loket wajib diisi."),
    ({"label": "x" * 81}, "Nama loket 2–80 karakter."),
    ({"agency_id": ""}, "Pilih instansi."),
    ({"agency_id": "abc"}, "Instansi tidak dikenal."),
    ({"agency_id": "9999"}, "Pilih instansi."),
    ({"service_ids": []}, "Pilih paling sedikit satu layanan."),
    ({"service_ids": ["abc"]}, "Layanan tidak dikenal."),
    ({"service_ids": ["99999"]}, "Layanan tidak dikenal."),
    ({"opens": "17:00", "closes": "08:00"}, "Jam tutup harus setelah jam buka"),
    ({"closes": "xx"}, "Isi jam dengan format JJ:MM"),
])
def test_add_desk_bad_input_answers_the_fragment_with_the_message(client, koordinator, htmx_headers, overrides,
                                                                  message):
    event = make_event(status="draft")
    response = client.post(f"/events/{event.id}/desks/new", data=_desk_form(**overrides), headers=htmx_headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body and 'id="desks"' in body and "<html" not in body
    assert count(Desk) == 0


def test_services_of_another_agency_and_duplicate_numbers_are_refused(client, koordinator, htmx_headers):
    event = make_event(status="draft")
    wrong = client.post(f"/events/{event.id}/desks/new", data=_desk_form(service_ids=[str(service("DTKS").id)]),
                        headers=htmx_headers)
    assert wrong.status_code == 422 and "bukan layanan Disdukcapil" in wrong.get_data(as_text=True)
    make_desk(event, 1)
    duplicate = client.post(f"/events/{event.id}/desks/new", data=_desk_form(), headers=htmx_headers)
    assert duplicate.status_code == 409 and "Loket 1 sudah ada" in duplicate.get_data(as_text=True)
    assert count(Desk) == 1


def test_edit_desk(client, koordinator, htmx_headers):
    event = make_event(status="draft")
    desk = make_desk(event, 3)
    form = client.get(f"/events/{event.id}/desks/{desk.id}/edit", headers=htmx_headers).get_data(as_text=True)
    assert "Ubah loket 3" in form and "checked" in form
    response = client.post(f"/events/{event.id}/desks/{desk.id}/edit",
                           data=_desk_form(number="3", label="Loket KTP"), headers=htmx_headers)
    assert response.status_code == 200 and db.session.get(Desk, desk.id).label == "Loket KTP"
    other = make_event("Lain", status="draft")
    assert client.get(f"/events/{other.id}/desks/{desk.id}/edit").status_code == 404


def test_desk_hours_extended_on_the_day(client, koordinator, htmx_headers):
    event = make_event(status="open")
    desk = make_desk(event)
    form = client.get(f"/events/{event.id}/desks/{desk.id}/hours", headers=htmx_headers).get_data(as_text=True)
    assert 'value="16:00"' in form
    response = client.post(f"/events/{event.id}/desks/{desk.id}/hours", data={"opens": "08:00", "closes": "18:00"},
                           headers=htmx_headers)
    assert response.status_code == 200 and "diperpanjang" in response.get_data(as_text=True)
    assert to_wib(db.session.get(Desk, desk.id).closes_at).time() == time(18)
    assert count(AuditLog, AuditLog.action == "desk.hours") == 1
    bad = client.post(f"/events/{event.id}/desks/{desk.id}/hours", data={"opens": "08:00", "closes": "07:00"},
                      headers=htmx_headers)
    assert bad.status_code == 422 and "Jam tutup harus setelah jam buka" in bad.get_data(as_text=True)
    empty = client.post(f"/events/{event.id}/desks/{desk.id}/hours", data={"opens": "08:00", "closes": ""})
    assert empty.status_code == 422 and "Jam tutup wajib diisi." in empty.get_data(as_text=True)
    assert to_wib(db.session.get(Desk, desk.id).closes_at).time() == time(18)


def test_delete_desk(client, koordinator, htmx_headers):
    event = make_event(status="draft")
    desk = make_desk(event)
    response = client.post(f"/events/{event.id}/desks/{desk.id}/delete", headers=htmx_headers)
    assert response.status_code == 200 and count(Desk) == 0
    assert "Belum ada loket" in response.get_data(as_text=True)
    assert client.post(f"/events/{event.id}/desks/{desk.id}/delete").status_code == 404


def test_closed_event_desks_cannot_change(client, koordinator, htmx_headers):
    event = make_event(status="closed")
    desk = make_desk(event, state="closed")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Tambah loket" not in page and "Ubah kegiatan" not in page
    for url, data in [(f"/events/{event.id}/desks/new", _desk_form(number="2")),
                      (f"/events/{event.id}/desks/{desk.id}/edit", _desk_form()),
                      (f"/events/{event.id}/desks/{desk.id}/hours", {"opens": "08:00", "closes": "20:00"}),
                      (f"/events/{event.id}/desks/{desk.id}/delete", {})]:
        response = client.post(url, data=data, headers=htmx_headers)
        assert response.status_code == 409 and "sudah ditutup" in response.get_data(as_text=True), url
    assert count(Desk) == 1 and to_wib(db.session.get(Desk, desk.id).closes_at).time() == time(16)
    assert client.post(f"/events/{event.id}/running-text", data={"running_text": "x"}).status_code == 409


def test_quick_extend_buttons(client, koordinator, htmx_headers):
    event = make_event(status="open", closes=time(23, 30))
    desk = make_desk(event)
    response = client.post(f"/events/{event.id}/desks/{desk.id}/hours", data={"extend": "30"}, headers=htmx_headers)
    assert response.status_code == 422
    # 23:30 + 30 minutes crosses midnight: refused with the rule's message, nothing changed
    assert "Jam tutup tidak boleh melewati tengah malam" in response.get_data(as_text=True)
    assert to_wib(db.session.get(Desk, desk.id).closes_at).time() == time(23, 30)
    other = make_event("Lain", status="open")
    desk2 = make_desk(other)
    ok = client.post(f"/events/{other.id}/desks/{desk2.id}/hours", data={"extend": "60"}, headers=htmx_headers)
    assert ok.status_code == 200 and to_wib(db.session.get(Desk, desk2.id).closes_at).time() == time(17)
    assert client.post(f"/events/{other.id}/desks/{desk2.id}/hours", data={"extend": "999"}).status_code == 400
    no_csrf = client.post(f"/events/{other.id}/desks/{desk2.id}/hours", data={"extend": "30"}, no_csrf=True)
    assert no_csrf.status_code == 400
    assert to_wib(db.session.get(Desk, desk2.id).closes_at).time() == time(17)
