"""The funding mix by the rule in `botram/domain/funding/__init__.py`: an event's or a year's cost, sponsor
cash, in kind and the APBD remainder, the years to choose from, and the JSON of GET /api/v1/funding."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import BudgetLine, Contribution, ContributionForm, ContributionStatus, Event, Sponsor
from .. import NotFound
from ..clock import today_wib
from .budget import target_bp


def share(part: int, total: int) -> float | None:
    return None if total <= 0 else round(part / total, 4)


@dataclass
class Mix:
    """Money of one event (or a year). All amounts integer rupiah."""

    total_cost: int = 0
    sponsor_cash: int = 0
    in_kind: int = 0
    pledged_cash: int = 0
    pledged_in_kind: int = 0

    @property
    def sponsors(self) -> int:
        return self.sponsor_cash + self.in_kind

    @property
    def apbd_amount(self) -> int:
        return max(0, self.total_cost - self.sponsors)

    @property
    def surplus(self) -> int:
        return max(0, self.sponsors - self.total_cost)

    @property
    def apbd_share(self) -> float | None:
        return share(self.apbd_amount, self.total_cost)

    @property
    def sponsor_share(self) -> float | None:
        return None if self.total_cost <= 0 else round(1 - self.apbd_share, 4)

    @property
    def pledged(self) -> int:
        return self.pledged_cash + self.pledged_in_kind

    def add(self, contribution: Contribution) -> None:
        """Count one contribution by the rule: received and live counts, pledged is shown apart."""
        if contribution.voided_at is not None:
            return
        self.add_sum(contribution.form, contribution.status, contribution.value)

    def add_sum(self, form: str, status: str, amount: int) -> None:
        """Count live (non-voided) money of one form and status: what `add` does for one contribution, and what
        the pages do with the database's sums per form and status (`_contribution_sums`)."""
        cash = form == ContributionForm.CASH
        if status == ContributionStatus.RECEIVED:
            if cash:
                self.sponsor_cash += amount
            else:
                self.in_kind += amount
        elif status == ContributionStatus.PLEDGED:
            if cash:
                self.pledged_cash += amount
            else:
                self.pledged_in_kind += amount

    def within(self, bp: int | None) -> bool | None:
        """APBD share at or under a target in basis points (None without target or cost)."""
        if bp is None or self.total_cost <= 0:
            return None
        return self.apbd_amount * 10_000 <= bp * self.total_cost


@dataclass
class EventMix(Mix):
    event_id: int = 0
    title: str = ""
    date: date | None = None
    status: str = ""
    budget_lines: int = 0


_COUNTED = (ContributionStatus.RECEIVED, ContributionStatus.PLEDGED)


def _contribution_sums(*where) -> list[tuple]:
    """(event id, form, status, Σ value) of live received and pledged contributions: a year's thousands of
    contributions come back as a few hundred sums instead of objects."""
    return db.session.execute(
        sa.select(Contribution.event_id, Contribution.form, Contribution.status, sa.func.sum(Contribution.value))
        .where(Contribution.voided_at.is_(None), Contribution.status.in_(_COUNTED), *where)
        .group_by(Contribution.event_id, Contribution.form, Contribution.status)).all()


def _event_mixes(events: list[Event] | list[tuple], ids_query=None) -> dict[int, EventMix]:
    """The mix of each event (objects or rows with id, title, date, status), summed by the database. `ids_query`
    selects the same events' ids, so a year's events need not be listed in an IN (...) of hundreds."""
    mixes = {e.id: EventMix(event_id=e.id, title=e.title, date=e.date, status=e.status) for e in events}
    if not mixes:
        return mixes
    in_events = (lambda column: column.in_(ids_query)) if ids_query is not None else (
        lambda column: column.in_(list(mixes)))
    cost = sa.func.coalesce(BudgetLine.actual, BudgetLine.planned)
    for event_id, total, lines in db.session.execute(
            sa.select(BudgetLine.event_id, sa.func.sum(cost), sa.func.count())
            .where(in_events(BudgetLine.event_id), BudgetLine.voided_at.is_(None)).group_by(BudgetLine.event_id)):
        mixes[event_id].total_cost += int(total)
        mixes[event_id].budget_lines += lines
    for event_id, form, status, amount in _contribution_sums(in_events(Contribution.event_id)):
        mixes[event_id].add_sum(form, status, int(amount))
    return mixes


