"""Agencies (OPD), the services they offer, their requirement checklists, and life-event packages."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId


class Agency(StableId, db.Model):
    """An OPD (Organisasi Perangkat Daerah) that staffs desks. Its colour is data, not code."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    short_name: Mapped[str] = mapped_column(sa.String(40))
    color: Mapped[str] = mapped_column(sa.String(7), default="#0072B2")  # Okabe-Ito palette
    active: Mapped[bool] = mapped_column(default=True)

    services: Mapped[list["Service"]] = relationship(
        back_populates="agency", order_by="Service.code"
    )

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class Service(StableId, db.Model):
    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    ticket_letter: Mapped[str] = mapped_column(sa.String(1))
    target_minutes: Mapped[int] = mapped_column(default=10)
    records_amount: Mapped[bool] = mapped_column(default=False)  # e.g. PBB payments
    # Offered at the self-service kiosk: nothing to check before the ticket (no documents, no NIK).
    self_service: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Plain-language deadline or note for the guidance sheet, e.g. "paling lambat 30 hari setelah kematian".
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="services")
    requirements: Mapped[list["Requirement"]] = relationship(
        back_populates="service", order_by="Requirement.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Service {self.code}>"


class Requirement(StableId, db.Model):
    """One document on a service's checklist, with where the citizen gets it."""

    __tablename__ = "requirement"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.String(255))
    where_to_get: Mapped[str] = mapped_column(sa.String(255), default="")
    optional: Mapped[bool] = mapped_column(default=False)

    service: Mapped[Service] = relationship(back_populates="requirements")


class PackageService(db.Model):
    __tablename__ = "package_service"

    package_id: Mapped[int] = mapped_column(
        sa.ForeignKey("life_event_package.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    service: Mapped[Service] = relationship()


class LifeEventPackage(StableId, db.Model):
    """Services across agencies that one life event needs (a death in the family, a newborn)."""

    __tablename__ = "life_event_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Offered whole at the kiosk: its desks check the documents, nobody needs to before the ticket.
    self_service: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    items: Mapped[list[PackageService]] = relationship(
        order_by=PackageService.position, cascade="all, delete-orphan"
    )

    @property
    def services(self) -> list[Service]:
        return [item.service for item in self.items]
