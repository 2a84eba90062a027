"""SKM / IKM: the public-service satisfaction survey of Permenpan RB No. 14/2017.

- Nine elements (unsur), each scored 1..4 by the respondent (`UNSUR_KEYS`, in the regulation's order).
- NRR per element = the mean score of the respondents. IKM = (Σ NRR × 1/9) × 25, so 25..100.
  The weight is exactly 1/9 (computed with fractions, not the 0.111 some spreadsheets use), and the IKM is
  rounded half-up to two decimals *before* it is graded, so 88.305 → 88.31 → A.
- Grades (mutu pelayanan): A Sangat Baik 88.31–100, B Baik 76.61–88.30, C Kurang Baik 65.00–76.60,
  D Tidak Baik 25.00–64.99. Per element the same intervals apply to NRR × 25 (the regulation's
  "nilai interval konversi").
- Sample size: the regulation refers to the Krejcie–Morgan table; we compute it with the formula the table
  comes from, n = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)) with X² = 3.841, P = 0.5, d = 0.05, rounded
  to the nearest whole respondent as the published table is (N=50 → 44, 100 → 80, 1000 → 278),
  where N (population) is the number of visits (tickets) of the event — or, per agency/service, the visits
  served there.
- Attribution: a response belongs to one visit. For the per-agency and per-service IKM it counts for every
  service (and agency) of that visit's *done* steps, once per agency even if the visit had two services there.

Submitting: `submit_survey` (by the ticket's public token: the QR on the ticket) and `submit_survey_by_code`
(kiosk and paper entry: the ticket code within an event) validate everything first, save one row, write an
audit entry (no personal data; the comment is not copied) and commit. A broken rule raises DomainError
(422, with `field`), NotFound (404, unknown ticket) or Conflict (409, already answered) and saves nothing.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Mapping

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Agency, Event, EventStatus, Region, Service, Step, StepStatus, SurveyChannel, SurveyResponse, UNSUR_KEYS,
    Visit,
)
from . import Conflict, DomainError, NotFound, audit
from .ids import is_digits
from .privacy import redact
from .reference import BEKASI_REGENCY
from .uow import unit_of_work

WEIGHT = Fraction(1, 9)
COMMENT_MAX = 1000
TWO_PLACES = Decimal("0.01")

# key -> (short label, question in plain Indonesian, the four answers from 1 to 4); lazy strings, shown in the
# language of the request that renders them
UNSUR: dict[str, tuple[str, str, tuple[str, str, str, str]]] = {
    "persyaratan": (_l("Persyaratan"), _l("Apakah persyaratan yang diminta sesuai dengan jenis layanannya?"),
                    (_l("Tidak sesuai"), _l("Kurang sesuai"), _l("Sesuai"), _l("Sangat sesuai"))),
    "prosedur": (_l("Prosedur"), _l("Seberapa mudah alur (prosedur) pelayanan di sini?"),
                 (_l("Tidak mudah"), _l("Kurang mudah"), _l("Mudah"), _l("Sangat mudah"))),
    "waktu": (_l("Waktu pelayanan"), _l("Seberapa cepat Anda dilayani?"),
              (_l("Tidak cepat"), _l("Kurang cepat"), _l("Cepat"), _l("Sangat cepat"))),
    "biaya": (_l("Biaya/tarif"), _l("Bagaimana biaya atau tarif layanan ini?"),
              (_l("Sangat mahal"), _l("Cukup mahal"), _l("Murah"), _l("Gratis"))),
    "produk": (_l("Produk layanan"), _l("Apakah hasil layanan sesuai dengan yang dijanjikan?"),
               (_l("Tidak sesuai"), _l("Kurang sesuai"), _l("Sesuai"), _l("Sangat sesuai"))),
    "kompetensi": (_l("Kompetensi petugas"), _l("Bagaimana kemampuan petugas dalam melayani?"),
                   (_l("Tidak kompeten"), _l("Kurang kompeten"), _l("Kompeten"), _l("Sangat kompeten"))),
    "perilaku": (_l("Perilaku petugas"), _l("Apakah petugas sopan dan ramah?"),
                 (_l("Tidak sopan dan ramah"), _l("Kurang sopan dan ramah"), _l("Sopan dan ramah"),
                  _l("Sangat sopan dan ramah"))),
    "sarana": (_l("Sarana dan prasarana"), _l("Bagaimana kualitas tempat dan perlengkapan layanan?"),
               (_l("Buruk"), _l("Cukup"), _l("Baik"), _l("Sangat baik"))),
    "pengaduan": (_l("Penanganan pengaduan"), _l("Bagaimana penanganan pengaduan atau keluhan di sini?"),
                  (_l("Tidak ada"), _l("Ada tetapi tidak berfungsi"), _l("Berfungsi kurang maksimal"),
                   _l("Dikelola dengan baik"))),
}
assert tuple(UNSUR) == UNSUR_KEYS

SEXES = {"L": _l("Laki-laki"), "P": _l("Perempuan")}
AGE_BANDS = {"<20": _l("Di bawah 20 tahun"), "20-29": _l("20–29 tahun"), "30-39": _l("30–39 tahun"),
             "40-49": _l("40–49 tahun"), "50-59": _l("50–59 tahun"), "60+": _l("60 tahun ke atas")}
EDUCATIONS = {"sd": _l("SD atau di bawahnya"), "smp": _l("SMP"), "sma": _l("SMA/SMK"), "diploma": _l("D1–D4"),
              "s1": _l("S1"), "s2": _l("S2 ke atas")}
OCCUPATIONS = {"pns": _l("PNS/ASN"), "tni-polri": _l("TNI/Polri"), "swasta": _l("Pegawai swasta"),
               "wirausaha": _l("Wirausaha"), "pelajar": _l("Pelajar/mahasiswa"), "irt": _l("Ibu rumah tangga"),
               "lainnya": _l("Lainnya")}
PROFILE_CHOICES = {"sex": SEXES, "age_band": AGE_BANDS, "education": EDUCATIONS, "occupation": OCCUPATIONS}


# ---------------------------------------------------------------------------------------------- grades

@dataclass(frozen=True)
class Grade:
    letter: str
    label: str  # kinerja unit pelayanan


GRADES = (  # lowest IKM (two decimals) for the grade, best first
    (Decimal("88.31"), Grade("A", _l("Sangat Baik"))),
    (Decimal("76.61"), Grade("B", _l("Baik"))),
    (Decimal("65.00"), Grade("C", _l("Kurang Baik"))),
    (Decimal("25.00"), Grade("D", _l("Tidak Baik"))),
)


def round2(value: Fraction | Decimal | float | int) -> Decimal:
    """Half-up to two decimals, exactly (a Fraction is divided out in Decimal with ample precision)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    elif isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def grade(ikm: Decimal | float | int | str) -> Grade:
    """The grade of an IKM value; the value is first rounded to two decimals (88.305 → 88.31 → A)."""
    value = round2(Decimal(str(ikm)) if not isinstance(ikm, Decimal) else ikm)
    if value < Decimal("25.00") or value > Decimal("100.00"):
        raise ValueError(f"IKM {value} outside 25..100")
    for lowest, result in GRADES:
        if value >= lowest:
            return result
    raise AssertionError("unreachable")  # pragma: no cover


