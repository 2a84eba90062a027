"""The reports surface: role matrix, regency view, event report with IKM, XLSX, paper entry, desk hours,
and the demo history."""
from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from botram.domain import skm
from botram.domain.clock import today_wib, to_wib, wib_to_utc
from botram.domain.reports_demo import StepPlan, record_visit, seed_demo_reports
from botram.extensions import db
from botram.models import AuditLog, Desk, EventStatus, Region, StepStatus, SurveyResponse, UNSUR_KEYS, Visit

from .conftest import count
from .factories import make_desk, make_event, make_user, service
from .html_text import texts

ANSWERS = {key: "4" for key in UNSUR_KEYS}


class World:
    """A closed event last week with two desks and a few served visits, and an open event today."""

    def __init__(self):
        day = today_wib() - timedelta(days=7)
        self.event = make_event("BOTRAM Lalu", day=day, status=EventStatus.CLOSED)
        self.desk = make_desk(self.event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
        self.visits = []
        for hour in (8, 9, 9, 10):
            at = wib_to_utc(day, time(hour, 15))
            self.visits.append(record_visit(self.event, at, [StepPlan(
                service("KK"), StepStatus.DONE, at + timedelta(minutes=10), at + timedelta(minutes=20),
                self.desk)]))
        db.session.commit()
        self.today = make_event("BOTRAM Hari Ini")
        self.today_desk = make_desk(self.today, 1, "DISDUKCAPIL", ["KTP-REKAM"])
        self.today_desk_id = self.today_desk.id
        self.event_id = self.event.id


@pytest.fixture
def world(app):
    return World()


ROUTES = ["/reports/", "/reports/events/{id}", "/reports/events/{id}.xlsx"]


@pytest.mark.parametrize("url", ROUTES)
@pytest.mark.parametrize("role, expected", [
    ("admin", 200), ("koordinator", 200), ("keuangan", 200), ("resepsionis", 403), ("petugas", 403)])
def test_report_roles(client, auth, world, url, role, expected):
    make_user(role)
    auth.login(role)
    assert client.get(url.format(id=world.event_id)).status_code == expected


@pytest.mark.parametrize("url", ROUTES + ["/reports/events/{id}/survei-kertas", "/reports/desks/1/hours"])
def test_anonymous_goes_to_login(client, world, url):
    response = client.get(url.format(id=world.event_id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_event_is_404(client, auth, world):
    make_user("koordinator")
    auth.login("koordinator")
    assert client.get("/reports/events/99999").status_code == 404
    assert client.get("/reports/events/99999.xlsx").status_code == 404
    assert client.get("/reports/events/99999/survei-kertas").status_code == 404


def test_regency_lists_every_kecamatan_and_desa(client, auth, world):
    make_user("koordinator")
    auth.login("koordinator")
    page = client.get("/reports/").get_data(as_text=True)
    assert page.count('<tr class="never">') == 22  # 23 kecamatan, one visited (Cikarang Timur)
    assert page.count("<li class=\"visited\"") == 1 and page.count("<li class=\"never\"") == 186
    assert "BOTRAM Lalu" in page and "Jadwal berikutnya" in page and "BOTRAM Hari Ini" in page
    assert "1/23" in texts(page, "div", cls="value")  # kecamatan reached / all
    assert client.get("/reports/?year=20x6").status_code == 422
    assert client.get(f"/reports/?year={today_wib().year}").status_code == 200


def test_event_report_shows_ikm_after_a_survey(client, auth, world):
    make_user("koordinator")
    auth.login("koordinator")
    url = f"/reports/events/{world.event_id}"
    before = client.get(url).get_data(as_text=True)
    assert "Belum ada responden" in before
    skm.submit_survey(world.visits[0].public_token, {k: 3 for k in UNSUR_KEYS})
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="ikm">75,00<' in page and "Mutu C" in page
    assert "1 responden dari sampel minimal 4" in page
    assert "<svg" in page and "Kedatangan per jam dan jumlah loket buka" in page
    assert "Rekomendasi untuk kegiatan berikutnya" in page


def test_xlsx_export(client, auth, world):
    make_user("keuangan")
    auth.login("keuangan")
    response = client.get(f"/reports/events/{world.event_id}.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames == ["Ringkasan", "Per jam", "Per layanan", "Per instansi", "IKM", "Tidak terlayani",
                               "Usulan lokasi"]
    summary = {row[0]: row[1] for row in book["Ringkasan"].iter_rows(min_row=3, max_col=2, values_only=True)}
    assert summary["Kunjungan (tiket)"] == 4 and summary["Selesai"] == 4


def test_an_incomplete_step_is_not_counted_as_a_completed_service(client, auth, world):
    step = world.visits[0].steps[0]
    step.outcome = "incomplete"
    db.session.commit()
    make_user("koordinator")
    auth.login("koordinator")
    page = client.get(f"/reports/events/{world.event_id}").get_data(as_text=True)
    assert 'data-testid="completed">3<' in page and 'data-testid="incomplete">1<' in page
    book = load_workbook(BytesIO(client.get(f"/reports/events/{world.event_id}.xlsx").data))
    summary = {row[0]: row[1] for row in book["Ringkasan"].iter_rows(min_row=3, max_col=2, values_only=True)}
    assert summary["Selesai"] == 3 and summary["Belum lengkap"] == 1


# ---------------------------------------------------------------------------------------------- paper

@pytest.mark.parametrize("role, expected", [
    ("admin", 200), ("koordinator", 200), ("resepsionis", 200), ("keuangan", 403), ("petugas", 403)])
def test_paper_roles(client, auth, world, role, expected):
    make_user(role)
    auth.login(role)
    assert client.get(f"/reports/events/{world.event_id}/survei-kertas").status_code == expected


def test_paper_entry(client, auth, world):
    staff = make_user("resepsionis")
    auth.login("resepsionis")
    url = f"/reports/events/{world.event_id}/survei-kertas"
    response = client.post(url, data=dict(ANSWERS, code=world.visits[1].code, education="s1"))
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    saved = db.session.scalar(sa.select(SurveyResponse))
    assert (saved.channel, saved.entered_by_id, saved.education) == ("paper", staff.id, "s1")
    assert "tersimpan" in client.get(url).get_data(as_text=True)
    again = client.post(url, data=dict(ANSWERS, code=world.visits[1].code))
    assert again.status_code == 409 and "sudah diisi" in again.get_data(as_text=True)
    assert count(SurveyResponse) == 1


@pytest.mark.parametrize("change, message", [
    ({"code": ""}, "Nomor tiket wajib diisi"),
    ({"code": "Q-404"}, "Nomor tiket tidak ditemukan di kegiatan ini."),
    ({"prosedur": ""}, "Pertanyaan “Prosedur” belum dijawab."),
    ({"sarana": "0"}, "Jawaban “Sarana dan prasarana” harus angka 1 sampai 4."),
    ({"occupation": "x" * 50}, "Pekerjaan tidak dikenal."),
])
def test_paper_bad_input(client, auth, world, change, message):
    make_user("koordinator")
    auth.login("koordinator")
    data = {**ANSWERS, "code": world.visits[0].code, **change}
    response = client.post(f"/reports/events/{world.event_id}/survei-kertas", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(SurveyResponse) == 0


def test_paper_without_csrf_is_400(client, auth, world):
    make_user("koordinator")
    auth.login("koordinator")
    response = client.post(f"/reports/events/{world.event_id}/survei-kertas",
                           data=dict(ANSWERS, code=world.visits[0].code), no_csrf=True)
    assert response.status_code == 400 and count(SurveyResponse) == 0


# ---------------------------------------------------------------------------------------------- desk hours

def _closes(desk_id):
    db.session.expire_all()
    return to_wib(db.session.get(Desk, desk_id).closes_at).strftime("%H:%M")


def test_officer_extends_own_desk(client, auth, world):
    make_user("petugas", "petugas1")
    auth.login("petugas1")
    url = f"/reports/desks/{world.today_desk_id}/hours"
    assert client.get(url + "?next=/desk/").status_code == 200
    response = client.post(url, data={"extend": "60", "next": "/desk/"})
    assert response.status_code == 303 and response.headers["Location"] == "/desk/"
    assert _closes(world.today_desk_id) == "17:00"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "desk.hours"))
    assert entry.detail["closes"] == "17:00" and entry.detail["extended"] is True
    response = client.post(url, data={"opens": "08:00", "closes": "18:30", "next": "//evil.example"})
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    assert _closes(world.today_desk_id) == "18:30"


@pytest.mark.parametrize("data, status, message", [
    ({"opens": "10:00", "closes": "09:00"}, 422, "Jam tutup harus setelah jam buka"),
    ({"opens": "", "closes": "09:00"}, 422, "Jam buka wajib diisi."),
    ({"opens": "08:00", "closes": "25:99"}, 422, "Isi jam dengan format JJ:MM"),
])
def test_desk_hours_bad_input(client, auth, world, data, status, message):
    make_user("koordinator")
    auth.login("koordinator")
    response = client.post(f"/reports/desks/{world.today_desk_id}/hours", data=data)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert _closes(world.today_desk_id) == "16:00"


def test_desk_hours_refusals(client, auth, world):
    make_user("petugas", "petugas3", agency_code="BAPENDA")
    auth.login("petugas3")
    url = f"/reports/desks/{world.today_desk_id}/hours"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"extend": "60"}).status_code == 403
    assert _closes(world.today_desk_id) == "16:00"


