"""SKM / IKM (Permenpan RB 14/2017): a worked example computed by hand, grade boundaries, sample size,
per-agency/service attribution, and submitting answers with every kind of bad input."""
from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from botram.domain import Conflict, DomainError, NotFound
from botram.domain import skm
from botram.domain.clock import wib_to_utc
from botram.domain.reports_demo import StepPlan, record_visit
from botram.extensions import db
from botram.models import AuditLog, EventStatus, Region, StepStatus, SurveyResponse, UNSUR_KEYS

from .conftest import count
from .factories import make_desk, make_event, make_user, service

# ---------------------------------------------------------------------------------------- worked example
#
# Ten answer sheets, by element (column sums by hand):
#   persyaratan 4,4,4,4,4,3,3,3,3,3 = 35 -> NRR 3.5  -> x25 = 87.50 (B)
#   prosedur    4,4,3,3,3,3,3,3,3,3 = 32 -> NRR 3.2  -> 80.00 (B)
#   waktu       3,3,3,3,2,2,2,2,2,2 = 24 -> NRR 2.4  -> 60.00 (D)   below 3
#   biaya       4 x 10              = 40 -> NRR 4.0  -> 100.00 (A)
#   produk      4,4,4,3,3,3,3,3,3,3 = 33 -> NRR 3.3  -> 82.50 (B)
#   kompetensi  4 x 6, 3 x 4        = 36 -> NRR 3.6  -> 90.00 (A)
#   perilaku    4 x 8, 3 x 2        = 38 -> NRR 3.8  -> 95.00 (A)
#   sarana      4,3,3,3,3,3,2,2,2,2 = 27 -> NRR 2.7  -> 67.50 (C)   below 3
#   pengaduan   4,4,3,3,3,3,3,2,2,2 = 29 -> NRR 2.9  -> 72.50 (C)   below 3
# Σ NRR = 29.4; IKM = 29.4 × 1/9 × 25 = 81.666… -> 81.67, grade B (Baik).
# With the rounded weight 0.111 it would be 29.4 × 0.111 × 25 = 81.585 -> 81.59: we must not get that.
COLUMNS = {
    "persyaratan": [4, 4, 4, 4, 4, 3, 3, 3, 3, 3],
    "prosedur": [4, 4, 3, 3, 3, 3, 3, 3, 3, 3],
    "waktu": [3, 3, 3, 3, 2, 2, 2, 2, 2, 2],
    "biaya": [4] * 10,
    "produk": [4, 4, 4, 3, 3, 3, 3, 3, 3, 3],
    "kompetensi": [4] * 6 + [3] * 4,
    "perilaku": [4] * 8 + [3] * 2,
    "sarana": [4, 3, 3, 3, 3, 3, 2, 2, 2, 2],
    "pengaduan": [4, 4, 3, 3, 3, 3, 3, 2, 2, 2],
}
SHEETS = [{key: COLUMNS[key][i] for key in UNSUR_KEYS} for i in range(10)]
ALL_FOUR = {key: 4 for key in UNSUR_KEYS}


@pytest.mark.db_independent
def test_worked_example_by_hand():
    result = skm.compute_ikm(SHEETS * 10, population=250)  # 100 respondents, same NRR
    assert result.respondents == 100
    nrr = {e.key: e.nrr for e in result.elements}
    assert nrr == {"persyaratan": Decimal("3.500"), "prosedur": Decimal("3.200"), "waktu": Decimal("2.400"),
                   "biaya": Decimal("4.000"), "produk": Decimal("3.300"), "kompetensi": Decimal("3.600"),
                   "perilaku": Decimal("3.800"), "sarana": Decimal("2.700"), "pengaduan": Decimal("2.900")}
    assert result.ikm == Decimal("81.67")
    assert result.ikm != Decimal("81.59")  # not the 0.111 weight
    assert (result.grade.letter, result.grade.label) == ("B", "Baik")
    grades = {e.key: e.grade.letter for e in result.elements}
    assert grades == {"persyaratan": "B", "prosedur": "B", "waktu": "D", "biaya": "A", "produk": "B",
                      "kompetensi": "A", "perilaku": "A", "sarana": "C", "pengaduan": "C"}
    assert [e.key for e in result.lowest] == ["waktu", "sarana", "pengaduan"]
    assert [e.key for e in result.weak] == ["waktu", "sarana", "pengaduan"]
    # Krejcie–Morgan for N = 250 is 152 (the table's value too): 100 respondents fall short.
    assert result.sample_required == 152 and not result.sample_met
    assert result.as_dict()["ikm"] == 81.67 and result.as_dict()["grade"] == "B"


