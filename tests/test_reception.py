"""Reception: registering visitors, the ticket, today's tickets (cancel, restore), and who may do it."""
import re

import pytest
import segno
import sqlalchemy as sa

from botram.domain import queue
from botram.extensions import db
from botram.models import AuditLog, Desk, Event, LifeEventPackage, Step, User, Visit
from botram.domain.queue_rules import QueueRules

from .conftest import count
from .factories import make_desk, make_event, make_user, service
from .html_text import texts

GOOD_NIK = "3216061203900001"
OTHER_REGENCY_NIK = "3275061203900001"


@pytest.fixture
def setup(app):
    event = make_event()
    make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KTP-CETAK", "KK"])
    make_desk(event, 3, "BAPENDA", ["PBB-BAYAR", "PBB-MUTASI"])
    for role in ("resepsionis", "koordinator", "admin", "keuangan"):
        make_user(role)
    make_user("petugas", "petugas1")
    return event


def ids(*codes):
    return [str(service(code).id) for code in codes]


def package_id(code):
    return db.session.scalar(sa.select(LifeEventPackage.id).where(LifeEventPackage.code == code))


def post_visit(client, event, htmx=False, **data):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/reception/{event.id}", data=data, headers=headers)


# ------------------------------------------------------------------------------------------------ roles


@pytest.mark.parametrize("role,status", [("resepsionis", 200), ("koordinator", 200), ("admin", 200),
                                         ("keuangan", 403), ("petugas1", 403)])
def test_reception_screen_per_role(client, auth, setup, role, status):
    auth.login(role)
    assert client.get(f"/reception/{setup.id}").status_code == status
    assert client.get("/reception/").status_code in ((302,) if status == 200 else (403,))


