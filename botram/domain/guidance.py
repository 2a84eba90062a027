"""The guidance sheet (*surat panduan*) a desk prints for a citizen: what is missing, where to get it, the
deadline, and, after a death in the family, every follow-up step across agencies.

Pure reading: builds plain data from a step; the desk blueprint renders it on an A4 page.

Rules (tested in tests/test_guidance.py):
- Missing = the service's requirements not among the ids presented. Required ones are listed as
  missing; optional ones ("bila ...") as "bila berlaku". The ids come from the finished step
  (`Step.requirements_presented`) or, before finishing, from the officer's ticked boxes.
- The deadline or note is the service's own `Service.guidance` text (data, not code).
- The death package: a visit counts as a death case when it asked for the lead (first) service of the
  life-event package with code `KEMATIAN` (the death certificate). Then the sheet lists every service of
  the package with its agency, its requirements and where this visit stands with it today, followed by
  the usual follow-ups outside the regency's agencies (BPJS and pension claims).
- Never more personal data than the ticket code, the name when given, and the NIK masked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import sqlalchemy as sa

from ..extensions import db
from ..models import Desk, LifeEventPackage, Service, Step, StepStatus, desk_service
from .clock import to_wib
from .nik import mask_nik

DEATH_PACKAGE_CODE = "KEMATIAN"


@dataclass(frozen=True)
class RequirementLine:
    id: int
    text: str
    where_to_get: str
    optional: bool
    presented: bool


@dataclass(frozen=True)
class PackageStep:
    """One service of the life-event package and where this visit stands with it."""

    service_code: str
    service_name: str
    agency_name: str
    guidance: str
    requirements: list[RequirementLine]
    state: str  # this, done, incomplete, in_queue, not_served, offered_here, elsewhere
    state_text: str


@dataclass(frozen=True)
class OtherFollowUp:
    """A follow-up outside the BOTRAM agencies (BPJS, pension), described in plain words."""

    title: str
    when: str
    where: str
    bring: tuple[str, ...]


# The usual follow-ups after a death that no BOTRAM desk handles (Perpres 96/2018, Permendagri 108/2019; docs/architecture.md).
DEATH_OTHER_FOLLOW_UPS: tuple[OtherFollowUp, ...] = (
    OtherFollowUp(
        title="Klaim Jaminan Kematian (JKM) dan Jaminan Hari Tua (JHT) BPJS Ketenagakerjaan",
        when="Bila almarhum/almarhumah peserta BPJS Ketenagakerjaan.",
        where="Kantor cabang BPJS Ketenagakerjaan terdekat, atau aplikasi JMO.",
        bring=("Akta kematian", "Kartu peserta BPJS Ketenagakerjaan", "Kartu Keluarga (KK) terbaru",
               "KTP-el ahli waris", "Surat keterangan ahli waris dari desa/kelurahan", "Buku rekening ahli waris"),
    ),
    OtherFollowUp(
        title="Pelaporan kematian peserta BPJS Kesehatan",
        when="Agar kepesertaan almarhum/almarhumah dinonaktifkan dan data keluarga diperbarui.",
        where="Kantor BPJS Kesehatan, atau aplikasi Mobile JKN.",
        bring=("Akta kematian", "Kartu Keluarga (KK) terbaru", "Kartu BPJS Kesehatan/KIS almarhum/almarhumah"),
    ),
    OtherFollowUp(
        title="Klaim pensiun janda/duda dan tunjangan kematian",
        when="Bila almarhum/almarhumah ASN atau pensiunan ASN, TNI, atau Polri.",
        where="Kantor TASPEN (ASN) atau ASABRI (TNI/Polri), melalui instansi tempat bekerja bila masih aktif.",
        bring=("Akta kematian", "Buku nikah atau akta perkawinan", "Kartu Keluarga (KK) terbaru",
               "SK pensiun atau SK terakhir", "KTP-el janda/duda atau ahli waris"),
    ),
)


@dataclass(frozen=True)
class GuidanceSheet:
    step_id: int
    visit_code: str
    visitor_name: str | None
    nik_masked: str
    event_title: str
    event_venue: str
    event_date: date
    kecamatan_name: str
    service_code: str
    service_name: str
    agency_name: str
    desk_label: str | None
    outcome: str | None
    deadline: str
    requirements: list[RequirementLine]
    package_name: str | None = None
    package_steps: list[PackageStep] = field(default_factory=list)
    other_follow_ups: tuple[OtherFollowUp, ...] = ()

    @property
    def missing(self) -> list[RequirementLine]:
        return [r for r in self.requirements if not r.presented and not r.optional]

    @property
    def optional_missing(self) -> list[RequirementLine]:
        return [r for r in self.requirements if not r.presented and r.optional]

    @property
    def presented(self) -> list[RequirementLine]:
        return [r for r in self.requirements if r.presented]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def is_death_package(self) -> bool:
        return self.package_name is not None


def _lines(service: Service, presented: set[int]) -> list[RequirementLine]:
    return [RequirementLine(id=r.id, text=r.text, where_to_get=r.where_to_get, optional=r.optional,
                            presented=r.id in presented) for r in service.requirements]


def death_package_for(step: Step) -> LifeEventPackage | None:
    """The KEMATIAN package when the visit asked for its lead service (the death certificate)."""
    package = db.session.scalar(sa.select(LifeEventPackage).where(
        LifeEventPackage.code == DEATH_PACKAGE_CODE, LifeEventPackage.active.is_(True)))
    if package is None or not package.items:
        return None
    lead = package.items[0].service_id
    if any(s.service_id == lead for s in step.visit.steps):
        return package
    return None


def services_offered_at(event_id: int) -> set[int]:
    """Ids of the services some desk of the event offers."""
    return set(db.session.scalars(
        sa.select(desk_service.c.service_id).join(Desk, Desk.id == desk_service.c.desk_id)
        .where(Desk.event_id == event_id)))


def _package_state(service: Service, step: Step, offered: set[int]) -> tuple[str, str]:
    """Where the visit stands with one package service, in plain words."""
    if service.id == step.service_id:
        return "this", "Dilayani di loket ini hari ini (lihat bagian atas surat ini)."
    mine = [s for s in step.visit.steps if s.service_id == service.id]
    latest = mine[-1] if mine else None
    agency = service.agency.short_name
    if latest is not None:
        if latest.status == StepStatus.DONE and latest.outcome in (None, "done"):
            return "done", "Sudah selesai hari ini."
        if latest.status == StepStatus.DONE and latest.outcome == "incomplete":
            return "incomplete", "Sudah dilayani hari ini, tetapi persyaratan belum lengkap."
        if latest.status == StepStatus.DONE and latest.outcome == "referred":
            return "incomplete", "Sudah dilayani hari ini dan dirujuk; ikuti arahan petugas."
        if latest.status in (StepStatus.WAITING, StepStatus.CALLED, StepStatus.SERVING):
            return "in_queue", f"Sudah terdaftar hari ini: tunggu panggilan ke loket {agency}."
        if latest.status == StepStatus.NO_SHOW:
            return "not_served", "Tidak hadir saat dipanggil: sampaikan ke meja pendaftaran untuk dipanggil lagi."
    if service.id in offered:
        return "offered_here", f"Belum didaftarkan: dapat diurus hari ini di loket {agency}; minta di meja pendaftaran."
    return "elsewhere", f"Urus di kantor {service.agency.name}."


def build_guidance(step: Step, presented_ids: Iterable[int] | None = None) -> GuidanceSheet:
    """The guidance sheet for one step.

    `presented_ids`: the requirement ids the citizen showed; None takes those recorded when the step
    was finished (none yet for a step still at the desk).
    """
    if presented_ids is None:
        presented_ids = step.requirements_presented or []
    presented = {int(i) for i in presented_ids}
    visit = step.visit
    event = visit.event
    service = step.service

    package = death_package_for(step)
    package_steps: list[PackageStep] = []
    other: tuple[OtherFollowUp, ...] = ()
    if package is not None:
        offered = services_offered_at(event.id)
        for item in package.items:
            pkg_service = item.service
            state, text = _package_state(pkg_service, step, offered)
            package_steps.append(PackageStep(
                service_code=pkg_service.code, service_name=pkg_service.name,
                agency_name=pkg_service.agency.name, guidance=pkg_service.guidance,
                requirements=_lines(pkg_service, presented if pkg_service.id == service.id else set()),
                state=state, state_text=text))
        other = DEATH_OTHER_FOLLOW_UPS

    return GuidanceSheet(
        step_id=step.id, visit_code=visit.code, visitor_name=(visit.name or None),
        nik_masked=mask_nik(visit.nik), event_title=event.title, event_venue=event.venue,
        event_date=to_wib(step.finished_at).date() if step.finished_at else event.date,
        kecamatan_name=event.kecamatan.name if event.kecamatan else "",
        service_code=service.code, service_name=service.name, agency_name=service.agency.name,
        desk_label=step.desk.label if step.desk else None, outcome=step.outcome,
        deadline=service.guidance or "", requirements=_lines(service, presented),
        package_name=package.name if package else None, package_steps=package_steps, other_follow_ups=other,
    )