def sample_size(population: int, *, chi2: float = 3.841, p: float = 0.5, d: float = 0.05) -> int:
    """Krejcie–Morgan: n = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)), to the nearest whole (as the table); 0 for N=0."""
    if population <= 0:
        return 0
    n = chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))
    return min(population, int(Decimal(repr(n)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


# ---------------------------------------------------------------------------------------------- IKM

@dataclass
class ElementScore:
    key: str
    label: str
    nrr: Decimal          # mean score, 1..4, three decimals for display
    converted: Decimal    # NRR × 25, two decimals
    grade: Grade
    weak: bool = False    # below "Baik" (grade C or D): what the OPD must fix
    lowest: bool = False  # among the lowest-scoring elements


@dataclass
class IkmResult:
    respondents: int
    ikm: Decimal | None            # two decimals; None without respondents
    grade: Grade | None
    elements: list[ElementScore] = field(default_factory=list)
    population: int = 0
    sample_required: int = 0

    @property
    def sample_met(self) -> bool:
        return self.respondents >= self.sample_required

    @property
    def lowest(self) -> list[ElementScore]:
        return [e for e in self.elements if e.lowest]

    @property
    def weak(self) -> list[ElementScore]:
        return [e for e in self.elements if e.weak]

    def as_dict(self) -> dict:
        return {
            "respondents": self.respondents,
            "ikm": float(self.ikm) if self.ikm is not None else None,
            "grade": self.grade.letter if self.grade else None,
            "grade_label": str(self.grade.label) if self.grade else None,
            "population": self.population,
            "sample_required": self.sample_required,
            "nrr": {e.key: float(e.nrr) for e in self.elements},
            "lowest": [e.key for e in self.lowest],
        }


def compute_ikm(rows: Iterable[Mapping[str, int]], *, population: int = 0, lowest_count: int = 3) -> IkmResult:
    """IKM of a set of responses (each a mapping of the nine keys to 1..4). Exact 1/9 weights.

    The `lowest_count` elements with the lowest NRR are marked `lowest` (ties by the regulation's order);
    elements whose NRR × 25 grades C or D are marked `weak`."""
    totals = Counter()
    n = 0
    for row in rows:
        n += 1
        for key in UNSUR_KEYS:
            totals[key] += int(row[key])
    return ikm_from_totals(n, totals, population=population, lowest_count=lowest_count)


def ikm_from_totals(n: int, totals: Mapping[str, int], *, population: int = 0, lowest_count: int = 3) -> IkmResult:
    """The IKM of `n` responses whose scores add up to `totals` per element: what `compute_ikm` computes, for
    totals the database has summed (the regency's 60,000 answers are not loaded one by one).

    A pure function of its numbers, remembered for the last few thousand: the regency view over five years
    grades ~1,000 closed events whose totals never change, and exact fractions cost ~1 ms an event."""
    return _ikm_from_totals(n, tuple(int(totals.get(key, 0)) for key in UNSUR_KEYS), population, lowest_count)


@functools.lru_cache(maxsize=4096)
def _ikm_from_totals(n: int, sums: tuple[int, ...], population: int, lowest_count: int) -> IkmResult:
    totals = dict(zip(UNSUR_KEYS, sums))
    sample = sample_size(population)
    if n == 0:
        return IkmResult(respondents=0, ikm=None, grade=None, elements=[], population=population,
                         sample_required=sample)
    nrr = {key: Fraction(totals[key], n) for key in UNSUR_KEYS}
    ikm = round2(sum(value * WEIGHT for value in nrr.values()) * 25)
    elements = []
    for key in UNSUR_KEYS:
        converted = round2(nrr[key] * 25)
        element_grade = grade(converted)
        elements.append(ElementScore(
            key=key, label=UNSUR[key][0],
            nrr=(Decimal(nrr[key].numerator) / Decimal(nrr[key].denominator)).quantize(
                Decimal("0.001"), rounding=ROUND_HALF_UP),
            converted=converted, grade=element_grade, weak=element_grade.letter in ("C", "D")))
    if lowest_count:
        best = max(nrr.values())
        # The `lowest_count` lowest NRR (ties broken by the regulation's order), never an element that is
        # as good as the best one.
        ranked = sorted(elements, key=lambda e: (nrr[e.key], UNSUR_KEYS.index(e.key)))
        for element in ranked[:lowest_count]:
            element.lowest = nrr[element.key] < best
    return IkmResult(respondents=n, ikm=ikm, grade=grade(ikm), elements=elements, population=population,
                     sample_required=sample)


# ---------------------------------------------------------------------------------------------- reads

SCORE_SUMS = tuple(sa.func.coalesce(sa.func.sum(getattr(SurveyResponse, key)), 0) for key in UNSUR_KEYS)


def score_totals(*group: sa.ColumnElement, where: Iterable = (), join: tuple | None = None) -> dict:
    """Respondents and score totals summed by the database, per group: {group value: (n, {key: total})}
    (the value of the one group column; None without one). Groups without a response are left out."""
    query = sa.select(*group, sa.func.count(SurveyResponse.id), *SCORE_SUMS).select_from(SurveyResponse)
    if join is not None:
        query = query.join(*join)
    query = query.where(*where)
    if group:
        query = query.group_by(*group)
    result = {}
    for row in db.session.execute(query):
        key = row[0] if group else None
        n = row[len(group)]
        if n:
            result[key] = (n, dict(zip(UNSUR_KEYS, (int(v) for v in row[len(group) + 1:]))))
    return result


def _ikm(totals: dict, key, population: int) -> IkmResult:
    n, sums = totals.get(key, (0, {}))
    return ikm_from_totals(n, sums, population=population)


def event_visit_count(event_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.event_id == event_id)) or 0


def ikm_for_event(event_id: int) -> IkmResult:
    """The event's IKM over every response, against the sample its visits require."""
    return _ikm(score_totals(where=[SurveyResponse.event_id == event_id]), None, event_visit_count(event_id))


@dataclass
class GroupIkm:
    id: int
    name: str
    color: str | None
    agency_name: str | None
    result: IkmResult


def ikm_by_group(event_id: int) -> tuple[list[GroupIkm], list[GroupIkm]]:
    """(per agency, per service) IKM of the event. A response counts for every service/agency of its visit's
    done steps; the population of a group is the number of visits served there."""
    return groups_from_totals(*group_totals(event_id))


def group_totals(event_id: int) -> list[tuple[dict, dict]]:
    """[(population per agency, score totals per agency), (the same per service)]: what `ikm_by_group` computes
    its rows from (a summary row keeps these, not the rows)."""
    done = (Step.event_id == event_id, Step.status == StepStatus.DONE)
    by_service = sa.select(Step.visit_id, Step.service_id.label("group_id")).where(*done).distinct().subquery()
    by_agency = (sa.select(Step.visit_id, Service.agency_id.label("group_id"))
                 .join(Service, Service.id == Step.service_id).where(*done).distinct().subquery())
    groups = []
    for served in (by_agency, by_service):
        population = dict(db.session.execute(
            sa.select(served.c.group_id, sa.func.count()).group_by(served.c.group_id)).all())
        totals = score_totals(served.c.group_id, join=(served, served.c.visit_id == SurveyResponse.visit_id),
                              where=[SurveyResponse.event_id == event_id])
        groups.append((population, totals))
    return groups


def groups_from_totals(agency_groups: tuple[dict, dict], service_groups: tuple[dict, dict]
                       ) -> tuple[list[GroupIkm], list[GroupIkm]]:
    """The (per agency, per service) IKM rows from populations and score totals, with today's names."""
    (pop_agency, agency_totals), (pop_service, service_totals) = agency_groups, service_groups
    services = {s.id: s for s in db.session.scalars(
        sa.select(Service).where(Service.id.in_(set(pop_service))).options(joinedload(Service.agency)))}
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency))}
    agency_rows = [GroupIkm(aid, agencies[aid].short_name, agencies[aid].color, None,
                            _ikm(agency_totals, aid, pop_agency[aid]))
                   for aid in sorted(pop_agency, key=lambda a: agencies[a].short_name)]
    service_rows = [GroupIkm(sid, services[sid].name, services[sid].agency.color, services[sid].agency.short_name,
                             _ikm(service_totals, sid, pop_service[sid]))
                    for sid in sorted(pop_service, key=lambda s: (services[s].agency.short_name, services[s].name))]
    return agency_rows, service_rows


