"""The coordinator's field-sync page (blueprints/field, docs/field-sync.md): upload a laptop's file and read
the report, see where each event is, take an event back from a lost laptop."""
from __future__ import annotations

import io

import pytest

from botram.domain import field as field_sync

from .conftest import PASSWORD
from .factories import bearer, make_desk, make_event, make_user
from .laptop import Laptop

KEY = "kunci-lapangan-uji"


@pytest.fixture
def coordinator(app, client):
    app.config["BOTRAM_FIELD_KEY"] = KEY
    user = make_user("koordinator")
    assert client.post("/login", data={"username": "koordinator", "password": PASSWORD}).status_code == 303
    return user


@pytest.fixture
def event(app):
    event = make_event()
    make_desk(event, 1)
    return event


def upload(client, data: bytes, name: str = "lapangan.botram", **kwargs):
    return client.post("/lapangan/impor", data={"bundle": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", **kwargs)


def test_an_uploaded_file_is_imported_and_reported_once(client, coordinator, event, tmp_path, tmp_path_factory):
    api = bearer(coordinator)
    bundle = client.post(f"/api/v1/events/{event.id}/checkout", json={"device": "laptop-1"}, headers=api).get_json()
    laptop = Laptop(tmp_path / "laptop", tmp_path_factory.getbasetemp(), KEY)
    laptop.take(client.get(bundle["url"], headers=api).get_data())
    laptop.serve(3)
    data = laptop.checkin()
    laptop.close()
    first = upload(client, data)
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert event.title in page and "Lihat laporan kabupaten" in page
    assert client.get(f"/api/v1/events/{event.id}/stats", headers=api).get_json()["visits"] == 3
    regency = client.get("/reports/").get_data(as_text=True)
    assert event.title in regency
    again = upload(client, data).get_data(as_text=True)
    assert "Berkas ini sudah pernah dimasukkan" in again
    assert client.get(f"/api/v1/events/{event.id}/stats", headers=api).get_json()["visits"] == 3
    assert "1 kali check-in" in client.get("/lapangan/").get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    (b"", "Pilih berkas bundel"),
    (b"\xff\xd8\xff\xe0 bukan bundel", None),
    (b"x" * (5 * 1024 * 1024), None),  # beyond the app's 4 MB body limit: the page still reads it, and refuses it
])
def test_a_file_that_is_no_bundle_is_refused_next_to_the_field(client, coordinator, data, message):
    answer = upload(client, data)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'class="field-error"' in page
    if message:
        assert message in page


def test_the_upload_needs_the_forms_csrf_token(client, coordinator):
    answer = upload(client, b"abc", no_csrf=True)
    assert answer.status_code == 400
    assert field_sync.checkout_of(1) is None


def test_the_page_shows_where_an_event_is_and_takes_it_back(client, coordinator, event):
    api = bearer(coordinator)
    assert client.post(f"/api/v1/events/{event.id}/checkout", json={"device": "laptop-hilang"},
                       headers=api).status_code == 201
    page = client.get("/lapangan/").get_data(as_text=True)
    assert "Di laptop laptop-hilang" in page and "Ambil kembali" in page
    answer = client.post(f"/lapangan/kegiatan/{event.id}/ambil-kembali", data={"reason": "laptop hilang di jalan"})
    assert answer.status_code == 303
    assert field_sync.checkout_of(event.id) is None
    assert "Di laptop laptop-hilang" not in client.get("/lapangan/").get_data(as_text=True)
    # back at the server: another laptop may now take it
    assert client.post(f"/api/v1/events/{event.id}/checkout", json={"device": "laptop-baru"},
                       headers=api).status_code == 201


def test_other_roles_cannot_open_the_page(client, app):
    make_user("keuangan")
    client.post("/login", data={"username": "keuangan", "password": PASSWORD})
    assert client.get("/lapangan/").status_code == 403


def _outside_details(page: str) -> str:
    """The page's text without what is folded away in <details> (the technical words for IT)."""
    import re

    return re.sub(r"<details.*?</details>", "", page, flags=re.S)


def test_the_page_checks_an_event_out_to_a_laptop_and_the_file_opens_there(client, coordinator, event, tmp_path,
                                                                           tmp_path_factory):
    from botram.models import AuditLog

    from .conftest import count

    page = client.get("/lapangan/").get_data(as_text=True)
    assert "Bawa ke laptop" in page
    answer = client.post(f"/lapangan/kegiatan/{event.id}/pinjam", data={"device": "Laptop Cikarang 1"})
    assert answer.status_code == 200 and answer.mimetype == "application/octet-stream"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "laptop-cikarang-1.botram" in disposition
    assert field_sync.checkout_of(event.id).device == "Laptop Cikarang 1"
    assert count(AuditLog, AuditLog.action == "field.checkout") == 1
    laptop = Laptop(tmp_path / "laptop", tmp_path_factory.getbasetemp(), KEY)
    laptop.take(answer.get_data())  # the downloaded file is a bundle the laptop opens
    laptop.close()
    assert "Di laptop Laptop Cikarang 1" in client.get("/lapangan/").get_data(as_text=True)


def test_a_checkout_needs_the_laptops_name(client, coordinator, event):
    answer = client.post(f"/lapangan/kegiatan/{event.id}/pinjam", data={"device": "  "})
    assert answer.status_code == 422
    assert "Tuliskan nama laptop yang membawa kegiatan ini" in answer.get_data(as_text=True)
    assert field_sync.checkout_of(event.id) is None


def test_taking_an_event_back_needs_a_reason(client, coordinator, event):
    assert client.post(f"/lapangan/kegiatan/{event.id}/pinjam", data={"device": "laptop-1"}).status_code == 200
    for reason in ("", "   "):
        answer = client.post(f"/lapangan/kegiatan/{event.id}/ambil-kembali", data={"reason": reason})
        assert answer.status_code == 422
        page = answer.get_data(as_text=True)
        assert "Tuliskan alasan mengambil kembali kegiatan dari laptop" in page
        assert f'id="event-{event.id}-reason-error"' in page
        assert field_sync.checkout_of(event.id) is not None


def test_without_the_servers_key_the_coordinator_reads_plain_words_and_it_reads_the_setting(app, client,
                                                                                             coordinator, event):
    app.config["BOTRAM_FIELD_KEY"] = ""
    answer = client.post(f"/lapangan/kegiatan/{event.id}/pinjam", data={"device": "laptop-1"})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Server ini belum disiapkan untuk membawa kegiatan ke laptop lapangan. Hubungi petugas TI" in page
    assert "BOTRAM_FIELD_KEY" in page and "BOTRAM_FIELD_KEY" not in _outside_details(page)
    assert field_sync.checkout_of(event.id) is None


def test_a_file_locked_with_another_key_is_explained_in_plain_words(app, client, coordinator, event):
    data = client.post(f"/lapangan/kegiatan/{event.id}/pinjam", data={"device": "laptop-1"}).get_data()
    app.config["BOTRAM_FIELD_KEY"] = "kunci-lain-sama-sekali"
    answer = upload(client, data)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Berkas ini dikunci dengan kunci yang berbeda dari server ini" in page
    assert "BOTRAM_FIELD_KEY" in page and "BOTRAM_FIELD_KEY" not in _outside_details(page)
