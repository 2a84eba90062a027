"""The queue's settings as one object: read once from the configuration (BOTRAM_* variables, README) when
the app starts, handed to the queue functions by every caller (desk pages, reception, the API)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class QueueRules:
    priority_cap: int = 3
    """After this many priority calls in a row a desk takes the oldest regular visitor (fairness)."""
    max_recalls: int = 3
    """Recalls before a called visitor must be marked not present."""
    no_show_after: int = 10
    """Later numbers of the same service called after which a no-show ticket has lost its place."""
    max_tickets_per_nik: int = 2
    """Active tickets one NIK may hold per event."""

    @classmethod
    def from_config(cls, config: Mapping) -> "QueueRules":
        return cls(priority_cap=config["BOTRAM_PRIORITY_CAP"], max_recalls=config["BOTRAM_NO_SHOW_RECALLS"],
                   no_show_after=config["BOTRAM_NO_SHOW_AFTER_NUMBERS"],
                   max_tickets_per_nik=config["BOTRAM_MAX_TICKETS_PER_NIK"])


DEFAULT = QueueRules()