def profile_counts(event_id: int) -> dict[str, Counter]:
    """Respondents per profile answer code (None: not answered), per profile question."""
    columns = [getattr(SurveyResponse, name) for name in PROFILE_CHOICES]
    counts = {name: Counter() for name in PROFILE_CHOICES}
    for *answers, n in db.session.execute(sa.select(*columns, sa.func.count()).where(
            SurveyResponse.event_id == event_id).group_by(*columns)):
        for name, answer in zip(PROFILE_CHOICES, answers):
            counts[name][answer] += n
    return counts


def profile_tally(event_id: int) -> dict[str, list[tuple[str, int]]]:
    """Counts per profile answer (as the regulation's report tabulates respondents); the labels are lazy strings."""
    return profile_rows(profile_counts(event_id))


def profile_rows(counts: Mapping[str, Mapping]) -> dict[str, list[tuple[str, int]]]:
    """`profile_counts` as the report's rows: every choice with its label, then "Tidak diisi"."""
    result = {}
    for name, choices in PROFILE_CHOICES.items():
        rows = [(label, counts[name].get(code, 0)) for code, label in choices.items()]
        rows.append((_l("Tidak diisi"), counts[name].get(None, 0)))
        result[name] = rows
    return result


@dataclass
class NextLocation:
    code: str
    desa: str
    kecamatan: str
    requests: int


