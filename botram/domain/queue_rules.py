"""The queue's settings as one object, read once from the configuration when the app is made (`create_app`;
the defaults are in botram/settings.py, nowhere else). Domain functions take it from the app themselves, so no
caller hands it on and none can forget it."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from flask import current_app

EXTENSION = "botram_queue_rules"


@dataclass(frozen=True)
class QueueRules:
    priority_cap: int
    """After this many priority calls in a row a desk takes the oldest regular visitor (fairness)."""
    max_recalls: int
    """Recalls before a called visitor must be marked not present."""
    no_show_min_seconds: int
    """Seconds after the call before a visitor not yet recalled `max_recalls` times may be marked absent."""
    no_show_after: int
    """Later numbers of the same service called after which a no-show ticket has lost its place."""
    max_tickets_per_nik: int
    """Active tickets one NIK may hold per event."""
    booking_cap: int
    """After this many booked calls in a row a desk takes the oldest walk-in (docs/queue-domain.md)."""

    @classmethod
    def defaults(cls, **changes) -> "QueueRules":
        """Every rule at its default (botram/settings.py, the one place defaults live), with `changes`: for
        tests and tools that run without an app."""
        from ..settings import Settings

        fields = Settings.model_fields
        rules = cls(priority_cap=fields["priority_cap"].default, max_recalls=fields["no_show_recalls"].default,
                    no_show_min_seconds=fields["no_show_min_seconds"].default,
                    no_show_after=fields["no_show_after_numbers"].default,
                    max_tickets_per_nik=fields["max_tickets_per_nik"].default,
                    booking_cap=fields["booking_cap"].default)
        return replace(rules, **changes)

    @classmethod
    def from_config(cls, config: Mapping) -> "QueueRules":
        return cls(priority_cap=config["BOTRAM_PRIORITY_CAP"], max_recalls=config["BOTRAM_NO_SHOW_RECALLS"],
                   no_show_min_seconds=config["BOTRAM_NO_SHOW_MIN_SECONDS"],
                   no_show_after=config["BOTRAM_NO_SHOW_AFTER_NUMBERS"],
                   max_tickets_per_nik=config["BOTRAM_MAX_TICKETS_PER_NIK"],
                   booking_cap=config["BOTRAM_BOOKING_CAP"])


def install(app) -> None:
    app.extensions[EXTENSION] = QueueRules.from_config(app.config)


def current_rules() -> QueueRules:
    """The rules of the running app. An app made without them is a programming error, not a reason to guess."""
    return current_app.extensions[EXTENSION]
