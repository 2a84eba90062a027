"""Creating and changing users, with the rules every entry point shares (CLI, admin pages)."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Agency, ApiToken, Role, User
from . import DomainError, audit, login_guard
from .clock import now
from .uow import unit_of_work

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 8


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(_l("Kata sandi minimal %(n)d karakter.", n=MIN_PASSWORD), field="password")
    if password.isdigit() or password.isalpha():
        raise DomainError(_l("Kata sandi harus memuat huruf dan angka atau simbol."), field="password")


def _check(username: str, name: str, role: str, agency_id: int | None, user_id: int | None) -> None:
    if not USERNAME.match(username or ""):
        raise DomainError(_l("Nama pengguna 2–40 karakter: huruf kecil, angka, titik, garis bawah, atau tanda hubung."),
                          field="username")
    clash = db.session.scalar(sa.select(User.id).where(User.username == username))
    if clash is not None and clash != user_id:
        raise DomainError(_l("Nama pengguna sudah dipakai."), field="username", status=409)
    if not (name or "").strip() or len(name) > 120:
        raise DomainError(_l("Nama lengkap wajib diisi, paling banyak 120 karakter."), field="name")
    if role not in {r.value for r in Role}:
        raise DomainError(_l("Peran tidak dikenal."), field="role")
    if role == Role.PETUGAS:
        agency = db.session.get(Agency, agency_id) if isinstance(agency_id, int) else None
        if agency is None:
            raise DomainError(_l("Petugas loket harus terikat pada satu instansi."), field="agency_id")
        if not agency.active:
            raise DomainError(_l("Instansi ini nonaktif; pilih instansi yang aktif."), field="agency_id")


@unit_of_work
def create_user(username: str, name: str, password: str, role: str, *, agency_id: int | None = None,
                active: bool = True, by_user_id: int | None = None, enforce_policy: bool = True) -> User:
    username = (username or "").strip().lower()
    _check(username, name, role, agency_id, None)
    if enforce_policy:
        check_password_policy(password)
    elif not password:
        raise DomainError(_l("Kata sandi wajib diisi."), field="password")
    user = User(username=username, name=name.strip(), role=role, active=active,
                agency_id=agency_id if role == Role.PETUGAS else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, user_id=by_user_id, role=role)
    return user


@unit_of_work
def update_user(user: User, *, name: str, role: str, agency_id: int | None, active: bool,
                password: str | None = None, by_user_id: int | None = None) -> User:
    _check(user.username, name, role, agency_id, user.id)
    if by_user_id == user.id and (not active or role != user.role):
        raise DomainError(_l("Anda tidak dapat menonaktifkan atau mengubah peran akun sendiri."), field="role")
    if user.role == Role.ADMIN and user.active and (role != Role.ADMIN or not active):
        others = db.session.scalar(sa.select(sa.func.count(User.id)).where(
            User.role == Role.ADMIN, User.active.is_(True), User.id != user.id))
        if not others:
            raise DomainError(_l("Harus tetap ada paling sedikit satu administrator aktif."), field="role")
    if password:
        check_password_policy(password)
        user.set_password(password)
    changed = {k: v for k, v in {"role": role, "active": active}.items() if getattr(user, k) != v}
    user.name = name.strip()
    user.role = role
    user.agency_id = agency_id if role == Role.PETUGAS else None
    user.active = active
    ended = _end_access(user, deactivated=changed.get("active") is False, password=bool(password),
                        role_changed="role" in changed)
    audit.record("user.update", "user", user.id, user_id=by_user_id, password_changed=bool(password), **changed,
                 **ended)
    return user


def _end_access(user: User, *, deactivated: bool, password: bool, role_changed: bool) -> dict:
    """What a reset, a deactivation or a role change takes away at once, in the same transaction.

    Every signed-in session of the user ends (a stolen laptop's session must not outlive the reset; a new
    role starts from a fresh sign-in). Device tokens are revoked on deactivation and on a role change — a
    token acts with its user's role, and a kiosk enrolled for a receptionist must not silently become a
    coordinator's key, nor come back to life when an account is reactivated — but not on a password reset:
    a token is not derived from the password, and the desk's call button should not stop because its
    officer forgot theirs (a lost device's token is revoked on the tokens page).
    """
    reason = "deactivated" if deactivated else "password" if password else "role_change" if role_changed else None
    if reason is None:
        return {}
    sessions = login_guard.end_user_sessions(user.id, reason)
    tokens = 0
    if deactivated or role_changed:
        tokens = db.session.execute(sa.update(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now())).rowcount or 0
    return {"sessions_ended": sessions, "tokens_revoked": tokens}


def list_users(*, q: str = "", role: str | None = None, active: bool | None = None,
               agency_id: int | None = None) -> list[User]:
    """Users for the admin list, filtered by a name/username search, role, status and agency."""
    query = sa.select(User).order_by(User.active.desc(), User.name)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.name).like(like), sa.func.lower(User.username).like(like)))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    return list(db.session.scalars(query))
