"""What a printed ticket says, the same for the browser's print and the ESC/POS printer (UI.md, "Print"):
the code huge, event and time, the services in order with their desks, a short line of what to bring, and
the QR code of the status page. Never a name, NIK or phone."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ...extensions import db
from ...models import Desk, Requirement, Visit, desk_service
from ..clock import to_wib

BRING_ITEMS = 3  # a ticket is not the guidance sheet: the first few documents, the desk says the rest


@dataclass(frozen=True)
class TicketLayout:
    code: str
    event_title: str
    issued_wib: str
    priority: str  # the group's words, "" for none
    services: list[tuple[str, str]]  # (service name, desk numbers) in the visit's order
    bring: str  # "" when nothing is required
    status_url: str


def ticket_layout(visit: Visit, status_url: str, priority_text: str = "") -> TicketLayout:
    steps = sorted(visit.steps, key=lambda s: s.position)
    service_ids = [s.service_id for s in steps]
    desks: dict[int, list[int]] = {}
    for service_id, number in db.session.execute(
            sa.select(desk_service.c.service_id, Desk.number).join(Desk, Desk.id == desk_service.c.desk_id)
            .where(Desk.event_id == visit.event_id, desk_service.c.service_id.in_(service_ids))
            .order_by(Desk.number)):
        desks.setdefault(service_id, []).append(number)
    needed = db.session.scalars(
        sa.select(Requirement.text).where(Requirement.service_id.in_(service_ids), Requirement.optional.is_(False))
        .order_by(Requirement.service_id, Requirement.position)).all()
    bring = list(dict.fromkeys(needed))[:BRING_ITEMS]
    return TicketLayout(
        code=visit.code, event_title=visit.event.title,
        issued_wib=to_wib(visit.created_at).strftime("%d-%m-%Y %H.%M") + " WIB",
        priority=priority_text,
        services=[(s.service.name, ", ".join(str(n) for n in desks.get(s.service_id, [])) or "-") for s in steps],
        bring=(_("Bawa: %(items)s", items="; ".join(bring)) if bring else ""),
        status_url=status_url,
    )
