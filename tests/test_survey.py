"""The citizen's survey page (/survey/<token>) and the staff-signed-in kiosk (/survey/kiosk/<event id>)."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain.clock import wib_to_utc
from botram.domain.reports_demo import StepPlan, record_visit
from botram.extensions import db
from botram.models import EventStatus, StepStatus, SurveyResponse, UNSUR_KEYS, User

from .conftest import count
from .factories import make_desk, make_event, make_user, service

ANSWERS = {key: "3" for key in UNSUR_KEYS}


class World:
    def __init__(self):
        self.event = make_event()
        self.desk = make_desk(self.event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
        self.served = self.visit(StepStatus.DONE)
        self.waiting = self.visit(StepStatus.WAITING)
        self.event_id = self.event.id

    def visit(self, status):
        at = wib_to_utc(self.event.date, time(9))
        plan = StepPlan(service("KK"), status, at + timedelta(minutes=3) if status == "done" else None,
                        at + timedelta(minutes=9) if status == "done" else None, self.desk)
        visit = record_visit(self.event, at, [plan])
        db.session.commit()
        return visit


@pytest.fixture
def world(app):
    return World()


def test_survey_page_needs_no_login_and_is_not_cached(client, world):
    response = client.get(f"/survey/{world.served.public_token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bagaimana pelayanan hari ini?" in page and world.served.code in page
    assert page.count('type="radio"') == 36 and "Sangat sesuai" in page and "Dikelola dengan baik" in page
    assert "Kec. " in page  # the next-location select is grouped by kecamatan
    assert response.headers["Cache-Control"] == "no-store"


def test_answer_once_then_thanks(client, world):
    token = world.served.public_token
    response = client.post(f"/survey/{token}", data=dict(ANSWERS, comment="Mantap", sex="P", next_desa_code=""))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/survey/{token}/terima-kasih")
    saved = db.session.scalar(sa.select(SurveyResponse))
    assert (saved.channel, saved.comment, saved.sex, saved.waktu, saved.entered_by_id) == ("qr", "Mantap", "P", 3,
                                                                                           None)
    assert "Terima kasih" in client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.get(f"/survey/{token}")
    assert again.status_code == 200 and "sudah diisi" in again.get_data(as_text=True)
    second = client.post(f"/survey/{token}", data={key: "1" for key in UNSUR_KEYS})
    assert second.status_code == 409 and "sudah diisi" in second.get_data(as_text=True)
    assert count(SurveyResponse) == 1


def test_missing_answers_are_all_named(client, world):
    data = {k: v for k, v in ANSWERS.items() if k not in ("waktu", "pengaduan")}
    response = client.post(f"/survey/{world.served.public_token}", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    # post-redirect-get: the refusal is shown by a GET, so Back never offers to resubmit the form
    assert [r.status_code for r in response.history] == [303] and response.status_code == 200
    assert "Pertanyaan “Waktu pelayanan” belum dijawab." in page
    assert "Pertanyaan “Penanganan pengaduan” belum dijawab." in page
    assert 'value="3" checked' in page  # answers given are kept
    assert count(SurveyResponse) == 0


@pytest.mark.parametrize("change, message", [
    ({"waktu": "5"}, "Jawaban “Waktu pelayanan” harus angka 1 sampai 4."),
    ({"waktu": "tiga"}, "Jawaban “Waktu pelayanan” harus angka 1 sampai 4."),
    ({"next_desa_code": "99.99"}, "Pilih desa/kelurahan di Kabupaten Bekasi."),
    ({"age_band": "200"}, "Kelompok usia tidak dikenal."),
    ({"comment": "x" * 1001}, "Komentar paling banyak 1000 karakter."),
])
def test_bad_input_is_refused(client, world, change, message):
    response = client.post(f"/survey/{world.served.public_token}", data=dict(ANSWERS, **change),
                           follow_redirects=True)
    assert [r.status_code for r in response.history] == [303]
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert count(SurveyResponse) == 0


def test_without_csrf_is_400(client, world):
    response = client.post(f"/survey/{world.served.public_token}", data=ANSWERS, no_csrf=True)
    assert response.status_code == 400 and count(SurveyResponse) == 0


def test_unknown_token_and_not_yet_served(client, world):
    assert client.get("/survey/tidak-ada").status_code == 404
    assert client.post("/survey/tidak-ada", data=ANSWERS).status_code == 404
    assert client.get("/survey/" + "x" * 100).status_code == 404
    page = client.get(f"/survey/{world.waiting.public_token}")
    assert page.status_code == 200 and "setelah Anda selesai dilayani" in page.get_data(as_text=True)
    assert client.post(f"/survey/{world.waiting.public_token}", data=ANSWERS).status_code == 409
    assert count(SurveyResponse) == 0


# ---------------------------------------------------------------------------------------------- kiosk

@pytest.mark.parametrize("role, expected", [
    ("admin", 200), ("koordinator", 200), ("resepsionis", 200), ("petugas", 200), ("keuangan", 403)])
def test_kiosk_roles(client, auth, world, role, expected):
    make_user(role)
    auth.login(role)
    assert client.get(f"/survey/kiosk/{world.event_id}").status_code == expected


def test_kiosk_needs_a_signed_in_tablet(client, world):
    response = client.get(f"/survey/kiosk/{world.event_id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/survey/kiosk/{world.event_id}/jawab", data=dict(ANSWERS, code=world.served.code))
    assert response.status_code == 302 and count(SurveyResponse) == 0


def test_kiosk_flow(client, auth, world):
    staff = make_user("resepsionis")
    auth.login("resepsionis")
    url = f"/survey/kiosk/{world.event_id}"
    start = client.post(url, data={"code": world.served.code.lower()})
    assert start.status_code == 200 and "Kirim jawaban" in start.get_data(as_text=True)
    done = client.post(url + "/jawab", data=dict(ANSWERS, code=world.served.code))
    assert done.status_code == 303 and done.headers["Location"].endswith(f"{url}?selesai=1")
    saved = db.session.scalar(sa.select(SurveyResponse))
    assert saved.channel == "kiosk" and saved.entered_by_id == staff.id
    again = client.post(url, data={"code": world.served.code})
    assert again.status_code == 409 and "sudah diisi" in again.get_data(as_text=True)
    assert count(SurveyResponse) == 1


@pytest.mark.parametrize("code, status, message", [
    ("", 422, "Ketik nomor pada tiket Anda"),
    ("Z-999", 404, "Nomor tiket tidak ditemukan di kegiatan ini"),
    ("!!!", 404, "Nomor tiket tidak ditemukan di kegiatan ini"),
])
def test_kiosk_bad_codes(client, auth, world, code, status, message):
    make_user("resepsionis")
    auth.login("resepsionis")
    response = client.post(f"/survey/kiosk/{world.event_id}", data={"code": code})
    assert response.status_code == status and message in response.get_data(as_text=True)


def test_kiosk_missing_answer_and_unserved_ticket(client, auth, world):
    make_user("resepsionis")
    auth.login("resepsionis")
    url = f"/survey/kiosk/{world.event_id}"
    data = dict(ANSWERS, code=world.served.code)
    data.pop("biaya")
    response = client.post(url + "/jawab", data=data)
    assert response.status_code == 422 and "Pertanyaan “Biaya/tarif” belum dijawab." in response.get_data(as_text=True)
    response = client.post(url, data={"code": world.waiting.code})
    assert response.status_code == 409 and "setelah Anda selesai dilayani" in response.get_data(as_text=True)
    assert count(SurveyResponse) == 0


def test_kiosk_for_draft_or_unknown_event_is_404(client, auth, app):
    make_user("resepsionis")
    auth.login("resepsionis")
    draft = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/survey/kiosk/{draft.id}").status_code == 404
    assert client.get("/survey/kiosk/99999").status_code == 404


def test_a_refused_answer_is_shown_once_then_the_form_is_fresh(client, world):
    """The draft carried across the redirect is used once: reloading the form later starts clean."""
    token = world.served.public_token
    data = {k: v for k, v in ANSWERS.items() if k != "waktu"}
    response = client.post(f"/survey/{token}", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/survey/{token}")
    shown = client.get(f"/survey/{token}").get_data(as_text=True)
    assert "Pertanyaan “Waktu pelayanan” belum dijawab." in shown and 'value="3" checked' in shown
    again = client.get(f"/survey/{token}").get_data(as_text=True)
    assert "belum dijawab" not in again and 'checked' not in again
    assert count(SurveyResponse) == 0
