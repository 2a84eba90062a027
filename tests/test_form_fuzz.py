"""Odd input for the forms and the JSON API (hypothesis): unicode, NUL bytes, huge strings, SQL-looking
text, empty values. Never a 500, and a refused submission saves nothing."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import Agency, Event, LoginSession, Sponsor, SurveyResponse, Visit

from .conftest import count
from .test_authz_matrix import build_world

SQLISH = ["' OR '1'='1", "'; DROP TABLE visit; --", "1; SELECT pg_sleep(5)", "\" OR 1=1 --", "%' --",
          "<script>alert(1)</script>", "{{ 7*7 }}", "../../etc/passwd", "NULL", "0x00", "-1", "1e309"]
ODD = st.one_of(
    st.just(""),
    st.sampled_from(SQLISH),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Lo", "Mn", "So", "Zs", "Cc"]), max_size=40),
    st.text(min_size=200, max_size=600).map(lambda s: s * 20),  # 4,000 to 12,000 characters
    st.sampled_from(["\x00", "abc\x00def", "３２１６０１４５１２９００００３", "٣٢١٦", "\u202e3216", "🙂" * 50]),
)
FUZZ = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _login(client, username):
    assert client.post("/login", data={"username": username, "password": "rahasia-123"}).status_code == 303


def _submit(client, url, data, model, *, allowed_success=(200, 201, 303)):
    before = count(model)
    response = client.post(url, data=data)
    assert response.status_code < 500, (url, data, response.status_code)
    if response.status_code >= 400:
        db.session.rollback()
        assert count(model) == before, (url, data)
    else:
        assert response.status_code in allowed_success, (url, response.status_code)
    return response


@pytest.fixture
def world(app):
    return build_world()


def test_login_form(client, world):
    @given(username=ODD, password=ODD)
    @FUZZ
    def run(username, password):
        _submit(client, "/login", {"username": username, "password": password}, LoginSession)

    run()
    assert count(LoginSession) == 0


def test_reception_registration(client, world):
    _login(client, "resepsionis")

    @given(name=ODD, nik=ODD, phone=ODD, priority=ODD, services=ODD)
    @FUZZ
    def run(name, nik, phone, priority, services):
        _submit(client, f"/reception/{world.event.id}",
                {"name": name, "nik": nik, "phone": phone, "priority": priority, "services": services}, Visit)

    run()


def test_admin_agency_form(client, world):
    _login(client, "admin")

    @given(code=ODD, short_name=ODD, name=ODD, color=ODD)
    @FUZZ
    def run(code, short_name, name, color):
        _submit(client, "/admin/agencies/new", {"code": code, "short_name": short_name, "name": name,
                                                "color": color}, Agency)

    run()


def test_event_form(client, world):
    _login(client, "koordinator")

    @given(title=ODD, venue=ODD, date=ODD, opens=ODD, kecamatan=ODD)
    @FUZZ
    def run(title, venue, date, opens, kecamatan):
        _submit(client, "/events/new", {"title": title, "venue": venue, "date": date, "opens": opens,
                                        "closes": "16:00", "kecamatan_code": kecamatan, "desa_code": kecamatan},
                Event)

    run()


def test_sponsor_form(client, world):
    _login(client, "keuangan")

    @given(name=ODD, kind=ODD, phone=ODD, email=ODD, npwp=ODD, notes=ODD)
    @FUZZ
    def run(name, kind, phone, email, npwp, notes):
        _submit(client, "/funding/sponsors/new", {"name": name, "kind": kind, "phone": phone, "email": email,
                                                  "npwp": npwp, "notes": notes, "sector": notes}, Sponsor)

    run()


def test_survey_form(client, world):
    @given(score=ODD, comment=ODD)
    @FUZZ
    def run(score, comment):
        data = {key: score for key in ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi",
                                       "perilaku", "sarana", "pengaduan")}
        data["comment"] = comment
        _submit(client, f"/survey/{world.visit.public_token}", data, SurveyResponse)

    run()


def test_running_text_and_desk_note(client, world):
    _login(client, "koordinator")

    @given(text=ODD, note=ODD, outcome=ODD)
    @FUZZ
    def run(text, note, outcome):
        response = client.post(f"/events/{world.event.id}/running-text", data={"running_text": text})
        assert response.status_code < 500
        response = client.post(f"/desk/{world.desk.id}/steps/{world.step_id}/finish",
                               data={"outcome": outcome, "note": note}, headers={"HX-Request": "true"})
        assert response.status_code < 500
        db.session.rollback()

    run()


def test_api_visit_json(client, world):
    raw = issue_token(world.users["resepsionis"], "kiosk")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    json_value = st.one_of(ODD, st.integers(), st.none(), st.booleans(), st.floats(allow_nan=True),
                           st.lists(st.one_of(st.integers(), ODD), max_size=3))

    @given(services=json_value, priority=json_value, name=json_value, nik=json_value, phone=json_value)
    @FUZZ
    def run(services, priority, name, nik, phone):
        before = count(Visit)
        response = client.post(f"/api/v1/events/{world.event.id}/visits", headers=headers,
                               json={"services": services, "priority": priority, "name": name, "nik": nik,
                                     "phone": phone})
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.is_json
        if response.status_code >= 400:
            assert count(Visit) == before

    run()
