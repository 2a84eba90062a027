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


def _lock_ends(column, value: str, limit: int, window: timedelta, at: datetime) -> datetime | None:
    """When the lock on `value` (a username or an address) ends, or None when it is not locked: the lock
    lasts until the oldest of the last `limit` failures in the window ages out of it."""
    recent = db.session.scalars(
        sa.select(LoginFailure.at).where(column == value, LoginFailure.at > at - window)
        .order_by(LoginFailure.at.desc()).limit(limit)).all()
    return recent[-1] + window if len(recent) >= limit else None


def check_allowed(username: str, ip: str, *, max_failures: int, ip_max_failures: int,
                  window: timedelta, at: datetime | None = None) -> None:
    """Raise `LockedOut` when the username or the client address has failed too often lately."""
    at = at or now()
    for column, value, limit in ((LoginFailure.username, _norm(username), max_failures),
                                 (LoginFailure.ip, (ip or "")[:45], ip_max_failures)):
        ends = _lock_ends(column, value, limit, window, at)
        if ends is not None:
            raise LockedOut(_retry_after(ends - window, window, at))


def locked_usernames(*, max_failures: int, window: timedelta, at: datetime | None = None) -> dict[str, datetime]:
    """Every username locked right now, with when its lock ends (UTC): what the admin's user list shows."""
    at = at or now()
    candidates = db.session.scalars(
        sa.select(LoginFailure.username).where(LoginFailure.at > at - window)
        .group_by(LoginFailure.username).having(sa.func.count(LoginFailure.id) >= max_failures)).all()
    locks = {name: _lock_ends(LoginFailure.username, name, max_failures, window, at) for name in candidates}
    return {name: ends for name, ends in locks.items() if ends is not None}


@unit_of_work
def unlock(user, *, by_user_id: int | None = None) -> int:
    """An admin lifts a username's lockout before it ends on its own (the officer forgot the password and
    it was reset, or a colleague mistyped it). Forgets that username's failed sign-ins; a lock on a client
    address (many usernames from one machine) is left to end by itself. Returns how many were forgotten."""
    removed = db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == _norm(user.username)))
    audit.record("auth.unlock", "user", user.id, user_id=by_user_id, failures=removed.rowcount or 0)
    return removed.rowcount or 0


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
def sign_in(user_id: int, username: str, *, new_hash: str | None = None) -> str:
    """The bookkeeping of a successful sign-in (the password was checked before, outside the writer lock:
    hashing takes longer than the write; so was `new_hash`, an old hash's replacement, User.rehashed).
    Returns the raw session id for the cookie."""
    from ..models import User

    raw = start_session(user_id)
    values = {"last_login_at": now()}
    if new_hash:
        values["password_hash"] = new_hash
        audit.record("user.password_rehashed", "user", user_id, user_id=user_id)
    db.session.execute(sa.update(User).where(User.id == user_id).values(**values)
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


def end_user_sessions(user_id: int, reason: str = "revoked") -> int:
    """End every session of a user (domain.users: deactivation, password reset, role change); how many.
    Runs inside the caller's unit of work."""
    result = db.session.execute(sa.update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)).values(ended_at=now(), end_reason=reason))
    return result.rowcount or 0


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
