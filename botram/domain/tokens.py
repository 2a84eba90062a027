"""Device tokens: shown once, stored as a SHA-256 hash, revocable."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from ..extensions import db
from ..models import ApiToken, User
from . import DomainError, audit
from .clock import now


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, name: str, *, by_user_id: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token (the only time it exists)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError("Nama token wajib diisi, paling banyak 80 karakter.", field="name")
    if not user.active:
        raise DomainError("Pengguna nonaktif tidak dapat diberi token.")
    raw = "btr_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=raw[:10], token_hash=_digest(raw))
    db.session.add(token)
    db.session.flush()
    audit.record("token.issue", "api_token", token.id, user_id=by_user_id, target_user=user.id)
    return token, raw


def revoke_token(token: ApiToken, *, by_user_id: int | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = now()
        audit.record("token.revoke", "api_token", token.id, user_id=by_user_id)


def user_for_token(raw: str) -> User | None:
    """The active user behind a raw token, or None. Does not write (no per-request writes)."""
    if not raw:
        return None
    # one query: devices call on every button press
    return db.session.scalar(
        sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(raw), ApiToken.revoked_at.is_(None), User.active.is_(True))
    )
