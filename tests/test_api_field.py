"""Field sync over the API (blueprints/api/field_routes.py, docs/field-sync.md): the checkout bundle made once
and downloaded with Range, the check-in uploaded in chunks that may be repeated or resumed, the import and
its report, who may do it, and bad input answered as JSON errors (never a 500)."""
from __future__ import annotations

import hashlib

import pytest

from botram.domain import field as field_sync
from botram.extensions import db

from .factories import bearer, make_desk, make_event, make_user
from .laptop import Laptop

KEY = "kunci-lapangan-uji"
ONE_MB = 1024 * 1024


@pytest.fixture
def coordinator(app):
    app.config["BOTRAM_FIELD_KEY"] = KEY
    return bearer(make_user("koordinator"))


@pytest.fixture
def event(app):
    event = make_event()
    make_desk(event, 1)
    return event


def checkout(client, headers, event_id, device="laptop-cikarang-1"):
    return client.post(f"/api/v1/events/{event_id}/checkout", json={"device": device}, headers=headers)


def start(client, headers, data: bytes):
    return client.post("/api/v1/field/uploads", json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
                       headers=headers)


def put(client, headers, upload_id, data: bytes, start_at: int, end: int, total: int | None = None):
    return client.put(f"/api/v1/field/uploads/{upload_id}", data=data[start_at:end + 1],
                      headers={**headers, "Content-Type": "application/octet-stream",
                               "Content-Range": f"bytes {start_at}-{end}/{total or len(data)}"})


@pytest.fixture
def laptop(tmp_path, tmp_path_factory):
    laptop = Laptop(tmp_path / "laptop", tmp_path_factory.getbasetemp(), KEY)
    yield laptop
    laptop.close()


def checkin_bytes(client, headers, event_id: int, laptop: Laptop, visitors: int = 2) -> bytes:
    """The server lends the event to the laptop, the laptop serves `visitors` and exports its check-in."""
    bundle = checkout(client, headers, event_id).get_json()
    laptop.take(client.get(bundle["url"], headers=headers).get_data())
    laptop.serve(visitors)
    return laptop.checkin()


# ----------------------------------------------------------------------------------------------- checkout


def test_checkout_makes_the_bundle_once_and_the_same_laptop_gets_it_again(client, coordinator, event):
    first = checkout(client, coordinator, event.id)
    assert first.status_code == 201, first.get_json()
    bundle = first.get_json()
    assert bundle["event_id"] == event.id and bundle["device"] == "laptop-cikarang-1" and bundle["size"] > 0
    again = checkout(client, coordinator, event.id)
    assert again.status_code == 200 and again.get_json() == bundle  # a lost answer: the same bundle, resumable
    where = client.get(f"/api/v1/events/{event.id}/checkout", headers=coordinator).get_json()
    assert where["checked_out"] is True and where["device"] == "laptop-cikarang-1" and where["since"]
    other = checkout(client, coordinator, event.id, device="laptop-lain")
    assert other.status_code == 409 and other.get_json()["error"] == "conflict"


def test_the_bundle_downloads_whole_or_from_a_byte_on(client, coordinator, event):
    bundle = checkout(client, coordinator, event.id).get_json()
    whole = client.get(bundle["url"], headers=coordinator)
    assert whole.status_code == 200 and whole.mimetype == "application/octet-stream"
    data = whole.get_data()
    assert len(data) == bundle["size"] and hashlib.sha256(data).hexdigest() == bundle["sha256"]
    cut = bundle["size"] // 3
    rest = client.get(bundle["url"], headers={**coordinator, "Range": f"bytes={cut}-"})
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes {cut}-{bundle['size'] - 1}/{bundle['size']}"
    assert data[:cut] + rest.get_data() == data
    beyond = client.get(bundle["url"], headers={**coordinator, "Range": f"bytes={bundle['size'] + 10}-"})
    assert beyond.status_code == 416 and beyond.get_json()["error"] == "range_not_satisfiable"
    assert client.get("/api/v1/field/bundles/" + "f" * 32, headers=coordinator).status_code == 404
    assert client.get("/api/v1/field/bundles/..%2Fsecret_key", headers=coordinator).status_code == 404


