"""What the field-sync page and the field API share: the bundle key, and the JSON shapes of a checkout and
of an import report (the API answers them; the page shows the same facts)."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...domain import DomainError
from ...domain import field as field_sync
from ..api.serialize import iso_datetime


def field_key() -> str:
    """BOTRAM_FIELD_KEY, the passphrase the server and its laptops share; without it nothing can be
    exported or imported, which the caller hears as 503 (the server is not set up for field sync)."""
    key = current_app.config.get("BOTRAM_FIELD_KEY")
    if not key:
        raise DomainError(_l("Sinkronisasi lapangan belum disiapkan di server ini: BOTRAM_FIELD_KEY belum diatur."),
                          status=503)
    return key


def checkout_json(event_id: int) -> dict:
    current = field_sync.checkout_of(event_id)
    return {"event_id": event_id, "checked_out": current is not None,
            "device": current.device if current else None,
            "since": iso_datetime(current.since) if current else None,
            "checkins": current.checkins if current else 0,
            "last_checkin_at": iso_datetime(current.last_checkin_at) if current else None}


def report_json(report) -> dict:
    return {"kind": report.kind, "event_id": report.event_id, "counts": dict(report.counts),
            "updated": dict(report.updated), "unchanged": bool(report.unchanged), "released": bool(report.released)}
