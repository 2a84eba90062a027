"""The booking API: public windows and places, a booking made, read and cancelled by its token, and a check-in
by reception's device token; idempotent writes; nothing personal in any answer."""
from __future__ import annotations

from botram.domain import events
from botram.extensions import db

from .booking_world import booked_event, window_at
from .factories import bearer_for, service


def test_book_read_cancel_and_check_in_over_the_api(app, client):
    event = booked_event({"KTP-REKAM": 2, "KK": 2})
    places = client.get(f"/api/v1/events/{event.id}/booking").get_json()
    assert places["open"] and len(places["windows"]) == 4
    assert {s["left"] for s in places["windows"][3]["services"]} == {2}
    body = {"event_id": event.id, "window_id": window_at(event, 14).id, "services": [service("KK").id],
            "phone": "0812 3456 7890"}
    made = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "b-1"})
    assert made.status_code == 201, made.get_json()
    data = made.get_json()
    assert data["services"] == ["KK"] and data["status"] == "booked" and "phone" not in data
    again = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "b-1"})
    assert again.get_json()["code"] == data["code"] and again.headers.get("Idempotent-Replayed") == "true"
    assert client.get(f"/api/v1/bookings/{data['token']}").get_json()["code"] == data["code"]
    left = client.get(f"/api/v1/events/{event.id}/booking").get_json()["windows"][3]["services"]
    assert sorted(s["left"] for s in left) == [1, 2]
    bad = client.post("/api/v1/bookings", json={**body, "phone": "12"})
    assert bad.status_code == 422
    second = client.post("/api/v1/bookings", json={**body, "phone": "081298765432"}).get_json()
    cancelled = client.delete(f"/api/v1/bookings/{second['token']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.delete(f"/api/v1/bookings/{second['token']}").status_code == 409

    events.change_status(event, "open")
    db.session.commit()
    headers, _user = bearer_for("resepsionis")
    assert client.post(f"/api/v1/bookings/{data['code']}/check-in").status_code == 401
    checked = client.post(f"/api/v1/bookings/{data['code'].lower()}/check-in", headers=headers)
    assert checked.status_code == 201, checked.get_json()
    assert checked.get_json()["visit"]["steps"][0]["service"] == "KK"
    assert client.post(f"/api/v1/bookings/{data['code']}/check-in", headers=headers).status_code == 409
    assert client.get(f"/api/v1/bookings/{data['token']}").get_json()["status"] == "checked_in"
