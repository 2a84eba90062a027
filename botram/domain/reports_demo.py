"""Demo history for the reports: fills the past (closed) demo events with a realistic day.

`seed_demo_reports()` is idempotent: an event that already has visits is left alone. It is meant to be
called from `seed_demo` after the events exist. Each past event gets visits arriving through the day
(a morning rush, a lunch dip, an after-work wave), steps served at the desks with measured times, a few
no-shows, one desk that closed early (its last hour's arrivals are left waiting: the "unserved"), and SKM
survey responses through all three channels with requests for where BOTRAM should go next.

`record_visit` is also the builder the report tests use to lay down a synthetic day.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Desk, Event, EventStatus, Priority, Region, Service, Step, StepStatus, SurveyResponse, UNSUR_KEYS, User, Visit,
)
from .clock import to_wib, wib_to_utc
from .uow import unit_of_work


@dataclass
class StepPlan:
    """One step of a synthetic visit: the service, its end state and its times (aware UTC)."""

    service: Service
    status: str = StepStatus.DONE
    called_at: datetime | None = None
    finished_at: datetime | None = None
    desk: Desk | None = None


def _next_seq(event_id: int, letter: str) -> int:
    current = db.session.scalar(
        sa.select(sa.func.max(Visit.seq)).where(Visit.event_id == event_id, Visit.letter == letter))
    return (current or 0) + 1


def record_visit(event: Event, arrived_at: datetime, steps: list[StepPlan], *, priority: str = "none",
                 created_by_id: int | None = None) -> Visit:
    """A visit as it stands at the end of a day, written directly (history, not the live queue)."""
    letter = steps[0].service.ticket_letter
    seq = _next_seq(event.id, letter)
    visit = Visit(event_id=event.id, code=f"{letter}-{seq:03d}", letter=letter, seq=seq, priority=priority,
                  public_token=secrets.token_urlsafe(32), created_at=arrived_at, created_by_id=created_by_id)
    rank = Priority(priority).rank
    for position, plan in enumerate(steps):
        finished = plan.finished_at if plan.status in (StepStatus.DONE, StepStatus.NO_SHOW) else None
        visit.steps.append(Step(
            event_id=event.id, service_id=plan.service.id, position=position, status=plan.status,
            priority_rank=rank, arrived_at=arrived_at, desk_id=plan.desk.id if plan.desk else None,
            called_at=plan.called_at, started_at=plan.called_at if plan.status == StepStatus.DONE else None,
            finished_at=finished, outcome="done" if plan.status == StepStatus.DONE else None))
    db.session.add(visit)
    db.session.flush()
    return visit


# ------------------------------------------------------------------------------------------------ demo

# Arrivals per WIB hour (08..17): a morning rush, a lunch dip, people coming after work.
ARRIVALS = {8: 12, 9: 20, 10: 18, 11: 14, 12: 8, 13: 12, 14: 14, 15: 15, 16: 4}
# Probability that a visitor wants a service at the desk's agency, by agency code.
DEMAND = {"DISDUKCAPIL": 0.7, "BAPENDA": 0.2, "DINSOS": 0.16, "DINKES": 0.22}
COMMENTS = [
    "Pelayanan cepat, petugas ramah. Terima kasih BOTRAM!",
    "Antrean Disdukcapil panjang sekali setelah jam 2 siang.",
    "Tolong tambah tempat duduk dan kipas angin untuk lansia.",
    "Senang bisa urus KK dan PBB di satu tempat.",
    "Loket tutup terlalu cepat, saya datang setelah pulang kerja.",
    "Informasi persyaratan sebaiknya diumumkan lewat desa sebelumnya.",
    "Petugas kesehatan sangat membantu.",
]


def _survey_scores(rng: random.Random, waited: float) -> dict[str, int]:
    """Plausible answers: long waits pull `waktu` down; `sarana` and `pengaduan` run lower, `biaya` is free."""
    def pick(weights):
        return rng.choices((1, 2, 3, 4), weights=weights)[0]

    slow = waited > 60
    return {
        "persyaratan": pick((1, 4, 60, 35)), "prosedur": pick((1, 6, 60, 33)),
        "waktu": pick((8, 40, 45, 7) if slow else (2, 12, 58, 28)), "biaya": pick((0, 1, 9, 90)),
        "produk": pick((1, 5, 58, 36)), "kompetensi": pick((1, 4, 55, 40)), "perilaku": pick((1, 3, 46, 50)),
        "sarana": pick((4, 30, 55, 11)), "pengaduan": pick((5, 28, 55, 12)),
    }


def _fill_event(event: Event, rng: random.Random, staff_id: int | None) -> None:
    desks = list(event.desks)
    if not desks:
        return
    day = event.date
    # The Disdukcapil desk 2 closed at 13.00 on these days (the officer was recalled to the office):
    # whoever still waited for its services after the last desk offering them closed stays unserved.
    early = next((d for d in desks if d.number == 2), None)
    if early is not None:
        early.closes_at = wib_to_utc(day, time(13, 0))
    # Desk 1 (Disdukcapil) keeps its hours but is slow after lunch: queue builds up.
    free_at = {d.id: d.opens_at for d in desks}
    by_service: dict[int, list[Desk]] = {}
    for desk in desks:
        for service in desk.services:
            by_service.setdefault(service.id, []).append(desk)
    agencies: dict[str, list[Service]] = {}
    for desk in desks:
        for service in desk.services:
            if service not in agencies.setdefault(desk.agency.code, []):
                agencies[desk.agency.code].append(service)
    desa = list(db.session.scalars(sa.select(Region.code).where(Region.level == 4).order_by(Region.code)))
    wanted_desa = rng.sample(desa, 6) if len(desa) >= 6 else desa

    arrivals: list[datetime] = []
    for hour, n in ARRIVALS.items():
        for _ in range(n):
            arrivals.append(wib_to_utc(day, time(hour, rng.randrange(60), rng.randrange(60))))
    arrivals.sort()
    for arrived in arrivals:
        plans: list[StepPlan] = []
        for code, services in agencies.items():
            if rng.random() < DEMAND.get(code, 0.2) and services:
                plans.append(StepPlan(service=rng.choice(services)))
        if not plans:
            plans.append(StepPlan(service=rng.choice(agencies.get("DISDUKCAPIL") or next(iter(agencies.values())))))
        cursor = arrived
        waited_total = 0.0
        for plan in plans:
            candidates = [d for d in by_service.get(plan.service.id, [])]
            best, start = None, None
            for desk in candidates:
                begin = max(free_at[desk.id], cursor, desk.opens_at)
                if begin >= desk.closes_at:
                    continue  # officers finish whom they called before closing, and call no one after
                if start is None or begin < start:
                    best, start = desk, begin
            if best is None:
                plan.status = StepStatus.WAITING  # never called: the desks for it had closed
                continue
            slow = 1.6 if (best.number == 1 and to_wib(start).hour >= 13) else 1.0
            minutes = max(2.0, rng.gauss(plan.service.target_minutes * slow, plan.service.target_minutes * 0.3))
            plan.desk, plan.called_at = best, start
            if rng.random() < 0.05:
                plan.status = StepStatus.NO_SHOW
                plan.finished_at = start + timedelta(minutes=2)
            else:
                plan.finished_at = start + timedelta(minutes=minutes)
            free_at[best.id] = plan.finished_at
            waited_total += (start - cursor).total_seconds() / 60
            cursor = plan.finished_at
        priority = rng.choices(["none", "lansia", "disabilitas", "hamil"], weights=(85, 9, 2, 4))[0]
        visit = record_visit(event, arrived, plans, priority=priority, created_by_id=staff_id)
        if any(p.status == StepStatus.DONE for p in plans) and rng.random() < 0.45:
            channel = rng.choices(["qr", "kiosk", "paper"], weights=(55, 30, 15))[0]
            scores = _survey_scores(rng, waited_total)
            db.session.add(SurveyResponse(
                visit_id=visit.id, event_id=event.id, channel=channel,
                entered_by_id=staff_id if channel != "qr" else None,
                sex=rng.choice(["L", "P", None]), age_band=rng.choice(["20-29", "30-39", "40-49", "50-59", "60+", None]),
                education=rng.choice(["smp", "sma", "sma", "diploma", "s1", None]),
                occupation=rng.choice(["swasta", "wirausaha", "irt", "pns", "lainnya", None]),
                comment=rng.choice(COMMENTS) if rng.random() < 0.25 else None,
                next_desa_code=rng.choice(wanted_desa) if rng.random() < 0.6 else None,
                created_at=(cursor or arrived) + timedelta(minutes=3), **scores))


@unit_of_work(audited=False)  # reference and demo data: no person's action
def seed_demo_reports(seed: int = 2026) -> int:
    """Fill every closed event without visits with a demo day. Returns the number of events filled."""
    staff_id = db.session.scalar(sa.select(User.id).where(User.username == "resepsionis"))
    filled = 0
    events = db.session.scalars(
        sa.select(Event).where(Event.status == EventStatus.CLOSED).order_by(Event.date, Event.id)).all()
    for event in events:
        if db.session.scalar(sa.select(Visit.id).where(Visit.event_id == event.id).limit(1)) is not None:
            continue
        _fill_event(event, random.Random(f"{seed}-{event.title}"), staff_id)
        filled += 1
    return filled


assert len(UNSUR_KEYS) == 9
