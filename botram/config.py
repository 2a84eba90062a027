"""The Flask configuration: the BOTRAM_* settings (botram/settings.py, one default each) and the paths into
instance/."""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from . import settings


def secret_key(instance_path: str) -> str:
    """The secret key from BOTRAM_SECRET_KEY, else one generated once into instance/secret_key.

    Generated once, not per start: several worker processes and restarts must share it, or every
    desk officer is logged out whenever the server restarts.
    """
    from_env = settings.read().secret_key
    if from_env:
        return from_env
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def defaults(instance_path: str) -> dict:
    env = settings.read()
    session_hours = env.session_hours
    return {
        "SQLALCHEMY_DATABASE_URI": env.database_url or f"sqlite:///{Path(instance_path) / 'botram.sqlite'}",
        # hide_parameters: a failed statement's message (logged on a 500) never carries a NIK or a name.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_hours),
        # Desk pages stay open all day: a 30-minute token would fail mid-shift.
        "WTF_CSRF_TIME_LIMIT": session_hours * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env.secure_cookies,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BOTRAM_LOCALES": ["id", "en"],
        "BOTRAM_TIMEZONE": "Asia/Jakarta",
        # The largest request body (a voice recording is at most 1 MB): refused with 413 before any view or
        # the CSRF check reads it, so a huge upload cannot fill the disk.
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        # Queue rules: configurable per install, read once into domain.queue_rules.QueueRules.
        "BOTRAM_MAX_TICKETS_PER_NIK": env.max_tickets_per_nik,
        "BOTRAM_PRIORITY_CAP": env.priority_cap,
        "BOTRAM_NO_SHOW_RECALLS": env.no_show_recalls,
        "BOTRAM_NO_SHOW_MIN_SECONDS": env.no_show_min_seconds,
        "BOTRAM_NO_SHOW_AFTER_NUMBERS": env.no_show_after_numbers,
        "BOTRAM_BOOKING_CAP": env.booking_cap,
        # Booking before the day (domain/booking/rules.py).
        "BOTRAM_BOOKING_SHARE_PERCENT": env.booking_share_percent,
        "BOTRAM_BOOKING_GRACE_MINUTES": env.booking_grace_minutes,
        "BOTRAM_MAX_BOOKINGS_PER_PHONE": env.max_bookings_per_phone,
        "BOTRAM_BOOKING_THROTTLE_PER_HOUR": env.booking_throttle_per_hour,
        "BOTRAM_REGENCY_CODE": "32.16",
        # Sign-in protection: lockout after repeated failures, idle sessions end.
        "BOTRAM_LOGIN_MAX_FAILURES": env.login_max_failures,
        "BOTRAM_LOGIN_IP_MAX_FAILURES": env.login_ip_max_failures,
        "BOTRAM_LOGIN_LOCKOUT_MINUTES": env.login_lockout_minutes,
        "BOTRAM_IDLE_MINUTES": env.idle_minutes,
        # The address citizens' phones use (the ticket's QR code and printed link), e.g. http://192.168.1.10:5000
        # at a field event on a local Wi-Fi router. Unset: the address reception's browser used.
        "BOTRAM_PUBLIC_URL": env.public_url,
        # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0 = none, trust no header).
        "BOTRAM_PROXY_HOPS": env.proxy_hops,
        # How often a process reads the version of a watched event (board_watch; NOTIFY on PostgreSQL is faster).
        "BOTRAM_BOARD_POLL_MS": env.board_poll_ms,
        # Open streams one process holds beside its request threads (board_watch.sse_response, serving).
        "BOTRAM_STREAMS": env.streams,
        # The passphrase the regency sets for field bundles (docs/field-sync.md); the same on server and laptop.
        # Unset: no bundle is made or read.
        "BOTRAM_FIELD_KEY": env.field_key,
        # Monitoring (docs/operations.md, "Monitoring"): who may read /metrics; nothing set, nobody.
        "BOTRAM_METRICS_ADDRESSES": env.metrics_addresses,
        "BOTRAM_METRICS_TOKEN": env.metrics_token,
        "BOTRAM_LOG_FORMAT": env.log_format,
        # Messages to citizens and prints leave through the outbox (docs/outbox.md).
        "BOTRAM_NOTIFY_URLS": env.notify_urls,
        "BOTRAM_NOTIFY_NEAR_AHEAD": env.notify_near_ahead,
        "BOTRAM_OUTBOX_GIVE_UP_MINUTES": env.outbox_give_up_minutes,
        "BOTRAM_OUTBOX_WORKER": env.outbox_worker,
    }