def next_location_tally(event_id: int | None = None, limit: int | None = None, *,
                        year: int | None = None, event_ids: Iterable[int] | None = None) -> list[NextLocation]:
    """Where citizens asked BOTRAM to go next, most requested first (one event, some events, the events dated
    in one year, or every event)."""
    query = (sa.select(SurveyResponse.next_desa_code, sa.func.count())
             .where(SurveyResponse.next_desa_code.is_not(None)).group_by(SurveyResponse.next_desa_code))
    if event_id is not None:
        query = query.where(SurveyResponse.event_id == event_id)
    if event_ids is not None:
        query = query.where(SurveyResponse.event_id.in_(list(event_ids)))
    if year is not None:
        query = query.join(Event, Event.id == SurveyResponse.event_id).where(
            Event.date >= date(year, 1, 1), Event.date <= date(year, 12, 31))
    counts = dict(db.session.execute(query).all())
    if not counts:
        return []
    regions = {r.code: r for r in db.session.scalars(sa.select(Region).where(Region.code.in_(counts)))}
    parents = {r.code: r for r in db.session.scalars(
        sa.select(Region).where(Region.code.in_({r.parent_code for r in regions.values()})))}
    rows = [NextLocation(code, regions[code].label, parents[regions[code].parent_code].name, n)
            for code, n in counts.items()]
    return ranked(rows, limit)


