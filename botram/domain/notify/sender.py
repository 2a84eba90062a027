"""Delivering a message row through apprise (docs/outbox.md, "Messages"): one URL per channel, set by the admin
in BOTRAM_NOTIFY_URLS; `{phone}` in a URL becomes the citizen's number (+62…), so one gateway URL serves
every citizen (`smseagle://token@192.168.1.5/{phone}`, `json://127.0.0.1:8025/sms/{phone}`)."""
from __future__ import annotations

import logging
import re
from urllib.parse import quote

from flask import Flask

from .. import outbox
from ..privacy import IDENTIFYING, REDACTED

KIND_PREFIX = "message."


class _NoNumbers(logging.Filter):
    """Apprise (and urllib3 beneath it) log the URL they post to at DEBUG, and with `{phone}` that URL holds the
    citizen's number: every number-like run is masked before any handler sees the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = IDENTIFYING.sub(REDACTED, record.getMessage()), ()
        return True


_NO_NUMBERS = _NoNumbers()


def _mask_numbers_in_library_logs() -> None:
    for name in ("apprise", "urllib3.connectionpool"):
        logger = logging.getLogger(name)
        if _NO_NUMBERS not in logger.filters:
            logger.addFilter(_NO_NUMBERS)


class GatewayRefused(Exception):
    """Apprise answered that a channel did not take the message (unreachable, refused, timed out)."""


def configured_urls(raw: str) -> list[str]:
    return [url for url in re.split(r"[\s,]+", raw or "") if url]


def apprise_urls(urls: list[str], phone: str) -> list[str]:
    return [url.replace("{phone}", quote(phone, safe="")) for url in urls]


def make_send(urls: list[str]):
    import apprise  # here, not at the top: only the outbox process sends, and apprise's plugins weigh ~25 MB

    def send(kind: str, payload: dict) -> None:
        # A fresh Apprise per message: the recipient is part of the URL, and apprise keeps no connection.
        box = apprise.Apprise()
        for url in apprise_urls(urls, payload["phone"]):
            if not box.add(url):
                raise outbox.Permanent("a BOTRAM_NOTIFY_URLS entry is not a URL apprise knows")
        if not box.notify(body=payload["text"], title="BOTRAM"):
            # Apprise logs the channel's own reason; ours names no number and no text.
            raise GatewayRefused("the message gateway did not accept the message")
    return send


def install(app: Flask) -> bool:
    """Register the message sender when the admin configured a gateway; False (feature off) otherwise."""
    urls = configured_urls(app.config.get("BOTRAM_NOTIFY_URLS", ""))
    if not urls:
        return False
    _mask_numbers_in_library_logs()
    outbox.register_sender(KIND_PREFIX, make_send(urls))
    return True