def funding_mix(event_id: int) -> EventMix:
    """The funding mix of one event by the rule in this module's docstring."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_l("Kegiatan tidak ditemukan."))
    return _event_mixes([event])[event.id]


@dataclass
class YearFunding(Mix):
    year: int = 0
    target_bp: int | None = None
    events: list[EventMix] = field(default_factory=list)
    programme: Mix = field(default_factory=Mix)  # contributions without an event
    by_kind: dict[str, int] = field(default_factory=dict)     # received value per sponsor kind
    by_sector: dict[str, int] = field(default_factory=dict)   # received value per sector
    by_sponsor: list[tuple[int, str, str, int]] = field(default_factory=list)  # (id, name, kind, value)

    @property
    def target_share(self) -> float | None:
        return None if self.target_bp is None else round(self.target_bp / 10_000, 4)

    @property
    def on_track(self) -> bool | None:
        return self.within(self.target_bp)

    @property
    def events_apbd(self) -> int:
        """Σ of the events' own APBD remainders, each event on its own."""
        return sum(m.apbd_amount for m in self.events)

    @property
    def events_surplus(self) -> int:
        """Σ of what sponsors gave events beyond their cost. How the per-event rows add up to the year:
        events_apbd − events_surplus − programme.sponsors = apbd_amount − surplus (the year's balance)."""
        return sum(m.surplus for m in self.events)


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def yearly_funding(year: int) -> YearFunding:
    """A year's funding: its events (by date) plus programme-wide contributions booked in the year."""
    start, end = year_bounds(year)
    in_year = Event.date.between(start, end)
    events = db.session.execute(sa.select(Event.id, Event.title, Event.date, Event.status).where(in_year)
                                .order_by(Event.date, Event.id)).all()
    mixes = _event_mixes(events, ids_query=sa.select(Event.id).where(in_year))
    result = YearFunding(year=year, target_bp=target_bp(year), events=list(mixes.values()))
    for mix in result.events:
        result.total_cost += mix.total_cost
        result.sponsor_cash += mix.sponsor_cash
        result.in_kind += mix.in_kind
        result.pledged_cash += mix.pledged_cash
        result.pledged_in_kind += mix.pledged_in_kind
    book_date = sa.func.coalesce(Contribution.received_on, Contribution.pledged_on)
    programme_money = sa.and_(Contribution.event_id.is_(None), book_date.between(start, end))
    for _event_id, form, status, amount in _contribution_sums(programme_money):
        result.programme.add_sum(form, status, int(amount))
        result.add_sum(form, status, int(amount))
    # who carried it: received, live contributions of the year by sponsor, summed by the database; by kind and
    # by sector from those sums
    event_money = Contribution.event_id.in_(sa.select(Event.id).where(in_year))
    rows = db.session.execute(
        sa.select(Sponsor.id, Sponsor.name, Sponsor.kind, Sponsor.sector, sa.func.sum(Contribution.value))
        .join(Contribution.sponsor)
        .where(sa.or_(programme_money, event_money), Contribution.voided_at.is_(None),
               Contribution.status == ContributionStatus.RECEIVED)
        .group_by(Sponsor.id, Sponsor.name, Sponsor.kind, Sponsor.sector)).all()
    for sponsor_id, name, kind, sector, value in rows:
        value = int(value)
        result.by_kind[kind] = result.by_kind.get(kind, 0) + value
        key = sector or "Lainnya"
        result.by_sector[key] = result.by_sector.get(key, 0) + value
        result.by_sponsor.append((sponsor_id, name, kind, value))
    result.by_sponsor.sort(key=lambda r: (-r[3], r[1]))
    result.by_sector = dict(sorted(result.by_sector.items(), key=lambda kv: (-kv[1], kv[0])))
    return result


def by_month(mixes: list[EventMix]) -> list[EventMix]:
    """The events' mixes summed per calendar month (in date order), each month by the year's rule: its APBD is
    what its events' sponsors did not cover together. What a year of 200 events can show as a trend."""
    months: dict[date, EventMix] = {}
    for mix in mixes:
        if mix.date is None:
            continue
        first = mix.date.replace(day=1)
        month = months.setdefault(first, EventMix(date=first))
        month.total_cost += mix.total_cost
        month.sponsor_cash += mix.sponsor_cash
        month.in_kind += mix.in_kind
        month.pledged_cash += mix.pledged_cash
        month.pledged_in_kind += mix.pledged_in_kind
        month.budget_lines += mix.budget_lines
    return [months[m] for m in sorted(months)]


def funding_years() -> list[int]:
    """Years that have events or contributions, plus last, this and next year (targets are set ahead), newest first."""
    this_year = today_wib().year
    years = {this_year - 1, this_year, this_year + 1}
    # the distinct years only: five regency years are 1,000 dates and 10,000 pledges
    for column in (Event.date, Contribution.pledged_on):
        years.update(int(y) for y in db.session.scalars(sa.select(sa.extract("year", column)).distinct())
                     if y is not None)
    return sorted(years, reverse=True)


def funding_api_payload(year: int) -> dict:
    """The JSON of GET /api/v1/funding?year=YYYY (a stable interface, docs/architecture.md): integer rupiah, shares as 0–1 floats."""
    funding = yearly_funding(year)
    return {
        "year": year,
        "total_cost": funding.total_cost,
        "sponsor_cash": funding.sponsor_cash,
        "in_kind": funding.in_kind,
        "apbd_amount": funding.apbd_amount,
        "apbd_share": funding.apbd_share,
        "target_share": funding.target_share,
        "events": [{
            "id": m.event_id, "title": m.title, "date": m.date.isoformat() if m.date else None,
            "total_cost": m.total_cost, "sponsor_cash": m.sponsor_cash, "in_kind": m.in_kind,
            "apbd_amount": m.apbd_amount, "apbd_share": m.apbd_share,
        } for m in funding.events],
    }
