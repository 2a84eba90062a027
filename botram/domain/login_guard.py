"""Sign-in protection kept in the database, so it holds across worker processes and restarts.

- Lockout: after `max_failures` failed sign-ins for one username within `window`, that username is
  refused (even with the right password) until the oldest failure in the window ages out. A client
  address that fails `ip_max_failures` times within the window is refused for every username (a
  password-spraying client). Failures store the username typed and the address, never the password.
- Sessions: a sign-in creates a `LoginSession` whose random id travels in the (signed) session cookie;
  only its SHA-256 is stored. Logout, `idle` time without a request, or `lifetime` since sign-in end it
  for good: a copied cookie replayed later is refused. `last_seen_at` is written at most once a minute
  per session, so a polling desk page does not write on every request.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import LoginFailure, LoginSession
from . import DomainError, audit
from .clock import now
from .uow import unit_of_work

SEEN_WRITE_EVERY = timedelta(seconds=60)


class LockedOut(DomainError):
    status = 429

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit "
                         "atau hubungi administrator.")
        self.retry_after = retry_after


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:40]


def _retry_after(oldest: datetime, window: timedelta, at: datetime) -> int:
    return max(1, int((oldest + window - at).total_seconds()))


def check_allowed(username: str, ip: str, *, max_failures: int, ip_max_failures: int,
                  window: timedelta, at: datetime | None = None) -> None:
    """Raise `LockedOut` when the username or the client address has failed too often lately."""
    at = at or now()
    since = at - window
    for column, value, limit in ((LoginFailure.username, _norm(username), max_failures),
                                 (LoginFailure.ip, (ip or "")[:45], ip_max_failures)):
        recent = db.session.scalars(
            sa.select(LoginFailure.at).where(column == value, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc()).limit(limit)).all()
        if len(recent) >= limit:
            raise LockedOut(_retry_after(recent[-1], window, at))


@unit_of_work(audited=False)  # a failure is counted, not an action; the lockout it may cause is audited
def record_failure(username: str, ip: str, *, max_failures: int, window: timedelta) -> bool:
    """Store a failed sign-in; True when this failure locks the username (audited once, without the name)."""
    at = now()
    db.session.add(LoginFailure(username=_norm(username), ip=(ip or "")[:45], at=at))
    db.session.flush()
    count = db.session.scalar(sa.select(sa.func.count(LoginFailure.id)).where(
        LoginFailure.username == _norm(username), LoginFailure.at > at - window))
    if count == max_failures:
        from ..models import User

        user_id = db.session.scalar(sa.select(User.id).where(User.username == _norm(username)))
        audit.record("auth.lockout", "user", user_id, failures=count)
        return True
    return False


@unit_of_work
def sign_in(user_id: int, username: str) -> str:
    """The bookkeeping of a successful sign-in (the password was checked before, outside the writer lock:
    hashing takes longer than the write). Returns the raw session id for the cookie."""
    from ..models import User

    raw = start_session(user_id)
    db.session.execute(sa.update(User).where(User.id == user_id).values(last_login_at=now())
                       .execution_options(synchronize_session=False))
    clear_failures(username)
    audit.record("auth.login", "user", user_id, user_id=user_id)
    return raw


@unit_of_work
def sign_out(raw: str | None, user_id: int) -> None:
    end_session(raw, "logout")
    audit.record("auth.logout", "user", user_id, user_id=user_id)


def clear_failures(username: str) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == _norm(username)))


def prune_failures(older_than: timedelta) -> int:
    result = db.session.execute(sa.delete(LoginFailure).where(LoginFailure.at < now() - older_than))
    return result.rowcount or 0


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(user_id: int) -> str:
    """Record a new signed-in session; returns the raw id to put in the cookie."""
    raw = secrets.token_urlsafe(32)
    db.session.add(LoginSession(sid_hash=_digest(raw), user_id=user_id))
    return raw


def end_session(raw: str | None, reason: str = "logout") -> None:
    if not raw:
        return
    db.session.execute(sa.update(LoginSession).where(
        LoginSession.sid_hash == _digest(raw), LoginSession.ended_at.is_(None)).values(
        ended_at=now(), end_reason=reason))


def end_user_sessions(user_id: int, reason: str = "revoked") -> None:
    """End every session of a user (deactivated account, password reset)."""
    db.session.execute(sa.update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)).values(ended_at=now(), end_reason=reason))


def check_session(raw: str | None, user_id: int, *, idle: timedelta, lifetime: timedelta) -> str | None:
    """None when the session is alive (and touched), else why it is not: 'missing', 'ended', 'idle', 'expired'.

    Runs before the request reads anything else; a write (at most once a minute per session) is its own
    unit of work, after which the request reads in a fresh transaction.
    """
    if not raw:
        return "missing"
    table = LoginSession.__table__
    at = now()
    row = db.session.execute(sa.select(table.c.id, table.c.user_id, table.c.created_at, table.c.last_seen_at,
                                       table.c.ended_at).where(table.c.sid_hash == _digest(raw))).first()
    if row is None or row.user_id != user_id:
        return "missing"
    if row.ended_at is not None:
        return "ended"
    reason = None
    if at - row.last_seen_at > idle:
        reason = "idle"
    elif at - row.created_at > lifetime:
        reason = "expired"
    if reason:
        _touch(row.id, ended_at=at, end_reason=reason)
        return reason
    if at - row.last_seen_at >= SEEN_WRITE_EVERY:
        _touch(row.id, last_seen_at=at)
    return None


@unit_of_work(audited=False)  # bookkeeping of the session itself, not an action of a person
def _touch(session_id: int, **values) -> None:
    table = LoginSession.__table__
    db.session.execute(sa.update(table).where(table.c.id == session_id, table.c.ended_at.is_(None)).values(**values))
