"""Settings, read from BOTRAM_* environment variables with defaults that point into instance/."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def secret_key(instance_path: str) -> str:
    """The secret key from BOTRAM_SECRET_KEY, else one generated once into instance/secret_key.

    Generated once, not per start: several worker processes and restarts must share it, or every
    desk officer is logged out whenever the server restarts.
    """
    from_env = os.environ.get("BOTRAM_SECRET_KEY")
    if from_env:
        return from_env
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def public_url(raw: str | None) -> str:
    """BOTRAM_PUBLIC_URL without a trailing slash; `192.168.1.10:5000` typed without a scheme means http://
    (a QR code without one would be read as text, not as a link)."""
    value = (raw or "").strip().rstrip("/")
    if value and "://" not in value:
        value = "http://" + value
    return value


def defaults(instance_path: str) -> dict:
    session_hours = _env_int("BOTRAM_SESSION_HOURS", 12)
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "BOTRAM_DATABASE_URL", f"sqlite:///{Path(instance_path) / 'botram.sqlite'}"
        ),
        # hide_parameters: a failed statement's message (logged on a 500) never carries a NIK or a name.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_hours),
        # Desk pages stay open all day: a 30-minute token would fail mid-shift.
        "WTF_CSRF_TIME_LIMIT": session_hours * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("BOTRAM_SECURE_COOKIES", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("BOTRAM_SECURE_COOKIES", "") == "1",
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BOTRAM_LOCALES": ["id", "en"],
        "BOTRAM_TIMEZONE": "Asia/Jakarta",
        # The largest request body (a voice recording is at most 1 MB): refused with 413 before any view or
        # the CSRF check reads it, so a huge upload cannot fill the disk.
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        # Queue rules: configurable per install, read once into domain.queue_rules.QueueRules.
        "BOTRAM_MAX_TICKETS_PER_NIK": _env_int("BOTRAM_MAX_TICKETS_PER_NIK", 2),
        "BOTRAM_PRIORITY_CAP": _env_int("BOTRAM_PRIORITY_CAP", 3),
        "BOTRAM_NO_SHOW_RECALLS": _env_int("BOTRAM_NO_SHOW_RECALLS", 3),
        "BOTRAM_NO_SHOW_AFTER_NUMBERS": _env_int("BOTRAM_NO_SHOW_AFTER_NUMBERS", 10),
        "BOTRAM_REGENCY_CODE": "32.16",
        # Sign-in protection: lockout after repeated failures, idle sessions end.
        "BOTRAM_LOGIN_MAX_FAILURES": _env_int("BOTRAM_LOGIN_MAX_FAILURES", 5),
        "BOTRAM_LOGIN_IP_MAX_FAILURES": _env_int("BOTRAM_LOGIN_IP_MAX_FAILURES", 30),
        "BOTRAM_LOGIN_LOCKOUT_MINUTES": _env_int("BOTRAM_LOGIN_LOCKOUT_MINUTES", 15),
        "BOTRAM_IDLE_MINUTES": _env_int("BOTRAM_IDLE_MINUTES", 60),
        # The address citizens' phones use (the ticket's QR code and printed link), e.g. http://192.168.1.10:5000
        # at a field event on a local Wi-Fi router. Unset: the address reception's browser used.
        "BOTRAM_PUBLIC_URL": public_url(os.environ.get("BOTRAM_PUBLIC_URL")),
        # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0 = none, trust no header).
        "BOTRAM_PROXY_HOPS": _env_int("BOTRAM_PROXY_HOPS", 0),
        # The passphrase the regency sets for field bundles (docs/field-sync.md); the same on server and laptop.
        # Unset: no bundle is made or read.
        "BOTRAM_FIELD_KEY": os.environ.get("BOTRAM_FIELD_KEY", ""),
    }
