"""Looks for "your turn is near" after every change of an open event's queue (run by the outbox worker
before each pass): one primary-key-ordered read of the open events' versions, and `queue_near` only for
the events whose version moved. Every process may run one; the dedupe key keeps each message single."""
from __future__ import annotations

import time

import sqlalchemy as sa

from ...extensions import db
from ...models import Event, EventStatus
from . import queue_near


class NearWatch:
    """At most one look every `every` seconds: a worker that just sent loops at once, and twenty desks change
    the version many times a second; the look-out keeps to its own pace."""

    def __init__(self, every: float = 1.0) -> None:
        self.seen: dict[int, int] = {}
        self.every = every
        self._last = float("-inf")

    def __call__(self) -> int:
        if time.monotonic() - self._last < self.every:
            return 0
        self._last = time.monotonic()
        versions = dict(db.session.execute(
            sa.select(Event.id, Event.queue_version).where(Event.status == EventStatus.OPEN)).all())
        db.session.rollback()  # end the read before the unit of work (SQLite: a reader cannot become a writer)
        queued = 0
        for event_id, version in versions.items():
            if self.seen.get(event_id) != version:
                queued += queue_near(event_id)
                self.seen[event_id] = version
        self.seen = {k: v for k, v in self.seen.items() if k in versions}
        return queued