def test_without_the_servers_key_checkout_and_import_answer_a_documented_501_not_a_503(
        client, app, coordinator, event, laptop):
    """A missing BOTRAM_FIELD_KEY is how the server is set up, not an outage: a 503 would make the laptop (and
    any client) retry for ever, so both routes that need the key answer 501, and the API document says so."""
    data = checkin_bytes(client, coordinator, event.id, laptop)
    upload = start(client, coordinator, data).get_json()
    assert put(client, coordinator, upload["id"], data, 0, len(data) - 1).status_code == 200
    app.config["BOTRAM_FIELD_KEY"] = ""
    other = make_event()
    answer = checkout(client, coordinator, other.id)
    assert answer.status_code == 501, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == "not_configured" and "BOTRAM_FIELD_KEY" in answer.get_json()["detail"]
    assert "Retry-After" not in answer.headers
    assert field_sync.checkout_of(other.id) is None
    imported = client.post(f"/api/v1/field/uploads/{upload['id']}/import", headers=coordinator)
    assert imported.status_code == 501 and imported.get_json()["error"] == "not_configured"
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/events/{event_id}/checkout", "/api/v1/field/uploads/{upload_id}/import"):
        assert doc["paths"][path]["post"]["responses"]["501"] == {"$ref": "#/components/responses/NotConfigured"}
    assert "BOTRAM_FIELD_KEY" in doc["components"]["responses"]["NotConfigured"]["description"]


# ----------------------------------------------------------------------------------------------- check-in


def test_an_upload_resumes_repeats_chunks_harmlessly_and_imports_once(client, coordinator, event, laptop):
    data = checkin_bytes(client, coordinator, event.id, laptop)
    first = start(client, coordinator, data)
    assert first.status_code == 201
    upload = first.get_json()
    assert upload["received"] == 0 and upload["complete"] is False
    half = len(data) // 2
    assert put(client, coordinator, upload["id"], data, 0, half - 1).get_json()["received"] == half
    # the answer was lost and the laptop sends the same chunk again: nothing changes
    assert put(client, coordinator, upload["id"], data, 0, half - 1).get_json()["received"] == half
    # a chunk that would leave a gap is refused; the server says where to continue
    gap = put(client, coordinator, upload["id"], data, half + 1, len(data) - 1)
    assert gap.status_code == 409 and gap.get_json()["field"] == "Content-Range"
    assert client.get(f"/api/v1/field/uploads/{upload['id']}", headers=coordinator).get_json()["received"] == half
    # the laptop restarted: announcing the same bytes again continues the same upload
    resumed = start(client, coordinator, data)
    assert resumed.status_code == 200 and resumed.get_json()["id"] == upload["id"]
    assert resumed.get_json()["received"] == half
    early = client.post(f"/api/v1/field/uploads/{upload['id']}/import", headers=coordinator)
    assert early.status_code == 409  # not complete yet
    done = put(client, coordinator, upload["id"], data, half, len(data) - 1).get_json()
    assert done["complete"] is True
    imported = client.post(f"/api/v1/field/uploads/{upload['id']}/import", headers=coordinator)
    assert imported.status_code == 200, imported.get_json()
    report = imported.get_json()["report"]
    assert report["event_id"] == event.id and report["kind"] == "checkin" and report["counts"]["visit"] == 2
    stats = client.get(f"/api/v1/events/{event.id}/stats", headers=coordinator).get_json()
    assert stats["visits"] == 2
    again = client.post(f"/api/v1/field/uploads/{upload['id']}/import", headers=coordinator)
    assert again.status_code == 200 and again.get_json()["report"] == report
    # the same bundle uploaded a second time is a new upload whose import brings nothing new
    second = start(client, coordinator, data).get_json()
    put(client, coordinator, second["id"], data, 0, len(data) - 1)
    repeat = client.post(f"/api/v1/field/uploads/{second['id']}/import", headers=coordinator).get_json()["report"]
    assert repeat["unchanged"] is True
    assert client.get(f"/api/v1/events/{event.id}/stats", headers=coordinator).get_json()["visits"] == 2


def test_a_damaged_upload_is_refused_and_must_be_sent_again(client, coordinator, event, laptop):
    data = checkin_bytes(client, coordinator, event.id, laptop)
    upload = start(client, coordinator, data).get_json()
    damaged = bytes([data[0] ^ 0xFF]) + data[1:]
    put(client, coordinator, upload["id"], damaged, 0, len(data) - 1)
    answer = client.post(f"/api/v1/field/uploads/{upload['id']}/import", headers=coordinator)
    assert answer.status_code == 422 and answer.get_json()["field"] == "sha256"
    assert client.get(f"/api/v1/field/uploads/{upload['id']}", headers=coordinator).get_json()["received"] == 0