@pytest.mark.db_independent
def test_exact_weight_matters_on_an_awkward_mean():
    # Three respondents: NRR = 10/3 for every element -> IKM = 10/3 × 25 = 83.333… -> 83.33.
    rows = [{k: 3 for k in UNSUR_KEYS}, {k: 3 for k in UNSUR_KEYS}, {k: 4 for k in UNSUR_KEYS}]
    result = skm.compute_ikm(rows)
    assert result.ikm == Decimal("83.33") and result.grade.letter == "B"
    assert result.lowest == []  # all equal: nothing singled out


@pytest.mark.db_independent
def test_all_best_and_all_worst():
    assert skm.compute_ikm([ALL_FOUR]).ikm == Decimal("100.00")
    worst = skm.compute_ikm([{k: 1 for k in UNSUR_KEYS}])
    assert worst.ikm == Decimal("25.00") and worst.grade.letter == "D"


@pytest.mark.db_independent
def test_no_respondents():
    result = skm.compute_ikm([], population=40)
    assert result.ikm is None and result.grade is None and result.respondents == 0
    assert result.sample_required == 36


@pytest.mark.parametrize("value, letter", [
    ("100", "A"), ("88.31", "A"), ("88.305", "A"), ("88.30", "B"), ("88.304", "B"), ("76.61", "B"),
    ("76.60", "C"), ("76.605", "B"), ("65.00", "C"), ("64.99", "D"), ("64.995", "C"), ("25.00", "D"),
])
def test_grade_boundaries(value, letter):
    assert skm.grade(Decimal(value)).letter == letter


@pytest.mark.db_independent
def test_grade_labels_and_range():
    assert [skm.grade(v).label for v in ("90", "80", "70", "50")] == ["Sangat Baik", "Baik", "Kurang Baik",
                                                                       "Tidak Baik"]
    with pytest.raises(ValueError):
        skm.grade("24.99")
    with pytest.raises(ValueError):
        skm.grade("100.01")


@pytest.mark.parametrize("population, expected", [
    (0, 0), (1, 1), (10, 10), (50, 44), (100, 80), (250, 152), (500, 217), (1000, 278), (10000, 370),
])
def test_sample_size_matches_krejcie_morgan_table(population, expected):
    assert skm.sample_size(population) == expected


# ---------------------------------------------------------------------------------------- database


class Day:
    """A closed event with a Disdukcapil desk (KTP-REKAM, KK) and a Bapenda desk (PBB-BAYAR)."""

    def __init__(self, status=EventStatus.OPEN):
        self.event = make_event(status=status)
        self.d1 = make_desk(self.event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
        self.d2 = make_desk(self.event, 2, "BAPENDA", ["PBB-BAYAR"])
        self.staff = make_user("resepsionis")

    def visit(self, *codes, status=StepStatus.DONE, hour=9):
        at = wib_to_utc(self.event.date, time(hour, 0))
        plans = [StepPlan(service(c), status=status, called_at=at + timedelta(minutes=5),
                          finished_at=at + timedelta(minutes=12), desk=self.d1 if c != "PBB-BAYAR" else self.d2)
                 for c in codes]
        visit = record_visit(self.event, at, plans)
        db.session.commit()
        return visit


def desa_code(offset: int) -> str:
    return db.session.scalar(sa.select(Region.code).where(Region.level == 4).order_by(Region.code).offset(offset))


@pytest.fixture
def day(app):
    return Day()


def test_submit_saves_once_with_profile_and_audit(day):
    visit = day.visit("KTP-REKAM")
    desa = desa_code(0)
    response = skm.submit_survey(visit.public_token, dict(ALL_FOUR, waktu="3"), "  Cepat sekali  ", sex="P",
                                 age_band="30-39", education="sma", occupation="wirausaha", next_desa_code=desa)
    assert response.comment == "Cepat sekali" and response.waktu == 3 and response.channel == "qr"
    assert (response.sex, response.age_band, response.education, response.occupation) == ("P", "30-39", "sma",
                                                                                           "wirausaha")
    assert response.next_desa_code == desa
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "survey.submit"))
    assert entry.detail == {"visit": visit.code, "channel": "qr"}
    assert skm.ikm_for_event(day.event.id).ikm == Decimal("97.22")  # (8 × 4 + 3) / 9 × 25


@pytest.mark.parametrize("change, field, message", [
    ({"waktu": 5}, "waktu", "harus angka 1 sampai 4"),
    ({"waktu": 0}, "waktu", "harus angka 1 sampai 4"),
    ({"sarana": "empat"}, "sarana", "harus angka 1 sampai 4"),
    ({"sarana": 2.5}, "sarana", "harus angka 1 sampai 4"),
    ({"sarana": True}, "sarana", "harus angka 1 sampai 4"),
    ({"pengaduan": None}, "pengaduan", "belum dijawab"),
    ({"pengaduan": ""}, "pengaduan", "belum dijawab"),
    ({"kebersihan": 4}, "scores", "tidak dikenal"),
])
def test_bad_scores_are_refused_and_nothing_saved(day, change, field, message):
    visit = day.visit("KTP-REKAM")
    scores = dict(ALL_FOUR, **change)
    with pytest.raises(DomainError) as info:
        skm.submit_survey(visit.public_token, scores)
    assert info.value.field == field and message in info.value.message
    assert count(SurveyResponse) == 0 and count(AuditLog, AuditLog.action == "survey.submit") == 0