def test_anonymous_is_sent_to_login(client, setup):
    for url in ("/reception/", f"/reception/{setup.id}", f"/reception/{setup.id}/visits"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/reception/{setup.id}", data={"services": ids("KK")})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count(Visit) == 0


@pytest.mark.parametrize("role", ["keuangan", "petugas1"])
def test_other_roles_cannot_issue_cancel_or_see_tickets(client, auth, setup, role):
    user = make_user("resepsionis", "resepsionis2")
    visit = queue.issue_visit(setup.id, [service("KK").id], by_user_id=user.id).visit
    auth.login(role)
    assert post_visit(client, setup, services=ids("KK")).status_code == 403
    assert client.post(f"/reception/visits/{visit.id}/cancel").status_code == 403
    assert client.get(f"/reception/visits/{visit.id}/ticket").status_code == 403
    assert count(Visit) == 1 and count(Step, Step.status == "waiting") == 1


# ------------------------------------------------------------------------------------------ event list


def test_index_redirects_to_the_only_open_event(client, auth, setup):
    auth.login("resepsionis")
    response = client.get("/reception/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reception/{setup.id}")


def test_index_lists_several_open_events_and_none(client, auth, setup):
    auth.login("resepsionis")
    make_event("BOTRAM Kedua")
    page = client.get("/reception/").get_data(as_text=True)
    assert "BOTRAM Uji" in page and "BOTRAM Kedua" in page
    for event in db.session.scalars(sa.select(Event)):
        event.status = "closed"
    db.session.commit()
    assert "Belum ada kegiatan yang dibuka" in client.get("/reception/").get_data(as_text=True)


def test_screen_shows_services_by_agency_packages_and_priorities(client, auth, setup):
    auth.login("resepsionis")
    page = client.get(f"/reception/{setup.id}").get_data(as_text=True)
    assert "Disdukcapil" in page and "Bapenda" in page
    assert f'name="services" value="{service("KK").id}"' in page
    assert service("DTKS").name not in page  # not offered at this event
    assert "Genap 17 tahun" in page  # KTP-BARU: both services offered
    assert "Kematian anggota keluarga" in page  # partly offered: KK and PBB-MUTASI
    for label in ("Umum", "Lansia", "Disabilitas", "Ibu hamil / anak kecil"):
        assert label in page
    assert 'autofocus' in page


# -------------------------------------------------------------------------------------------- issuing


def test_issue_without_js_redirects_to_the_screen_with_the_ticket(client, auth, setup):
    auth.login("resepsionis")
    response = post_visit(client, setup, services=ids("KK", "PBB-BAYAR"), priority="lansia",
                          name="Siti Aminah", nik=GOOD_NIK, phone="0812-3456-7890")
    visit = db.session.scalar(sa.select(Visit))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/reception/{setup.id}?visit={visit.id}"
    assert visit.code == "A-001" and visit.priority == "lansia" and visit.nik == GOOD_NIK
    assert [s.service.code for s in visit.steps] == ["KK", "PBB-BAYAR"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tiket dibuat" in page and "A-001" in page and "<svg" in page


def test_issue_by_htmx_swaps_workspace_with_ticket_preview_and_fresh_form(client, auth, setup):
    auth.login("resepsionis")
    response = post_visit(client, setup, htmx=True, services=ids("KTP-REKAM", "PBB-MUTASI"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="visit-form"' in body
    assert "A-001" in body and 'class="segno"' in body and "Loket 1" in body and "Loket 3" in body
    assert "0 orang di depan" in body
    assert "botram:toast" in response.headers["HX-Trigger"]
    assert "checked" not in re.sub(r'name="priority" value="none" checked', "", body)  # fresh form
    assert count(AuditLog, AuditLog.action == "visit.issue") == 1


def test_second_visitor_sees_people_ahead(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK"))
    body = post_visit(client, setup, htmx=True, services=ids("KK")).get_data(as_text=True)
    assert "A-002" in body and "1 orang di depan" in body


def test_package_alone_expands_to_its_services_server_side(client, auth, setup):
    auth.login("resepsionis")
    response = post_visit(client, setup, packages=[str(package_id("KTP-BARU"))])
    assert response.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert [s.service.code for s in visit.steps] == ["KTP-REKAM", "KTP-CETAK"]


def test_package_with_its_services_ticked_and_an_extra_service_has_no_duplicates(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, packages=[str(package_id("KTP-BARU"))],
               services=ids("KTP-CETAK", "KTP-REKAM", "PBB-BAYAR"))
    visit = db.session.scalar(sa.select(Visit))
    assert [s.service.code for s in visit.steps] == ["KTP-REKAM", "KTP-CETAK", "PBB-BAYAR"]


def test_partly_offered_package_takes_only_the_services_offered_here(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, packages=[str(package_id("KEMATIAN"))])
    visit = db.session.scalar(sa.select(Visit))
    assert [s.service.code for s in visit.steps] == ["KK", "PBB-MUTASI"]


def test_outside_regency_nik_only_warns(client, auth, setup):
    auth.login("resepsionis")
    body = post_visit(client, setup, htmx=True, services=ids("KK"), nik=OTHER_REGENCY_NIK).get_data(as_text=True)
    assert "A-001" in body and "di luar Kabupaten Bekasi" in body
    assert count(Visit) == 1


def _bad_cases():
    return [
        ({}, "services", "Pilih minimal satu layanan."),
        ({"services": ["99999"]}, "services", "tidak tersedia di acara ini"),
        ({"services": "DTKS"}, "services", "tidak tersedia di acara ini"),
        ({"services": ["abc"]}, "services", "Pilihan layanan tidak valid."),
        ({"services": ["-1"]}, "services", "Pilihan layanan tidak valid."),
        ({"services": "KK", "packages": ["99999"]}, "packages", "Paket layanan tidak dikenal"),
        ({"services": "KK", "packages": ["x"]}, "packages", "Pilihan paket layanan tidak valid."),
        ({"services": "KK", "nik": "12345"}, "nik", "NIK tidak valid. NIK harus terdiri dari 16 digit angka."),
        ({"services": "KK", "nik": "3216069903900001"}, "nik", "NIK tidak valid."),
        ({"services": "KK", "nik": "3" * 41}, "nik", "NIK harus terdiri dari 16 digit angka."),
        ({"services": "KK", "phone": "12ab"}, "phone", "Nomor telepon tidak valid."),
        ({"services": "KK", "phone": "0812"}, "phone", "Nomor telepon tidak valid."),
        ({"services": "KK", "name": "x" * 121}, "name", "Nama paling banyak 120 karakter."),
        ({"services": "KK", "priority": "vip"}, "priority", "Kelompok prioritas tidak dikenal."),
    ]


@pytest.mark.parametrize("data,field,message", _bad_cases())
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_is_refused_with_message_next_to_field(client, auth, setup, data, field, message, htmx):
    auth.login("resepsionis")
    data = dict(data)
    if data.get("services") in ("DTKS", "KK"):
        data["services"] = ids(data["services"])
    response = post_visit(client, setup, htmx=htmx, **data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', body)
    assert error, body[:3000]
    assert message in error.group(1)
    assert count(Visit) == 0 and count(Step) == 0
    assert (("<html" in body) is not htmx)


@pytest.mark.parametrize("htmx", [False, True])
def test_every_bad_field_is_shown_at_once(client, auth, setup, htmx):
    """A too-long name used to hide a bad NIK and a bad phone (and an empty choice of services)."""
    auth.login("resepsionis")
    response = post_visit(client, setup, htmx=htmx, name="x" * 160, nik="12345", phone="0812", priority="vip")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    shown = {field: re.search(rf'id="{field}-error"[^>]*>([^<]*)<', body) for field in
             ("services", "priority", "name", "nik", "phone")}
    assert {field: bool(found) for field, found in shown.items()} == dict.fromkeys(shown, True)
    assert "Pilih minimal satu layanan." in shown["services"].group(1)
    assert "Nama paling banyak 120 karakter." in shown["name"].group(1)
    assert "NIK harus terdiri dari 16 digit angka." in shown["nik"].group(1)
    assert "Nomor telepon tidak valid." in shown["phone"].group(1)
    assert count(Visit) == 0


def test_nik_cap_per_event(client, auth, setup, app):
    app.config["BOTRAM_MAX_TICKETS_PER_NIK"] = 2
    app.extensions["botram_queue_rules"] = QueueRules.from_config(app.config)  # as create_app reads it
    auth.login("resepsionis")
    assert post_visit(client, setup, services=ids("KK"), nik=GOOD_NIK).status_code == 303
    assert post_visit(client, setup, services=ids("PBB-BAYAR"), nik="3216.0612.0390.0001").status_code == 303
    response = post_visit(client, setup, services=ids("KK"), nik=GOOD_NIK)
    assert response.status_code == 422
    assert re.search(r'id="nik-error"[^>]*>[^<]*sudah memiliki 2 tiket aktif', response.get_data(as_text=True))
    assert count(Visit) == 2


def test_closed_event_refuses_tickets(client, auth, setup):
    setup.status = "closed"
    db.session.commit()
    auth.login("resepsionis")
    page = client.get(f"/reception/{setup.id}").get_data(as_text=True)
    assert "tidak sedang dibuka" in page
    response = post_visit(client, setup, services=ids("KK"))
    assert response.status_code == 422
    assert "tiket tidak dapat diterbitkan" in response.get_data(as_text=True)
    assert count(Visit) == 0


def test_unknown_event_is_404_and_missing_csrf_is_400(client, auth, setup):
    auth.login("resepsionis")
    assert client.get("/reception/9999").status_code == 404
    assert client.post("/reception/9999", data={"services": ids("KK")}).status_code == 404
    response = client.post(f"/reception/{setup.id}", data={"services": ids("KK")}, no_csrf=True)
    assert response.status_code == 400
    assert count(Visit) == 0


# ---------------------------------------------------------------------------------------------- ticket


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of a QR code drawn as segno's inline SVG: one path of horizontal runs ("M4 4.5h7m1 0h2
    m-29 1h1 ..."), each run a row of modules at y - 0.5, quiet zone included."""
    path = re.search(r'<path[^>]*\bd="([^"]+)"', svg)
    assert path, "the ticket's QR code is not an SVG path"
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path.group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            run = float(a) if command == "h" else float(a) - x
            dark.update((int(y - 0.5), int(x) + i) for i in range(int(run)))
            x += run
    return dark


def qr_payload_matches(page: str, payload: str) -> bool:
    """Does the page's QR code encode exactly `payload`? Compared module for module with segno's code for it
    at every error-correction level (the level is the page's choice, the payload is not)."""
    svg = re.search(r"<svg viewBox.*?</svg>", page, re.S)
    assert svg, "no QR code on the page"
    shown = qr_modules(svg.group(0))
    assert len(shown) > 200, "the QR code has too few dark modules to be one"
    for level in "LMQH":
        code = segno.make(payload, error=level, micro=False, boost_error=False)
        expected = {(r + 4, c + 4) for r, row in enumerate(code.matrix) for c, bit in enumerate(row) if bit}
        if shown == expected:
            return True
    return False


def test_ticket_page_shows_code_qr_and_desks_but_no_personal_data(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK", "PBB-BAYAR"), priority="hamil", name="Siti Aminah",
               nik=GOOD_NIK, phone="081234567890")
    visit = db.session.scalar(sa.select(Visit))
    response = client.get(f"/reception/visits/{visit.id}/ticket")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A-001" in body and '<svg viewBox' in body and "BOTRAM Uji" in body
    assert "Loket 1" in body and "Loket 3" in body and "Ibu hamil / anak kecil" in body
    assert qr_payload_matches(body, f"http://localhost/status/{visit.public_token}")
    assert not qr_payload_matches(body, f"http://localhost/status/{visit.public_token}x")
    for secret in ("Siti Aminah", GOOD_NIK, "0812", "3456-7890", "****"):
        assert secret not in body
    assert "size: 80mm" in body
    assert "size: 58mm" in client.get(f"/reception/visits/{visit.id}/ticket?w=58").get_data(as_text=True)
    assert client.get("/reception/visits/9999/ticket").status_code == 404


def test_reception_preview_has_no_nik_or_phone(client, auth, setup):
    auth.login("resepsionis")
    body = post_visit(client, setup, htmx=True, services=ids("KK"), nik=GOOD_NIK,
                      phone="081234567890").get_data(as_text=True)
    assert GOOD_NIK not in body and "3456" not in body


# ----------------------------------------------------------------------------------- today's tickets


def test_today_list_latest_first_and_cheap_poll(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK"))
    post_visit(client, setup, services=ids("PBB-BAYAR"), priority="disabilitas")
    page = client.get(f"/reception/{setup.id}").get_data(as_text=True)
    assert page.index("B-001") < page.index("A-001")
    db.session.refresh(setup)
    version = setup.queue_version
    unchanged = client.get(f"/reception/{setup.id}/visits?v={version}", headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    changed = client.get(f"/reception/{setup.id}/visits?v={version - 1}", headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "B-001" in changed.get_data(as_text=True)
    assert client.get(f"/reception/{setup.id}/visits").status_code == 303


def test_cancel_by_htmx_and_twice(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK", "PBB-BAYAR"))
    visit = db.session.scalar(sa.select(Visit))
    response = client.post(f"/reception/visits/{visit.id}/cancel", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "dibatalkan" in response.headers["HX-Trigger"]
    assert count(Step, Step.status == "cancelled") == 2
    again = client.post(f"/reception/visits/{visit.id}/cancel", headers={"HX-Request": "true"})
    assert again.status_code == 409 and "sudah selesai atau dibatalkan" in again.get_data(as_text=True)
    assert client.post("/reception/visits/9999/cancel").status_code == 404


def test_cancel_without_js_redirects(client, auth, setup):
    auth.login("koordinator")
    post_visit(client, setup, services=ids("KK"))
    visit = db.session.scalar(sa.select(Visit))
    response = client.post(f"/reception/visits/{visit.id}/cancel")
    assert response.status_code == 303 and response.headers["Location"] == f"/reception/{setup.id}"
    assert client.post(f"/reception/visits/{visit.id}/cancel", no_csrf=True).status_code == 400


def test_restore_no_show_step(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK", "PBB-BAYAR"))
    step = db.session.scalar(sa.select(Step).order_by(Step.id))
    step.status = "no_show"
    db.session.commit()
    page = client.get(f"/reception/{setup.id}").get_data(as_text=True)
    assert "Kembalikan ke antrean" in page
    response = client.post(f"/reception/steps/{step.id}/restore", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "kembali ke antrean" in response.headers["HX-Trigger"]
    db.session.refresh(step)
    assert step.status == "waiting"
    again = client.post(f"/reception/steps/{step.id}/restore", headers={"HX-Request": "true"})
    assert again.status_code == 409 and "tidak dapat dikembalikan" in again.get_data(as_text=True)
    assert client.post("/reception/steps/9999/restore").status_code == 404


# ------------------------------------------------------------------------------------ live NIK check


@pytest.mark.parametrize("raw,expected", [
    ("123", "NIK tidak valid. NIK harus terdiri dari 16 digit angka."),
    (OTHER_REGENCY_NIK, "di luar Kabupaten Bekasi"),
    (GOOD_NIK, "Struktur NIK benar."),
    ("", ""),
])
def test_live_nik_check(client, auth, setup, raw, expected):
    auth.login("resepsionis")
    response = client.post("/reception/nik", data={"nik": raw}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and expected in body
    assert raw == "" or raw not in body
    assert count(Visit) == 0


def test_live_nik_check_roles(client, auth, setup):
    assert client.post("/reception/nik", data={"nik": GOOD_NIK}).status_code == 302
    auth.login("keuangan")
    assert client.post("/reception/nik", data={"nik": GOOD_NIK}).status_code == 403


def test_every_reception_view_declares_its_roles(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("reception."):
            assert set(getattr(app.view_functions[rule.endpoint], "allowed_roles", None)) == {
                "resepsionis", "koordinator", "admin"}, rule.rule


# ------------------------------------------------------------ outcomes, reprint, names, public address


def test_today_list_shows_service_names_and_the_desk_outcome(client, auth, setup):
    """A step the desk closed as "Belum lengkap" is not a green "Selesai"; services read by name."""
    officer = db.session.scalar(sa.select(User.id).where(User.username == "petugas1"))
    visit = queue.issue_visit(setup.id, [service("KK").id, service("PBB-BAYAR").id], by_user_id=officer).visit
    step = queue.call_next(_desk(setup, 1), by_user_id=officer)
    queue.finish(step.id, outcome="incomplete", by_user_id=officer)
    auth.login("resepsionis")
    body = client.get(f"/reception/{setup.id}").get_data(as_text=True)
    today = body[body.index('id="today-list"'):]
    row = today[today.index(visit.code):]
    assert re.search(r"Perubahan Kartu Keluarga</span>\s*<span class=\"badge warn\">Belum lengkap</span>", row)
    assert "status-done" not in row  # not the green "Selesai" badge
    assert "Informasi dan pembayaran PBB-P2" in row
    for code in ("KTP-REKAM", ">KK<", "PBB-BAYAR"):
        assert code not in today


def _desk(event, number):
    from botram.models import Desk
    return db.session.scalar(sa.select(Desk.id).where(Desk.event_id == event.id, Desk.number == number))


def test_any_ticket_of_the_day_can_be_found_and_reprinted(client, auth, setup):
    auth.login("resepsionis")
    user = db.session.scalar(sa.select(Visit.created_by_id)) or make_user("resepsionis", "resepsionis3").id
    visits = [queue.issue_visit(setup.id, [service("KK").id], by_user_id=user).visit for _ in range(45)]
    oldest = visits[0]
    page = client.get(f"/reception/{setup.id}").get_data(as_text=True)
    assert oldest.code not in page  # only the latest 40 are listed...
    found = client.get(f"/reception/{setup.id}/visits?q=a1", headers={"HX-Request": "true"})
    body = found.get_data(as_text=True)
    assert found.status_code == 200 and "A-001" in body and "A-002" not in body  # ..."a1" finds A-001
    assert f'/reception/visits/{oldest.id}/ticket?print=1' in body and "Cetak ulang" in body
    assert 'value="A-1"' not in body  # the field lives outside the polled list
    assert f"q=A-1" in body  # the list keeps polling with its search
    plain = client.get(f"/reception/{setup.id}?q=A-00")
    assert plain.status_code == 200 and "A-001" in plain.get_data(as_text=True)
    reprint = client.get(f"/reception/visits/{oldest.id}/ticket?print=1")
    assert reprint.status_code == 200 and "data-autoprint" in reprint.get_data(as_text=True)


def test_ticket_carries_the_public_address_and_warns_about_loopback(client, auth, setup, app):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK"))
    visit = db.session.scalar(sa.select(Visit))
    # The test client is "localhost": a phone scanning this would open itself.
    body = client.get(f"/reception/visits/{visit.id}/ticket").get_data(as_text=True)
    assert f"http://localhost/status/{visit.public_token}" in body
    assert "tidak bisa dibuka dari ponsel warga" in body and "BOTRAM_PUBLIC_URL" in body
    assert "http://localhost hanya menunjuk ke komputer ini" in body
    htmx = post_visit(client, setup, htmx=True, services=ids("KK")).get_data(as_text=True)
    assert "tidak bisa dibuka dari ponsel warga" in htmx

    app.config["BOTRAM_PUBLIC_URL"] = "http://192.168.1.10:5000"
    body = client.get(f"/reception/visits/{visit.id}/ticket").get_data(as_text=True)
    assert f"http://192.168.1.10:5000/status/{visit.public_token}" in body  # in words on the ticket
    assert "localhost/status" not in body and "tidak bisa dibuka dari ponsel warga" not in body
    import segno
    assert segno.make(f"http://192.168.1.10:5000/status/{visit.public_token}", error="m").svg_inline(
        scale=4, omitsize=True).split("<path")[1][:200] in body  # the QR code encodes that address


@pytest.mark.parametrize("url,loopback", [
    ("http://127.0.0.1:5000/status/x", True), ("http://localhost/status/x", True), ("http://[::1]:5000/s", True),
    ("http://127.3.2.1/s", True), ("http://0.0.0.0:5000/s", True), ("http://192.168.1.10:5000/s", False),
    ("https://botram.bekasikab.go.id/s", False),
])
def test_loopback_addresses(app, url, loopback):
    from botram.blueprints.public.routes import is_loopback
    assert is_loopback(url) is loopback


@pytest.mark.parametrize("raw,expected", [
    (None, ""), ("", ""), ("  http://192.168.1.10:5000/ ", "http://192.168.1.10:5000"),
    ("192.168.1.10:5000", "http://192.168.1.10:5000"), ("https://botram.bekasikab.go.id", "https://botram.bekasikab.go.id"),
])
def test_public_url_setting_is_normalised(raw, expected, monkeypatch):
    from botram.settings import Settings
    if raw is None:
        monkeypatch.delenv("BOTRAM_PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("BOTRAM_PUBLIC_URL", raw)
    assert Settings().public_url == expected


def test_a_reprinted_ticket_says_where_each_step_stands(client, auth, setup):
    auth.login("resepsionis")
    post_visit(client, setup, services=ids("KK", "PBB-BAYAR"))
    visit = db.session.scalar(sa.select(Visit))
    officer = db.session.scalar(sa.select(User.id).where(User.username == "petugas1"))
    called = queue.call_next(db.session.scalar(sa.select(Desk.id).where(Desk.number == 1)), by_user_id=officer)
    db.session.commit()
    assert called.service.code == "KK"
    queue.transfer(called.id, service("KTP-CETAK").id, by_user_id=officer)
    db.session.commit()
    body = client.get(f"/reception/visits/{visit.id}/ticket").get_data(as_text=True)
    rows = texts(body, "li")
    moved = next(r for r in rows if r.startswith(service("KK").name))
    assert "Dialihkan" in moved
    waiting = next(r for r in rows if r.startswith(service("KTP-CETAK").name))
    assert "orang di depan" in waiting and "Dialihkan" not in waiting
