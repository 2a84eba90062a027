"""Funding: sponsors (CSR companies, BUMD, communities ...), their contributions (cash or in kind), event
budget lines and the coordinator's yearly APBD target. Money is integer rupiah in BigInteger columns.

Money records are never deleted: a contribution is voided with a reason (voided_at/void_reason), a pledge
is cancelled with a reason; the rules live in botram/domain/funding/.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class SponsorKind(enum.StrEnum):
    CSR = "csr"              # a company's CSR / TJSL (Perda Kab. Bekasi 6/2015)
    BUMD = "bumd"            # regional enterprise, e.g. Perumda Tirta Bhagasasi
    COMMUNITY = "community"  # community group, association, paguyuban
    INDIVIDUAL = "individual"
    OTHER = "other"


class ContributionForm(enum.StrEnum):
    CASH = "cash"
    IN_KIND = "in_kind"


class InKindCategory(enum.StrEnum):
    GOODS = "goods"
    SERVICES = "services"
    VENUE = "venue"
    FOOD = "food"
    TRANSPORT = "transport"
    PRINTING = "printing"
    HEALTH = "health"


class ContributionStatus(enum.StrEnum):
    PLEDGED = "pledged"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class BudgetCategory(enum.StrEnum):
    TENTS = "tents"
    SOUND = "sound"
    CHAIRS = "chairs"
    FOOD = "food"
    TRANSPORT = "transport"
    PRINTING = "printing"
    HONORARIA = "honoraria"
    HEALTH = "health"
    VENUE = "venue"
    OTHER = "other"


class Sponsor(db.Model):
    __tablename__ = "sponsor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    sector: Mapped[str] = mapped_column(sa.String(80), default="")
    contact_person: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")  # normalised E.164 (+62...)
    email: Mapped[str] = mapped_column(sa.String(120), default="")
    npwp: Mapped[str] = mapped_column(sa.String(20), default="")   # digits only, 15 or 16
    address: Mapped[str] = mapped_column(sa.String(250), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    public_thanks: Mapped[bool] = mapped_column(default=False)  # may be thanked by name on the board
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    contributions: Mapped[list["Contribution"]] = relationship(back_populates="sponsor",
                                                               order_by="Contribution.id.desc()")

    def __repr__(self) -> str:
        return f"<Sponsor {self.id} {self.kind}>"


class BudgetLine(db.Model):
    """One cost line of an event: planned, and actual once known."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), index=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.String(200))
    planned: Mapped[int] = mapped_column(sa.BigInteger)
    actual: Mapped[int | None] = mapped_column(sa.BigInteger)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    void_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    event: Mapped["Event"] = relationship()  # noqa: F821

    @property
    def cost(self) -> int:
        """What the line costs in the books: actual, or planned while no actual is known."""
        return self.actual if self.actual is not None else self.planned


class Contribution(db.Model):
    """Cash or in kind from one sponsor, to one event or (event_id NULL) to the whole programme.

    `value` is what the books use: the cash amount, or the assessed value of goods and services (which may
    be lower than the sponsor's `claimed_value`).
    """

    __tablename__ = "contribution"
    __table_args__ = (sa.CheckConstraint("value > 0", name="value_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(sa.ForeignKey("sponsor.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id"), index=True)
    form: Mapped[str] = mapped_column(sa.String(10))
    category: Mapped[str | None] = mapped_column(sa.String(20))  # in kind only
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    value: Mapped[int] = mapped_column(sa.BigInteger)
    claimed_value: Mapped[int | None] = mapped_column(sa.BigInteger)
    valuation_basis: Mapped[str] = mapped_column(sa.String(300), default="")
    bast_number: Mapped[str] = mapped_column(sa.String(60), default="")
    budget_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("budget_line.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default=ContributionStatus.PLEDGED, index=True)
    pledged_on: Mapped[date] = mapped_column(sa.Date)
    received_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    receipt_number: Mapped[str] = mapped_column(sa.String(60), default="")
    cancelled_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    void_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    sponsor: Mapped[Sponsor] = relationship(back_populates="contributions")
    event: Mapped["Event | None"] = relationship()  # noqa: F821
    budget_line: Mapped[BudgetLine | None] = relationship()
    items: Mapped[list["ContributionItem"]] = relationship(back_populates="contribution",
                                                           order_by="ContributionItem.id",
                                                           cascade="all, delete-orphan")
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    voided_by: Mapped["User | None"] = relationship(foreign_keys=[voided_by_id])  # noqa: F821

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    @property
    def book_date(self) -> date:
        """The date that places the contribution in a period: received, else pledged."""
        return self.received_on or self.pledged_on


class ContributionItem(db.Model):
    """A line of goods or services in an in-kind contribution (what the BAST lists)."""

    __tablename__ = "contribution_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(sa.ForeignKey("contribution.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    quantity: Mapped[int]
    unit: Mapped[str] = mapped_column(sa.String(20), default="")

    contribution: Mapped[Contribution] = relationship(back_populates="items")


class FundingTarget(db.Model):
    """The coordinator's ceiling for the APBD share of a year's BOTRAM cost, in basis points (6000 = 60%)."""

    __tablename__ = "funding_target"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    apbd_max_share_bp: Mapped[int]
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
