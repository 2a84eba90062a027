"""Reaching other people's things by changing an id in the URL (IDOR): other agencies' desks, other events'
steps, other visits' tokens, other users' device tokens. Each refusal leaves the database unchanged."""
from __future__ import annotations

import pytest

from botram.domain import queue
from botram.domain.tokens import issue_token, revoke_token
from botram.extensions import db
from botram.models import ApiToken, AuditLog, Step

from .conftest import count
from .factories import make_desk, make_event, make_user, service


@pytest.fixture
def two(app):
    """Two open events; event 1 has a Disdukcapil desk (serving a visit) and a Bapenda desk (serving another)."""
    users = {
        "dukcapil": make_user("petugas", "petugas-dukcapil", "DISDUKCAPIL"),
        "bapenda": make_user("petugas", "petugas-bapenda", "BAPENDA"),
        "resepsionis": make_user("resepsionis"),
        "admin": make_user("admin"),
    }
    event1, event2 = make_event("BOTRAM Satu"), make_event("BOTRAM Dua")
    dukcapil = make_desk(event1, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    bapenda = make_desk(event1, 2, "BAPENDA", ["PBB-BAYAR"])
    other_desk = make_desk(event2, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    rid = users["resepsionis"].id
    v1 = queue.issue_visit(event1.id, [service("KTP-REKAM").id], name="Siti Aminah", nik="3216014512900003",
                           phone="081234567890", by_user_id=rid).visit
    v2 = queue.issue_visit(event1.id, [service("PBB-BAYAR").id], name="Budi Santoso", by_user_id=rid).visit
    v3 = queue.issue_visit(event2.id, [service("KTP-REKAM").id], name="Rina", by_user_id=rid).visit
    db.session.commit()
    s1 = queue.call_next(dukcapil.id, by_user_id=users["dukcapil"].id).id
    s2 = queue.call_next(bapenda.id, by_user_id=users["bapenda"].id).id
    s3 = queue.call_next(other_desk.id, by_user_id=users["dukcapil"].id).id
    db.session.commit()
    return dict(users=users, event1=event1.id, event2=event2.id, dukcapil=dukcapil.id, bapenda=bapenda.id,
                other_desk=other_desk.id, s1=s1, s2=s2, s3=s3, v1=v1, v2=v2, v3=v3)


def _login(client, username):
    assert client.post("/login", data={"username": username, "password": "rahasia-123"}).status_code == 303


def _statuses(*ids):
    db.session.expire_all()
    return [db.session.get(Step, i).status for i in ids]


def test_officer_cannot_open_or_act_at_another_agencys_desk(client, two):
    _login(client, "petugas-bapenda")
    desk, step = two["dukcapil"], two["s1"]
    before = _statuses(step)
    for method, url in [("GET", f"/desk/{desk}"), ("GET", f"/desk/{desk}/stream"),
                        ("GET", f"/desk/{desk}/guidance/{step}"), ("POST", f"/desk/{desk}/call-next"),
                        ("POST", f"/desk/{desk}/steps/{step}/finish"), ("POST", f"/desk/{desk}/steps/{step}/no-show"),
                        ("POST", f"/desk/{desk}/steps/{step}/recall"), ("POST", f"/desk/{desk}/steps/{step}/start"),
                        ("POST", f"/desk/{desk}/steps/{step}/reveal-nik"), ("POST", f"/desk/{desk}/state"),
                        ("GET", f"/reports/desks/{desk}/hours"), ("POST", f"/reports/desks/{desk}/hours")]:
        response = client.open(url, method=method, data={"outcome": "done", "state": "closed"})
        assert response.status_code == 403, (method, url)
        assert b"3216014512900003" not in response.data and b"Siti" not in response.data
    assert _statuses(step) == before
    assert count(AuditLog, AuditLog.action == "visit.reveal_nik") == 0


def test_officer_cannot_reach_a_step_through_their_own_desk(client, two):
    """A step of another event is unknown at this desk (404); one at another desk of the event is refused (403)."""
    _login(client, "petugas-dukcapil")
    desk = two["dukcapil"]
    for step, expected in ((two["s3"], 404), (two["s2"], 403)):
        for action in ("finish", "no-show", "recall", "start", "reveal-nik"):
            response = client.post(f"/desk/{desk}/steps/{step}/{action}", data={"outcome": "done"})
            assert response.status_code == expected, (step, action)
        assert client.get(f"/desk/{desk}/guidance/{step}").status_code == expected
    assert _statuses(two["s2"], two["s3"]) == ["called", "called"]
    assert count(AuditLog, AuditLog.action == "visit.reveal_nik") == 0


def test_api_officer_of_another_agency_is_refused(client, two, app):
    token = issue_token(two["users"]["bapenda"], "tombol")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/desks/{two['dukcapil']}/call-next", headers=headers).status_code == 403
    for action in ("finish", "no-show", "recall"):
        response = client.post(f"/api/v1/steps/{two['s1']}/{action}", json={"outcome": "done"}, headers=headers)
        assert response.status_code == 403, action
        assert response.get_json()["error"]
    assert _statuses(two["s1"]) == ["called"]
    # its own desk works with the same token
    response = client.post(f"/api/v1/steps/{two['s2']}/finish", json={"outcome": "done"}, headers=headers)
    assert response.status_code == 200


def test_a_device_token_carries_its_users_role_and_no_more(client, two):
    raw = issue_token(two["users"]["dukcapil"], "tombol")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/funding?year=2026", headers=headers).status_code == 403
    response = client.post(f"/api/v1/events/{two['event1']}/visits", json={"services": [1]}, headers=headers)
    assert response.status_code == 403
    # a token opens the API only, never the pages
    page = client.get("/admin/users", headers=headers)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get(f"/desk/{two['dukcapil']}", headers=headers).status_code == 302


def test_a_token_is_stored_hashed_and_revocation_is_immediate(client, two):
    token, raw = issue_token(two["users"]["dukcapil"], "tombol")
    db.session.commit()
    stored = db.session.get(ApiToken, token.id)
    assert raw not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.post(f"/api/v1/steps/{two['s1']}/recall", headers=headers).status_code == 200
    revoke_token(db.session.get(ApiToken, token.id))
    db.session.commit()
    response = client.post(f"/api/v1/steps/{two['s1']}/recall", headers=headers)
    assert response.status_code == 401
    assert client.get("/api/v1/events", headers=headers).status_code == 401  # even a public route


def test_admin_cannot_revoke_a_token_through_another_users_url(client, two):
    token = issue_token(two["users"]["bapenda"], "tombol")[0]
    db.session.commit()
    _login(client, "admin")
    other = two["users"]["dukcapil"].id
    assert client.post(f"/admin/users/{other}/tokens/{token.id}/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_status_page_shows_only_its_own_visit(client, two):
    v1, v2 = two["v1"], two["v2"]
    page = client.get(f"/status/{v1.public_token}").get_data(as_text=True)
    assert v1.code in page and v2.code not in page
    for guess in (v1.public_token[:-1] + ("A" if v1.public_token[-1] != "A" else "B"), "1", "x" * 65,
                  "' OR 1=1 --"):
        response = client.get(f"/status/{guess}")
        assert response.status_code == 404
        assert v1.code not in response.get_data(as_text=True)
    assert client.get(f"/survey/{v1.public_token[:-2]}").status_code == 404


def test_public_tokens_are_long_and_random(two):
    tokens = {two[k].public_token for k in ("v1", "v2", "v3")}
    assert len(tokens) == 3
    assert all(len(t) >= 32 for t in tokens)


def test_reception_cannot_reach_desk_or_finance_by_id(client, two):
    _login(client, "resepsionis")
    assert client.get(f"/desk/{two['dukcapil']}").status_code == 403
    assert client.post(f"/desk/{two['dukcapil']}/steps/{two['s1']}/reveal-nik").status_code == 403
    assert client.get("/funding/contributions/1").status_code == 403


def test_token_use_is_noted_at_most_once_per_five_minutes(client, two):
    from datetime import timedelta

    token, raw = issue_token(two["users"]["dukcapil"], "tombol")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    db.session.expire_all()
    first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first  # no write on every poll
    stored = db.session.get(ApiToken, token.id)
    stored.last_used_at = first - timedelta(minutes=6)
    db.session.commit()
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > first - timedelta(minutes=6)
