"""Every BOTRAM_* setting, with its one default, read from the environment once (pydantic-settings).

`config.defaults` turns these into the Flask configuration; nothing else reads os.environ for a BOTRAM_* value
or repeats a default. A value that is not what its setting takes (BOTRAM_PRIORITY_CAP=tiga) stops the start
with a message naming the variable, rather than failing later in a request.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOTRAM_", extra="ignore", frozen=True)

    database_url: str = ""
    """SQLAlchemy URL; empty: sqlite:///<instance>/botram.sqlite."""
    secret_key: str = ""
    """Session signing key; empty: generated once into instance/secret_key."""
    session_hours: int = Field(12, ge=1, le=24 * 7)
    secure_cookies: bool = False
    max_tickets_per_nik: int = Field(2, ge=1, le=50)
    """Active tickets one NIK may hold per event."""
    priority_cap: int = Field(3, ge=1, le=100)
    """After this many priority calls in a row a desk takes the oldest regular visitor (fairness)."""
    no_show_recalls: int = Field(3, ge=0, le=20)
    """Recalls before a called visitor must be marked not present."""
    no_show_min_seconds: int = Field(60, ge=0, le=3600)
    """Seconds after the call (or the last recall) before a visitor may be marked absent without all the
    recalls: a minute lets a slow walker (lansia, ibu hamil) cross a market hall after the board's call."""
    no_show_after_numbers: int = Field(10, ge=1, le=1000)
    """Later numbers of the same service called after which a no-show ticket has lost its place."""
    booking_share_percent: int = Field(50, ge=0, le=90)
    """The share of a window's capacity (per service) a coordinator may open to booking; the rest is for
    walk-ins, who always have room."""
    booking_cap: int = Field(2, ge=1, le=20)
    """After this many booked calls in a row a desk takes the oldest walk-in (walk-ins are never starved)."""
    booking_grace_minutes: int = Field(15, ge=0, le=240)
    """Default minutes after a window's end before an unused booking releases its place (a no-show)."""
    max_bookings_per_phone: int = Field(2, ge=1, le=20)
    """Active bookings one phone number may hold per event (with BOTRAM_MAX_TICKETS_PER_NIK per NIK)."""
    booking_throttle_per_hour: int = Field(10, ge=1, le=10_000)
    """Bookings one address, or one phone number, may make in an hour."""
    login_max_failures: int = Field(5, ge=1, le=100)
    login_ip_max_failures: int = Field(30, ge=1, le=10_000)
    login_lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    idle_minutes: int = Field(60, ge=1, le=24 * 60)
    public_url: str = ""
    """The address citizens' phones use (the ticket's QR code and printed link)."""
    proxy_hops: int = Field(0, ge=0, le=5)
    """Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0 = none, trust no header)."""
    board_poll_ms: int = Field(50, ge=10, le=3_600_000)
    """How often each server process reads the version of an event whose screens are open. On SQLite this is
    how a change made by another process reaches them; on PostgreSQL NOTIFY brings it at once and the poll
    is the safety net (a lost listening connection), so it may be raised there (e.g. 1000)."""
    streams: int = Field(500, ge=0, le=10_000)
    """Open event streams (boards, desk consoles) one server process holds, each on a thread of its own beside
    BOTRAM_THREADS, so streams never take the threads of sign-ins, calls and tickets. A stream asked for
    beyond it is refused with a `busy` event: the screen stays current through its poll and retries later."""
    field_key: str = ""
    """The regency's passphrase for field bundles (docs/field-sync.md); empty: no bundle is made or read."""
    metrics_addresses: str = ""
    """Who may read /metrics without a token: addresses or networks, comma-separated (`10.20.0.5, 10.30.0.0/24`).
    Empty, and no token either: /metrics answers 404 (nothing is exposed by default)."""
    metrics_token: str = ""
    """A bearer token that opens /metrics from any address (`Authorization: Bearer <token>`); empty: none."""
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per log line (a log collector's format), scrubbed like the text lines."""

    @field_validator("metrics_addresses")
    @classmethod
    def _metrics_addresses(cls, raw: str) -> str:
        """Checked at start-up: a typo must stop the server, not leave /metrics closed (or open) unnoticed."""
        import ipaddress

        for part in filter(None, (p.strip() for p in (raw or "").split(","))):
            ipaddress.ip_network(part, strict=False)
        return raw
    notify_urls: str = ""
    """Apprise URLs of the message gateways, separated by spaces or commas; `{phone}` in a URL is replaced by the
    citizen's number (+62…). Empty: messages to citizens are off and reception shows no tick (docs/outbox.md)."""
    notify_near_ahead: int = Field(3, ge=1, le=50)
    """The "your turn is near" message goes when this many people (or fewer) are ahead of the citizen."""
    outbox_give_up_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    """A message or print the gateway has not taken within this many minutes of its cause is given up."""
    outbox_worker: bool = True
    """`botram serve` runs one outbox worker process beside the server (botram/outbox_process.py); off (`0`) when
    a `botram outbox run` of your own does it."""

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, raw: str) -> str:
        """Without a trailing slash; `192.168.1.10:5000` typed without a scheme means http:// (a QR code
        without one would be read as text, not as a link)."""
        value = (raw or "").strip().rstrip("/")
        if value and "://" not in value:
            value = "http://" + value
        return value


def read() -> Settings:
    return Settings()