def ranked(rows: list[NextLocation], limit: int | None = None) -> list[NextLocation]:
    """Most requested first (then by kecamatan and desa name)."""
    rows.sort(key=lambda r: (-r.requests, r.kecamatan, r.desa))
    return rows[:limit] if limit else rows


@dataclass(frozen=True)
class Comment:
    """A survey comment as it may be shown: personal numbers and e-mail addresses masked."""

    comment: str
    created_at: object


def comments(event_id: int, limit: int = 50) -> list[Comment]:
    """The latest comments of an event, newest first, through the PII guard (`privacy.redact`): a NIK or a
    phone number a respondent typed is kept until the purge but never shown."""
    rows = db.session.execute(
        sa.select(SurveyResponse.comment, SurveyResponse.created_at)
        .where(SurveyResponse.event_id == event_id, SurveyResponse.comment.is_not(None))
        .order_by(SurveyResponse.created_at.desc()).limit(limit))
    return [Comment(redact(text), created_at) for text, created_at in rows]


# ---------------------------------------------------------------------------------------------- writes

def _score(key: str, value) -> int:
    label = UNSUR[key][0]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DomainError(_l("Pertanyaan \u201c%(label)s\u201d belum dijawab.", label=label), field=key)
    wrong = DomainError(_l("Jawaban \u201c%(label)s\u201d harus angka 1 sampai 4.", label=label), field=key)
    if isinstance(value, bool):
        raise wrong
    if isinstance(value, str):
        value = value.strip()
        if not is_digits(value) or len(value) > 2:
            raise wrong
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= 4:
        raise wrong
    return value


def validate_scores(scores: Mapping | None) -> dict[str, int]:
    """All nine elements, each an integer 1..4; anything else names the element that is wrong."""
    if not isinstance(scores, Mapping):
        raise DomainError(_l("Jawaban survei tidak lengkap: isi kesembilan pertanyaan."), field="scores")
    unknown = sorted(str(k) for k in scores if k not in UNSUR)
    if unknown:
        raise DomainError(_l("Unsur survei tidak dikenal: %(keys)s.", keys=", ".join(unknown)[:100]), field="scores")
    return {key: _score(key, scores.get(key)) for key in UNSUR_KEYS}


def score_problems(scores: Mapping) -> dict[str, str]:
    """Every unanswered or invalid element at once (a form shows them all), key -> Indonesian message."""
    problems = {}
    for key in UNSUR_KEYS:
        try:
            _score(key, scores.get(key))
        except DomainError as exc:
            problems[key] = exc.message
    return problems


