"""Factory helpers that build real rows; tests call them instead of long fixtures. Test modules share
helpers through this module, tests/worlds.py and tests/conftest.py, never by importing another test module."""
from __future__ import annotations

from datetime import date, time

import sqlalchemy as sa

from botram.domain import funding
from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reference import kecamatan_code
from botram.domain.tokens import issue_token
from botram.domain.users import create_user
from botram.extensions import db
from botram.models import (Agency, Contribution, Desk, DeskState, Event, EventStatus, Region, Service, Sponsor,
                           User)

from .conftest import PASSWORD, count


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


def make_event(title: str = "BOTRAM Uji", day: date | None = None, status: str = EventStatus.OPEN,
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
              service_codes: list[str] | None = None, state: str = DeskState.OPEN) -> Desk:
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


def bearer_for(username: str, role: str | None = None, **kwargs) -> tuple[dict, object]:
    """A user (made if needed) with a fresh device token: (headers, token row)."""
    user = db.session.scalar(sa.select(User).where(User.username == username)) or \
        make_user(role or username, username, **kwargs)
    token, raw = issue_token(user, "perangkat uji")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}, token


def make_sponsor(name="PT Maju Jaya", kind="csr", **kw) -> Sponsor:
    """A registered sponsor (sector Manufaktur unless given)."""
    s = funding.create_sponsor(funding.SponsorInput(name=name, kind=kind, sector=kw.pop("sector", "Manufaktur"),
                                                    **kw))
    db.session.commit()
    return s


def give(s: Sponsor, event=None, form="cash", value="Rp 1.000.000", status="received", receipt=None, **kw):
    """A contribution of `s`, received today by default, with the receipt and BAST numbers a received one needs."""
    today = today_wib()
    if kw.get("received_on"):
        kw.setdefault("pledged_on", kw["received_on"])
    received_on = kw.pop("received_on", today if status == "received" else None)
    receipt = receipt or (f"KW-{count(Contribution) + 1}" if status == "received" else "")
    data = funding.ContributionInput(sponsor_id=s.id, event_id=event.id if event else None, form=form,
                                     value_text=value, status=status, received_on=received_on,
                                     receipt_number=receipt, **kw)
    if form == "in_kind":
        data.category = data.category or "goods"
        data.valuation_basis = data.valuation_basis or "Harga pasar"
        data.items = data.items or [funding.ItemInput(name="Tenda", quantity=2, unit="unit")]
        if status == "received" and not data.bast_number:
            data.bast_number = f"BAST/{count(Contribution) + 1}"
    c = funding.record_contribution(data)
    db.session.commit()
    return c


def make_budget_line(event, planned="10.000.000", actual="", category="tents"):
    """A budget line of `event` (tents, Rp 10 juta planned unless given)."""
    made = funding.add_budget_line(event, funding.BudgetLineInput(category=category, description="Sewa tenda",
                                                                  planned_text=planned, actual_text=actual))
    db.session.commit()
    return made
