"""Which events the public sees: the one rule the schedule, the API and the board ask.

- Open and closed events are public (a closed one stays readable: its page says it is over or cancelled).
- A draft is private (it may still move or vanish), unless the coordinator **announced** it: an announced
  draft is on the schedule, in the API's public list, and bookable.
- The board and the queue are live only once the event is open: an announced draft has no board yet.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..models import Event, EventStatus


def is_public(event: Event) -> bool:
    """The citizen may see this event (schedule, public API, booking)."""
    return event.status != EventStatus.DRAFT or event.announced_at is not None


def public_clause():
    """`is_public` as an SQL condition on the event table, for lists."""
    return sa.or_(Event.status != EventStatus.DRAFT.value, Event.announced_at.is_not(None))


def has_live_board(event: Event) -> bool:
    """The projector board shows this event: public and past draft (announced drafts have no queue yet)."""
    return is_public(event) and event.status != EventStatus.DRAFT