def _choice(value: str | None, name: str, message: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or value.strip() not in PROFILE_CHOICES[name]:
        raise DomainError(message, field=name)
    return value.strip()


def _next_desa(code: str | None) -> str | None:
    if code is None or (isinstance(code, str) and not code.strip()):
        return None
    if not isinstance(code, str) or len(code.strip()) > 13:
        raise DomainError(_l("Desa/kelurahan tidak dikenal."), field="next_desa_code")
    region = db.session.get(Region, code.strip())
    if region is None or region.level != 4 or not region.code.startswith(BEKASI_REGENCY + "."):
        raise DomainError(_l("Pilih desa/kelurahan di Kabupaten Bekasi."), field="next_desa_code")
    return region.code


def _clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise DomainError(_l("Komentar harus berupa teks."), field="comment")
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise DomainError(_l("Komentar paling banyak %(n)d karakter.", n=COMMENT_MAX), field="comment")
    return text or None


def _check_visit(visit: Visit) -> None:
    event = db.session.get(Event, visit.event_id)
    if event.status == EventStatus.DRAFT:
        raise DomainError(_l("Survei belum dibuka untuk kegiatan ini."), status=409)
    served = db.session.scalar(sa.select(Step.id).where(
        Step.visit_id == visit.id, Step.status == StepStatus.DONE).limit(1))
    if served is None:
        raise DomainError(_l("Survei dapat diisi setelah Anda selesai dilayani di paling sedikit satu loket."),
                          status=409)
    if db.session.scalar(sa.select(SurveyResponse.id).where(SurveyResponse.visit_id == visit.id)) is not None:
        raise Conflict(_l("Survei untuk tiket ini sudah diisi. Terima kasih!"))


def can_answer(visit: Visit) -> str | None:
    """None when this visit may answer the survey now, else the Indonesian reason it may not."""
    try:
        _check_visit(visit)
    except DomainError as exc:
        return exc.message
    return None


@unit_of_work
def _save(visit: Visit, scores, comment, sex, age_band, education, occupation, next_desa_code, channel,
          entered_by_id) -> SurveyResponse:
    if channel not in {c.value for c in SurveyChannel}:
        raise DomainError(_l("Saluran survei tidak dikenal."), field="channel")
    if channel in (SurveyChannel.PAPER, SurveyChannel.KIOSK) and entered_by_id is None:
        raise DomainError(_l("Survei kios dan kertas dicatat oleh petugas yang masuk."), field="channel", status=403)
    clean = validate_scores(scores)
    values = dict(
        sex=_choice(sex, "sex", _l("Jenis kelamin tidak dikenal.")),
        age_band=_choice(age_band, "age_band", _l("Kelompok usia tidak dikenal.")),
        education=_choice(education, "education", _l("Pendidikan tidak dikenal.")),
        occupation=_choice(occupation, "occupation", _l("Pekerjaan tidak dikenal.")),
        comment=_clean_comment(comment), next_desa_code=_next_desa(next_desa_code))
    _check_visit(visit)
    response = SurveyResponse(visit_id=visit.id, event_id=visit.event_id, channel=channel,
                              entered_by_id=entered_by_id, **clean, **values)
    db.session.add(response)
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(_l("Survei untuk tiket ini sudah diisi. Terima kasih!")) from None
    audit.record("survey.submit", "survey_response", response.id, user_id=entered_by_id, event_id=visit.event_id,
                 visit=visit.code, channel=channel)
    from . import summaries  # summaries reads through this module: imported here, when first needed

    summaries.refresh(visit.event_id)  # paper forms are typed in days after a closed event
    return response


def visit_for_token(token: str | None) -> Visit | None:
    if not token or not isinstance(token, str) or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Visit).where(Visit.public_token == token))


def visit_for_code(event_id: int, code: str | None) -> Visit | None:
    """A ticket by its printed code within an event; accepts `a047`, `A 047`, `A-47`."""
    text = "".join((code or "").upper().split()).replace("-", "")
    if len(text) < 2 or len(text) > 8 or not text[0].isalpha() or not is_digits(text[1:]):
        return None
    normalised = f"{text[0]}-{int(text[1:]):03d}"
    return db.session.scalar(sa.select(Visit).where(Visit.event_id == event_id, Visit.code == normalised))


def submit_survey(token: str, scores: Mapping, comment: str | None = None, *, sex: str | None = None,
                  age_band: str | None = None, education: str | None = None, occupation: str | None = None,
                  next_desa_code: str | None = None, channel: str = SurveyChannel.QR,
                  entered_by_id: int | None = None) -> SurveyResponse:
    """The citizen's answers for the visit with this public token (the QR on the ticket). Once per visit."""
    visit = visit_for_token(token)
    if visit is None:
        raise NotFound(_l("Tiket tidak ditemukan. Pindai lagi kode QR pada tiket Anda."))
    return _save(visit, scores, comment, sex, age_band, education, occupation, next_desa_code, channel,
                 entered_by_id)


def submit_survey_by_code(event_id: int, code: str, scores: Mapping, comment: str | None = None, *,
                          channel: str, entered_by_id: int, sex: str | None = None, age_band: str | None = None,
                          education: str | None = None, occupation: str | None = None,
                          next_desa_code: str | None = None) -> SurveyResponse:
    """Kiosk and paper entry: the ticket is named by its printed code within the event."""
    if db.session.get(Event, event_id) is None:
        raise NotFound(_l("Kegiatan tidak ditemukan."))
    visit = visit_for_code(event_id, code)
    if visit is None:
        raise DomainError(_l("Nomor tiket tidak ditemukan di kegiatan ini."), field="code", status=404)
    return _save(visit, scores, comment, sex, age_band, education, occupation, next_desa_code, channel,
                 entered_by_id)
