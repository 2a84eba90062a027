"""Device tokens: shown once, stored as a SHA-256 hash, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import OperationalError
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import ApiToken, User
from . import DomainError, audit
from .clock import now
from .uow import unit_of_work


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@unit_of_work
def issue_token(user: User, name: str, *, by_user_id: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token (the only time it exists)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError(_l("Nama token wajib diisi, paling banyak 80 karakter."), field="name")
    if not user.active:
        raise DomainError(_l("Pengguna nonaktif tidak dapat diberi token."))
    raw = "btr_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=raw[:10], token_hash=_digest(raw))
    db.session.add(token)
    db.session.flush()
    audit.record("token.issue", "api_token", token.id, user_id=by_user_id, target_user=user.id)
    return token, raw


@unit_of_work
def revoke_token(token: ApiToken, *, by_user_id: int | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = now()
        audit.record("token.revoke", "api_token", token.id, user_id=by_user_id)


LAST_USED_EVERY = timedelta(minutes=5)


def _note_use(token_id: int, at) -> None:
    """Best effort: a database that stays busy past the unit of work's retries must never fail the device's
    request over a timestamp."""
    try:
        _write_last_used(token_id, at)
    except OperationalError:
        current_app.logger.info("token use not noted: database busy")


@unit_of_work(audited=False)  # bookkeeping, not an action of a person
def _write_last_used(token_id: int, at) -> None:
    table = ApiToken.__table__
    db.session.execute(sa.update(table).where(table.c.id == token_id).values(last_used_at=at))


def user_for_token(raw: str) -> User | None:
    """The active user behind a raw token, or None (token_user without the token's id)."""
    found = token_user(raw)
    return found[0] if found else None


def token_user(raw: str) -> tuple[User, int] | None:
    """The active user behind a raw token and the token's id (a kiosk's printer is attached to it), or None.

    One query finds the token and its user. When the token was last used is noted at most once per
    token per 5 minutes, so a polling device does not write on every request.
    """
    if not raw or len(raw) > 200:
        return None
    table = ApiToken.__table__
    row = db.session.execute(
        sa.select(User, table.c.id, table.c.last_used_at).join(table, table.c.user_id == User.id)
        .where(table.c.token_hash == _digest(raw), table.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    at = now()
    if last_used_at is None or at - last_used_at >= LAST_USED_EVERY:
        _note_use(token_id, at)
    return (user, token_id) if user.active else None