def test_missing_element_is_named(day):
    visit = day.visit("KTP-REKAM")
    scores = {k: v for k, v in ALL_FOUR.items() if k != "biaya"}
    with pytest.raises(DomainError) as info:
        skm.submit_survey(visit.public_token, scores)
    assert info.value.field == "biaya" and "Biaya/tarif" in info.value.message
    with pytest.raises(DomainError) as info:
        skm.submit_survey(visit.public_token, None)
    assert info.value.field == "scores"
    assert count(SurveyResponse) == 0


@pytest.mark.parametrize("kwargs, field", [
    ({"sex": "X"}, "sex"), ({"age_band": "99"}, "age_band"), ({"education": "phd"}, "education"),
    ({"occupation": "astronot"}, "occupation"), ({"next_desa_code": "32.16.01"}, "next_desa_code"),
    ({"next_desa_code": "32.75.01.1001"}, "next_desa_code"), ({"next_desa_code": "x" * 50}, "next_desa_code"),
    ({"comment": "a" * 1001}, "comment"), ({"channel": "sms"}, "channel"),
])
def test_bad_profile_is_refused(day, kwargs, field):
    visit = day.visit("KTP-REKAM")
    kwargs = dict(kwargs)  # the parametrize dict is shared by every run in this process: never change it
    comment = kwargs.pop("comment", None)
    with pytest.raises(DomainError) as info:
        skm.submit_survey(visit.public_token, ALL_FOUR, comment, **kwargs)
    assert info.value.field == field
    assert count(SurveyResponse) == 0


def test_second_survey_for_the_same_visit_is_a_conflict(day):
    visit = day.visit("KTP-REKAM")
    skm.submit_survey(visit.public_token, ALL_FOUR)
    with pytest.raises(Conflict) as info:
        skm.submit_survey(visit.public_token, {k: 1 for k in UNSUR_KEYS})
    assert info.value.status == 409 and "sudah diisi" in info.value.message
    with pytest.raises(Conflict):
        skm.submit_survey_by_code(day.event.id, visit.code, ALL_FOUR, channel="paper", entered_by_id=day.staff.id)
    assert count(SurveyResponse) == 1
    assert db.session.scalar(sa.select(SurveyResponse.persyaratan)) == 4


@pytest.mark.parametrize("token", ["", "tidak-ada", "x" * 200])
def test_unknown_token_is_not_found(day, token):
    with pytest.raises(NotFound) as info:
        skm.submit_survey(token, ALL_FOUR)
    assert info.value.status == 404 and "Tiket tidak ditemukan" in info.value.message
    assert count(SurveyResponse) == 0


def test_survey_waits_until_a_step_is_done(day):
    waiting = day.visit("KTP-REKAM", status=StepStatus.WAITING)
    with pytest.raises(DomainError) as info:
        skm.submit_survey(waiting.public_token, ALL_FOUR)
    assert "setelah Anda selesai dilayani" in info.value.message
    assert skm.can_answer(waiting) is not None
    assert count(SurveyResponse) == 0


def test_kiosk_and_paper_need_staff_and_a_known_code(day):
    visit = day.visit("KTP-REKAM")
    with pytest.raises(DomainError) as info:
        skm.submit_survey(visit.public_token, ALL_FOUR, channel="kiosk")
    assert info.value.status == 403
    with pytest.raises(DomainError) as info:
        skm.submit_survey_by_code(day.event.id, "Z-999", ALL_FOUR, channel="paper", entered_by_id=day.staff.id)
    assert info.value.field == "code" and info.value.status == 404
    with pytest.raises(NotFound):
        skm.submit_survey_by_code(99999, visit.code, ALL_FOUR, channel="paper", entered_by_id=day.staff.id)
    assert count(SurveyResponse) == 0
    # The printed code is forgiving about case, spaces and leading zeros.
    saved = skm.submit_survey_by_code(day.event.id, " " + visit.code.lower().replace("-00", " "), ALL_FOUR,
                                      channel="paper", entered_by_id=day.staff.id)
    assert saved.visit_id == visit.id and saved.entered_by_id == day.staff.id


