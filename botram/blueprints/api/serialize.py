"""The JSON shapes of the API (docs/architecture.md, stable interfaces). Field names are a stable interface: extend, never rename.

No function here ever emits a name, NIK or phone number of a citizen or a user.
"""
from __future__ import annotations

from datetime import datetime

from ...domain.clock import to_wib
from ...models import Agency, Desk, Event, Region, Service


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with the WIB offset, e.g. 2026-11-28T08:00:00+07:00 (the wall clock people see)."""
    return to_wib(value).isoformat(timespec="seconds") if value is not None else None


def agency_ref(agency: Agency) -> dict:
    return {"id": agency.id, "code": agency.code, "name": agency.name, "short_name": agency.short_name,
            "color": agency.color}


def service_ref(service: Service) -> dict:
    return {"id": service.id, "code": service.code, "name": service.name}


def region_ref(region: Region | None) -> dict | None:
    return {"code": region.code, "name": region.name} if region is not None else None


def event_summary(event: Event) -> dict:
    return {
        "id": event.id,
        "title": event.title,
        "date": event.date.isoformat(),
        "status": event.status,
        "venue": event.venue,
        "kecamatan": region_ref(event.kecamatan),
        "desa": region_ref(event.desa),
        "opens_at": iso_datetime(event.opens_at),
        "closes_at": iso_datetime(event.closes_at),
    }


def desk_json(desk: Desk) -> dict:
    return {
        "id": desk.id,
        "label": desk.label,
        "agency": agency_ref(desk.agency),
        "services": [service_ref(s) for s in desk.services],
        "state": desk.state,
        "number": desk.number,
        "opens_at": iso_datetime(desk.opens_at),
        "closes_at": iso_datetime(desk.closes_at),
    }
