"""Users, their roles, and the device tokens an admin issues to them."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow


# OWASP's Password Storage Cheat Sheet, first choice: Argon2id with 19 MiB, 2 iterations, 1 lane. A check
# costs about 30 ms of one core, a quarter of Werkzeug's scrypt (N=2^15, itself below OWASP's minimum of 2^17),
# so twenty officers signing in at once cost half a CPU-second of hashing, not 2.3 (bench/signin.py).
PASSWORD_METHOD = "argon2id"
_ARGON2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class Role(enum.StrEnum):
    ADMIN = "admin"
    KOORDINATOR = "koordinator"
    RESEPSIONIS = "resepsionis"
    PETUGAS = "petugas"  # desk officer, bound to one agency
    KEUANGAN = "keuangan"
    KIOSK = "kiosk"  # a ticket kiosk's account: its device token opens the kiosk and nothing else


class User(StableId, UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped["Agency | None"] = relationship()  # noqa: F821

    @staticmethod
    def _method() -> str:
        # The method is configurable (BOTRAM_PASSWORD_METHOD): Argon2id in production; the test suite
        # uses a cheap Werkzeug one, since hashing dominated the time of tests that sign users in.
        return current_app.config.get("BOTRAM_PASSWORD_METHOD", PASSWORD_METHOD) if has_app_context() \
            else PASSWORD_METHOD

    @classmethod
    def hash_password(cls, password: str) -> str:
        method = cls._method()
        return _ARGON2.hash(password) if method == PASSWORD_METHOD else generate_password_hash(password, method=method)

    def set_password(self, password: str) -> None:
        self.password_hash = self.hash_password(password)

    def check_password(self, password: str) -> bool:
        if self.password_hash.startswith("$argon2"):
            try:
                return _ARGON2.verify(self.password_hash, password)
            except (VerificationError, InvalidHashError):
                return False
        # Hashes made before Argon2id (Werkzeug's scrypt) still sign in; the sign-in replaces them (rehashed).
        return check_password_hash(self.password_hash, password)

    def rehashed(self, password: str) -> str | None:
        """After a successful check: a new hash when this one was made by another method (an old scrypt) or
        weaker Argon2 settings, so old hashes do not stay in the table for ever; None when it is current."""
        method = self._method()
        if method != PASSWORD_METHOD:
            return None  # a test or development setting: never "upgrade" a strong hash to it
        if self.password_hash.startswith("$argon2") and not _ARGON2.check_needs_rehash(self.password_hash):
            return None
        return self.hash_password(password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(StableId, db.Model):
    """A device token (kiosk, call button, LED display). Only its hash is stored; shown once. A kiosk's token
    travels to a field laptop (its hash only, docs/field-sync.md), so the same kiosk works there."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown in lists so an admin can tell tokens apart
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