def test_per_agency_and_service_attribution(day):
    both = day.visit("KTP-REKAM", "PBB-BAYAR")
    capil_only = day.visit("KK")
    day.visit("PBB-BAYAR")  # served, no survey: counts in the population only
    skm.submit_survey(both.public_token, ALL_FOUR)
    skm.submit_survey(capil_only.public_token, {k: 2 for k in UNSUR_KEYS})
    agencies, services = skm.ikm_by_group(day.event.id)
    by_agency = {g.name: g.result for g in agencies}
    assert by_agency["Disdukcapil"].respondents == 2 and by_agency["Disdukcapil"].ikm == Decimal("75.00")
    assert by_agency["Bapenda"].respondents == 1 and by_agency["Bapenda"].ikm == Decimal("100.00")
    assert by_agency["Bapenda"].population == 2
    by_service = {g.name: g.result for g in services}
    assert by_service[service("KTP-REKAM").name].ikm == Decimal("100.00")
    assert by_service[service("KK").name].ikm == Decimal("50.00")
    event_result = skm.ikm_for_event(day.event.id)
    assert event_result.respondents == 2 and event_result.population == 3


def test_next_location_tally(day):
    a, b, c = day.visit("KK"), day.visit("KK"), day.visit("KK")
    first, second = desa_code(0), desa_code(30)
    skm.submit_survey(a.public_token, ALL_FOUR, next_desa_code=first)
    skm.submit_survey(b.public_token, ALL_FOUR, next_desa_code=first)
    skm.submit_survey(c.public_token, ALL_FOUR, next_desa_code=second)
    tally = skm.next_location_tally(day.event.id)
    assert [(t.code, t.requests) for t in tally] == [(first, 2), (second, 1)]
    assert skm.next_location_tally() == tally


# ---------------------------------------------------------------------------------------- figures by hand
# The reads below are summed by the database (score_totals); these tests pin their figures to values worked
# out by hand, so a change of query cannot change a report.

def test_group_ikm_counts_a_visit_once_per_agency(day):
    two_capil = day.visit("KTP-REKAM", "KK")       # all 4s; Disdukcapil twice, counted once there
    capil_bapenda = day.visit("KK", "PBB-BAYAR")   # all 2s
    day.visit("PBB-BAYAR")                          # served, no survey: population only
    day.visit("KTP-REKAM", status=StepStatus.NO_SHOW)  # not served: neither
    skm.submit_survey(two_capil.public_token, ALL_FOUR)
    skm.submit_survey(capil_bapenda.public_token, {k: 2 for k in UNSUR_KEYS})
    agencies, services = skm.ikm_by_group(day.event.id)
    # Disdukcapil: visits 1 and 2 served, both answered: NRR (4 + 2) / 2 = 3 -> 75.00 (counting visit 1
    # once per service would give (4 + 4 + 2) / 3 -> 83.33). Bapenda: visits 2 and 3 served, one answer of 2s.
    assert [(g.name, g.result.respondents, g.result.population, g.result.ikm) for g in agencies] == [
        ("Bapenda", 1, 2, Decimal("50.00")), ("Disdukcapil", 2, 2, Decimal("75.00"))]
    by_service = {g.name: (g.result.respondents, g.result.population, g.result.ikm) for g in services}
    assert by_service == {service("KTP-REKAM").name: (1, 1, Decimal("100.00")),
                          service("KK").name: (2, 2, Decimal("75.00")),
                          service("PBB-BAYAR").name: (1, 2, Decimal("50.00"))}
    assert [g.agency_name for g in services] == ["Bapenda", "Disdukcapil", "Disdukcapil"]
    event = skm.ikm_for_event(day.event.id)
    assert (event.respondents, event.population, event.ikm) == (2, 4, Decimal("75.00"))
    assert {e.key: e.nrr for e in event.elements} == {k: Decimal("3.000") for k in UNSUR_KEYS}


def test_profile_tally(day):
    a, b, c = day.visit("KK"), day.visit("KK"), day.visit("KK")
    skm.submit_survey(a.public_token, ALL_FOUR, sex="P", age_band="30-39", education="sma", occupation="irt")
    skm.submit_survey(b.public_token, ALL_FOUR, sex="P", age_band="60+")
    skm.submit_survey(c.public_token, ALL_FOUR, sex="L", age_band="30-39", education="s1", occupation="irt")
    tally = {name: {str(label): n for label, n in rows if n} for name, rows in skm.profile_tally(day.event.id).items()}
    assert tally == {"sex": {"Perempuan": 2, "Laki-laki": 1},
                     "age_band": {"30–39 tahun": 2, "60 tahun ke atas": 1},
                     "education": {"SMA/SMK": 1, "S1": 1, "Tidak diisi": 1},
                     "occupation": {"Ibu rumah tangga": 2, "Tidak diisi": 1}}
    assert all(len(rows) == len(skm.PROFILE_CHOICES[name]) + 1 for name, rows in skm.profile_tally(day.event.id).items())
