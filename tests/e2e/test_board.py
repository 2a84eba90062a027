"""The projector board in Chromium: a call appears within a moment, the board survives a server restart,
and no personal data reaches it."""
import json
import time
import urllib.request

from .conftest import screenshot

NAME, NIK, PHONE = "Siti Aminah", "3216014508950001", "081234567890"


def api(server, method, path, token, body=None):
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)


def demo_ids(server):
    with urllib.request.urlopen(server.url + "/api/v1/events?status=open") as response:
        event = json.loads(response.read())[0]
    with urllib.request.urlopen(server.url + f"/api/v1/events/{event['id']}/desks") as response:
        desks = json.loads(response.read())
    return event["id"], {d["number"]: d for d in desks}


def test_a_call_appears_on_an_open_board_without_personal_data(live_server, new_page):
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(live_server)
    service_id = desks[1]["services"][0]["id"]
    status, visit = api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
                        {"services": [service_id], "name": NAME, "nik": NIK, "phone": PHONE})
    assert status == 201

    page = new_page(1920, 1080)
    page.goto(f"{live_server.url}/board/{event_id}")
    page.wait_for_selector(".latest-empty")
    started = time.monotonic()
    status, called = api(live_server, "POST", f"/api/v1/desks/{desks[1]['id']}/call-next", officer)
    assert status == 200 and called["visit_code"] == visit["code"]
    page.wait_for_selector(f".latest-code:text('{visit['code']}')", timeout=5000)
    assert time.monotonic() - started < 5
    tile = page.locator(".desk-tile").first
    assert visit["code"] in tile.inner_text()

    html = page.content()
    api_json = urllib.request.urlopen(f"{live_server.url}/api/v1/events/{event_id}/board").read().decode()
    for secret in (NAME, NIK, PHONE, "Siti", "0812"):
        assert secret not in html and secret not in api_json
    screenshot(page, "board-1920")


def test_board_recovers_after_the_server_restarts(live_server, new_page):
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas3").strip()
    event_id, desks = demo_ids(live_server)
    for _ in range(2):
        api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
            {"services": [desks[3]["services"][0]["id"]]})

    page = new_page(1920, 1080)
    page.goto(f"{live_server.url}/board/{event_id}")
    page.wait_for_selector(".latest-empty")
    live_server.stop()
    page.wait_for_selector("#board-offline:not([hidden])", timeout=15000)
    assert "Koneksi terputus" in page.inner_text("#board-offline")
    # the last state stays on screen while offline
    assert page.locator(".desk-tile").count() == 5
    screenshot(page, "board-offline-1920")

    live_server.start()
    status, called = api(live_server, "POST", f"/api/v1/desks/{desks[3]['id']}/call-next", officer)
    assert status == 200
    page.wait_for_selector(f".latest-code:text('{called['visit_code']}')", timeout=20000)
    page.wait_for_selector("#board-offline[hidden]", state="attached", timeout=5000)
