"""POST /api/v1/visits/<token>/survey and GET /api/v1/events/<id>/stats."""
import pytest

from botram.domain import queue
from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import SurveyResponse

from .conftest import count
from .factories import make_desk, make_event, make_user, service

GOOD = {"persyaratan": 4, "prosedur": 3, "waktu": 2, "biaya": 4, "produk": 3, "kompetensi": 4, "perilaku": 4,
        "sarana": 3, "pengaduan": 2}


@pytest.fixture
def served_visit(app):
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KK"])
    officer = make_user("petugas", "petugas1", "DISDUKCAPIL")
    visit = queue.issue_visit(event.id, [service("KK").id], name="Siti Aminah", nik="3216014508950001",
                              by_user_id=officer.id).visit
    step = queue.call_next(desk.id, by_user_id=officer.id)
    queue.finish(step.id, outcome="done", by_user_id=officer.id)
    return event, visit.public_token, officer


def test_survey_once_per_visit_and_it_shows_in_the_stats(client, served_visit):
    event, token, officer = served_visit
    response = client.post(f"/api/v1/visits/{token}/survey", json={"scores": GOOD, "comment": "Cepat dan ramah"},
                           no_csrf=True)
    assert response.status_code == 201
    assert response.get_json()["scores"] == GOOD
    again = client.post(f"/api/v1/visits/{token}/survey", json={"scores": GOOD}, no_csrf=True)
    assert again.status_code == 409 and again.is_json
    assert count(SurveyResponse) == 1

    _token, raw = issue_token(officer, "uji")
    db.session.commit()
    stats = client.get(f"/api/v1/events/{event.id}/stats", headers={"Authorization": f"Bearer {raw}"})
    assert stats.status_code == 200
    body = stats.get_json()
    assert body["visits"] == 1 and body["steps"]["by_state"]["done"] == 1
    assert body["ikm"]["respondents"] == 1
    # IKM = mean of the nine scores × 25, weights exactly 1/9: 29 / 9 × 25 = 80.555… → 80.56
    assert body["ikm"]["ikm"] == 80.56
    text = stats.get_data(as_text=True)
    assert "Siti" not in text and "3216014508950001" not in text and "ramah" not in text


@pytest.mark.parametrize("payload, field", [
    ({"scores": {**GOOD, "waktu": 5}}, "waktu"),
    ({"scores": {**GOOD, "waktu": 0}}, "waktu"),
    ({"scores": {k: v for k, v in GOOD.items() if k != "sarana"}}, "sarana"),
    ({"scores": {**GOOD, "biaya": "4"}}, "biaya"),
    ({"scores": [4] * 9}, "scores"),
    ({"scores": GOOD, "sex": 1}, "sex"),
])
def test_bad_surveys_save_nothing(client, served_visit, payload, field):
    _event, token, _officer = served_visit
    response = client.post(f"/api/v1/visits/{token}/survey", json=payload, no_csrf=True)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field
    assert count(SurveyResponse) == 0


def test_survey_unknown_token_and_malformed_body(client, served_visit):
    _event, token, _officer = served_visit
    assert client.post("/api/v1/visits/tidak-ada/survey", json={"scores": GOOD}, no_csrf=True).status_code == 404
    assert client.post(f"/api/v1/visits/{token}/survey", data="{", no_csrf=True).status_code == 400
    assert count(SurveyResponse) == 0


def test_stats_need_a_signed_in_caller(client, served_visit):
    event, _token, _officer = served_visit
    assert client.get(f"/api/v1/events/{event.id}/stats").status_code == 401
    user = make_user("keuangan")
    _t, raw = issue_token(user, "uji")
    db.session.commit()
    assert client.get("/api/v1/events/999999/stats", headers={"Authorization": f"Bearer {raw}"}).status_code == 404


def test_status_page_offers_the_survey_once_a_service_is_done(client, served_visit):
    _event, token, _officer = served_visit
    page = client.get(f"/status/{token}").get_data(as_text=True)
    assert "Isi survei kepuasan" in page and f"/survey/{token}" in page
