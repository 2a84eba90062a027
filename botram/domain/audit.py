"""Writing the audit log. Callers pass ids and codes, never names, NIK or phone numbers."""
from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditLog
from .uow import note_audited


def record(action: str, entity: str, entity_id: int | None = None, *, user_id: int | None = None,
           event_id: int | None = None, **detail: Any) -> AuditLog:
    """Add an audit entry to the current transaction (committed with the change it describes)."""
    entry = AuditLog(action=action, entity=entity, entity_id=entity_id, user_id=user_id,
                     event_id=event_id, detail=detail or None)
    db.session.add(entry)
    note_audited()
    return entry