def test_desk_hours_bad_requests_and_closed_event(client, auth, world):
    url = f"/reports/desks/{world.today_desk_id}/hours"
    make_user("koordinator")
    auth.login("koordinator")
    assert client.post(url, data={"extend": "45"}).status_code == 400
    assert client.post(url, data={"extend": "60"}, no_csrf=True).status_code == 400
    closed = client.post(f"/reports/desks/{world.desk.id}/hours", data={"extend": "60"})
    assert closed.status_code == 409 and "sudah ditutup" in closed.get_data(as_text=True)
    assert client.get("/reports/desks/99999/hours").status_code == 404
    assert _closes(world.today_desk_id) == "16:00"


@pytest.mark.parametrize("role", ["keuangan", "resepsionis"])
def test_desk_hours_other_roles_403(client, auth, world, role):
    make_user(role)
    auth.login(role)
    assert client.get(f"/reports/desks/{world.today_desk_id}/hours").status_code == 403


# ---------------------------------------------------------------------------------------------- demo

def test_seed_demo_reports_is_idempotent(app, world):
    empty = make_event("BOTRAM Kosong", day=today_wib() - timedelta(days=30), status=EventStatus.CLOSED)
    make_desk(empty, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
    make_desk(empty, 2, "DISDUKCAPIL", ["KK"])
    make_desk(empty, 3, "BAPENDA", ["PBB-BAYAR"])
    assert seed_demo_reports() == 1  # "BOTRAM Lalu" already had visits
    visits = count(Visit, Visit.event_id == empty.id)
    assert visits > 80 and count(SurveyResponse, SurveyResponse.event_id == empty.id) > 10
    report = skm.ikm_for_event(empty.id)
    assert report.grade is not None
    assert seed_demo_reports() == 0 and count(Visit, Visit.event_id == empty.id) == visits


def test_every_staff_route_declares_its_roles(app):
    """Reports and the kiosk are for signed-in roles; only the citizen's own survey page is public."""
    public = {"survey.answer", "survey.thanks"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("reports.", "survey.")):
            roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
            assert (roles is None) == (rule.endpoint in public), rule.rule


def test_event_report_links_kiosk_and_paper_for_coordinators_only(client, auth, world):
    make_user("keuangan")
    auth.login("keuangan")
    page = client.get(f"/reports/events/{world.event_id}").get_data(as_text=True)
    assert "Kios survei" not in page and "Input survei kertas" not in page and "Unduh XLSX" in page


def test_regency_view_domain(app, world):
    from botram.domain.regency import regency_view

    later = make_event("BOTRAM Nanti", day=today_wib() + timedelta(days=20), status=EventStatus.DRAFT,
                       kecamatan="Muaragembong")
    skm.submit_survey(world.visits[0].public_token, {k: 4 for k in UNSUR_KEYS}, next_desa_code=later.desa_code)
    view = regency_view()
    assert len(view.kecamatan) == 23 and view.desa_total == 187
    assert view.kecamatan_visited == 1 and view.desa_visited == 1
    assert [row.event.title for row in view.events] == ["BOTRAM Hari Ini", "BOTRAM Lalu"]
    assert view.visits_total == 4 and view.ikm.ikm == 100
    assert [e.title for e in view.upcoming] == ["BOTRAM Hari Ini", "BOTRAM Nanti"]
    muara = next(k for k in view.kecamatan if k.name == "Muaragembong")
    assert not muara.visited and muara.planned == 1 and muara.requested == 1
    months = [(m.year, m.month, m.events, m.visits) for m in view.trend]
    assert sum(m[2] for m in months) == 2 and sum(m[3] for m in months) == 4
    assert [r.code for r in view.requests] == [later.desa_code]
    assert regency_view(year=2001).events == []


def test_regency_view_figures_by_hand(app):
    """Per-event and overall IKM, visits and requests by year, summed by the database, against hand-derived
    values: two held events a year apart and a planned one."""
    from botram.domain.regency import regency_view

    today = today_wib()
    this_year = make_event("BOTRAM Ini", day=date(today.year, 1, 1), status=EventStatus.CLOSED)
    last_year = make_event("BOTRAM Lalu", day=date(today.year - 1, 6, 1), status=EventStatus.CLOSED,
                           kecamatan="Muaragembong")
    desk = {e.id: make_desk(e, 1, "DISDUKCAPIL", ["KK"]) for e in (this_year, last_year)}
    desa = list(db.session.scalars(sa.select(Region.code).where(Region.level == 4).order_by(Region.code).limit(2)))

    def visit(event, scores, next_desa=None):
        at = wib_to_utc(event.date, time(9))
        made = record_visit(event, at, [StepPlan(service("KK"), called_at=at + timedelta(minutes=5),
                                                 finished_at=at + timedelta(minutes=15), desk=desk[event.id])])
        if scores is not None:
            db.session.add(SurveyResponse(visit_id=made.id, event_id=event.id, next_desa_code=next_desa,
                                          **{k: scores for k in UNSUR_KEYS}))
        db.session.commit()

    visit(this_year, 4, desa[0])
    visit(this_year, 3, desa[0])
    visit(this_year, None)
    visit(last_year, 1, desa[1])
    view = regency_view()
    rows = {r.event.title: (r.visits, r.done, r.ikm.respondents, r.ikm.ikm) for r in view.events}
    # this year: NRR (4 + 3) / 2 = 3.5 -> 87.50; last year: 1 -> 25.00; overall (4 + 3 + 1) / 3 -> 66.67
    assert rows == {"BOTRAM Ini": (3, 3, 2, Decimal("87.50")), "BOTRAM Lalu": (1, 1, 1, Decimal("25.00"))}
    assert (view.ikm.respondents, view.ikm.population, view.ikm.ikm) == (3, 4, Decimal("66.67"))
    assert [(r.code, r.requests) for r in view.requests] == [(desa[0], 2), (desa[1], 1)]
    year = regency_view(year=today.year)
    assert [r.event.title for r in year.events] == ["BOTRAM Ini"]
    assert (year.ikm.respondents, year.ikm.ikm) == (2, Decimal("87.50"))
    assert [(r.code, r.requests) for r in year.requests] == [(desa[0], 2)]
    assert [(r.code, r.requests) for r in regency_view(year=today.year - 1).requests] == [(desa[1], 1)]


def test_xlsx_sheets_hold_every_row_of_the_report(client, auth, world):
    from botram.domain.stats import event_report

    make_user("koordinator")
    auth.login("koordinator")
    book = load_workbook(BytesIO(client.get(f"/reports/events/{world.event_id}.xlsx").data))
    report = event_report(world.event_id)
    per_service = list(book["Per layanan"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[3]) for r in per_service] == [(g.agency, g.name, g.steps) for g in report.services]
    assert len(list(book["Per jam"].iter_rows(min_row=2, values_only=True))) == len(report.hours.hours)
    nrr = [r[1] for r in book["IKM"].iter_rows(min_row=2, max_row=1 + len(report.ikm.elements), values_only=True)]
    assert nrr == [float(e.nrr) for e in report.ikm.elements]
    assert book["Per layanan"].freeze_panes == "A2"


def test_all_years_list_the_latest_50_events_and_a_year_lists_all(client, auth, app):
    make_user("koordinator")
    auth.login("koordinator")
    today = today_wib()
    for i in range(52):
        make_event(f"BOTRAM Lampau {i:02d}", day=today - timedelta(days=1 + i), status=EventStatus.CLOSED)
    page = client.get("/reports/").get_data(as_text=True)
    assert page.count("BOTRAM Lampau") == 50 and "50 kegiatan terbaru dari 52" in page
    assert "BOTRAM Lampau 00" in page and "BOTRAM Lampau 51" not in page
    year = (today - timedelta(days=1)).year
    in_year = sum(1 for i in range(52) if (today - timedelta(days=1 + i)).year == year)
    assert client.get(f"/reports/?year={year}").get_data(as_text=True).count("BOTRAM Lampau") == in_year
