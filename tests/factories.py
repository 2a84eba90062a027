"""Factory helpers that build real rows; tests call them instead of long fixtures."""
from __future__ import annotations

from datetime import date, time

import sqlalchemy as sa

from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reference import kecamatan_code
from botram.domain.tokens import issue_token
from botram.domain.users import create_user
from botram.extensions import db
from botram.models import Agency, Desk, DeskState, Event, EventStatus, Region, Service, User

from .conftest import PASSWORD


def agency(code: str = "DISDUKCAPIL") -> Agency:
    return db.session.scalar(sa.select(Agency).where(Agency.code == code))


def service(code: str) -> Service:
    return db.session.scalar(sa.select(Service).where(Service.code == code))


def make_user(role: str, username: str | None = None, agency_code: str | None = None, **kwargs) -> User:
    agency_id = None
    if role == "petugas":
        agency_id = agency(agency_code or "DISDUKCAPIL").id
    user = create_user(username or role, kwargs.pop("name", f"Pengguna {role}"), PASSWORD, role,
                       agency_id=agency_id, **kwargs)
    db.session.commit()
    return user


def make_event(title: str = "BOTRAM Uji", day: date | None = None, status: str = EventStatus.OPEN.value,
               kecamatan: str = "Cikarang Timur", opens: time = time(8), closes: time = time(16)) -> Event:
    day = day or today_wib()
    code = kecamatan_code(kecamatan)
    desa = db.session.scalar(sa.select(Region.code).where(Region.parent_code == code).order_by(Region.code))
    event = Event(title=title, date=day, venue="Balai Desa", kecamatan_code=code, desa_code=desa,
                  opens_at=wib_to_utc(day, opens), closes_at=wib_to_utc(day, closes), status=status)
    db.session.add(event)
    db.session.commit()
    return event


def make_desk(event: Event, number: int = 1, agency_code: str = "DISDUKCAPIL",
              service_codes: list[str] | None = None, state: str = DeskState.OPEN.value) -> Desk:
    owner = agency(agency_code)
    codes = service_codes or [s.code for s in owner.services[:2]]
    desk = Desk(event=event, agency=owner, number=number, label=f"Loket {number} {owner.short_name}",
                opens_at=event.opens_at, closes_at=event.closes_at, state=state,
                services=[service(c) for c in codes])
    db.session.add(desk)
    db.session.commit()
    return desk


def bearer(user) -> dict:
    """Authorization headers with a fresh device token of `user`."""
    _token, raw = issue_token(user, "uji")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}