def test_a_tampered_bundle_is_refused_by_the_import_with_its_message(client, coordinator, event, laptop):
    data = checkin_bytes(client, coordinator, event.id, laptop)
    tampered = data[:-40] + bytes(b ^ 0x55 for b in data[-40:])
    upload = start(client, coordinator, tampered).get_json()
    put(client, coordinator, upload["id"], tampered, 0, len(tampered) - 1)
    answer = client.post(f"/api/v1/field/uploads/{upload['id']}/import", headers=coordinator)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"] == "invalid" and answer.get_json()["detail"]


def test_a_bundle_larger_than_a_request_goes_in_chunks_below_the_limit(client, coordinator, app):
    data = bytes(range(256)) * (5 * ONE_MB // 256)  # 5 MB: more than MAX_CONTENT_LENGTH (4 MB)
    upload = start(client, coordinator, data).get_json()
    whole = put(client, coordinator, upload["id"], data, 0, len(data) - 1)
    assert whole.status_code == 413 and whole.get_json()["error"] == "payload_too_large"
    for offset in range(0, len(data), ONE_MB):
        answer = put(client, coordinator, upload["id"], data, offset, min(offset + ONE_MB, len(data)) - 1)
        assert answer.status_code == 200
    assert answer.get_json()["complete"] is True


@pytest.mark.parametrize("headers, body, status, field", [
    ({}, b"abc", 400, "Content-Range"),
    ({"Content-Range": "bytes=0-2"}, b"abc", 400, "Content-Range"),
    ({"Content-Range": "bytes 2-0/10"}, b"abc", 400, "Content-Range"),
    ({"Content-Range": "bytes 0-2/11"}, b"abc", 422, "Content-Range"),
    ({"Content-Range": "bytes 8-10/10"}, b"abc", 422, "Content-Range"),
    ({"Content-Range": "bytes 0-3/10"}, b"abc", 400, "Content-Range"),
    ({"Content-Range": "bytes 0-99999999999999/10"}, b"abc", 422, "Content-Range"),
])
def test_bad_chunks_are_refused_with_the_header_at_fault(client, coordinator, headers, body, status, field):
    upload = client.post("/api/v1/field/uploads", json={"size": 10, "sha256": "a" * 64}, headers=coordinator)
    answer = client.put(f"/api/v1/field/uploads/{upload.get_json()['id']}", data=body,
                        headers={**coordinator, "Content-Type": "application/octet-stream", **headers})
    assert answer.status_code == status and answer.get_json()["field"] == field, answer.get_json()


@pytest.mark.parametrize("body, field", [
    ({"sha256": "a" * 64}, "size"), ({"size": 0, "sha256": "a" * 64}, "size"),
    ({"size": True, "sha256": "a" * 64}, "size"), ({"size": 2**40, "sha256": "a" * 64}, "size"),
    ({"size": "10", "sha256": "a" * 64}, "size"), ({"size": 10}, "sha256"), ({"size": 10, "sha256": "A" * 64}, "sha256"),
    ({"size": 10, "sha256": ["a" * 64]}, "sha256"),
])
def test_bad_upload_announcements_are_422_naming_the_field(client, coordinator, body, field):
    answer = client.post("/api/v1/field/uploads", json=body, headers=coordinator)
    assert answer.status_code == 422 and answer.get_json()["field"] == field


@pytest.mark.parametrize("body", [{}, {"device": ""}, {"device": "  "}, {"device": 7}, {"device": "x" * 81},
                                  {"device": "laptop\n1"}])
def test_a_checkout_needs_a_device_name(client, coordinator, event, body):
    answer = client.post(f"/api/v1/events/{event.id}/checkout", json=body, headers=coordinator)
    assert answer.status_code == 422 and answer.get_json()["field"] == "device"
    assert field_sync.checkout_of(event.id) is None


def test_only_coordinators_and_admins_and_only_their_own_uploads(client, coordinator, event):
    assert checkout(client, {}, event.id).status_code == 401
    officer = bearer(make_user("petugas", "petugas9"))
    assert checkout(client, officer, event.id).status_code == 403
    assert client.post("/api/v1/field/uploads", json={"size": 3, "sha256": "a" * 64}, headers=officer).status_code == 403
    mine = client.post("/api/v1/field/uploads", json={"size": 3, "sha256": "a" * 64}, headers=coordinator).get_json()
    admin = bearer(make_user("admin"))
    assert client.get(f"/api/v1/field/uploads/{mine['id']}", headers=admin).status_code == 404
    assert client.put(f"/api/v1/field/uploads/{mine['id']}", data=b"abc", headers={
        **admin, "Content-Range": "bytes 0-2/3"}).status_code == 404
    assert client.get("/api/v1/field/uploads/not-an-id", headers=coordinator).status_code == 404
    assert field_sync.checkout_of(event.id) is None
