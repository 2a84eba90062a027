"""Idempotency keys for the API's writes: a device whose answer was lost sends the same request again with
the same `Idempotency-Key` header and gets the first answer, while nothing is written twice.

The key is stored inside the transaction of the write it guards (`uow.first_in_next_unit`): the row exists
if and only if the write was committed. A second request with a key already stored is never run: it gets the
stored answer, or, in the instant between the commit and the answer being stored, a 409 to retry. A key
is one user's, for one route, for a day; the same key with a different body is refused.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import IdempotentRequest
from . import Conflict, DomainError
from .clock import now
from .uow import first_in_next_unit, unit_of_work

KEY_MAX = 200
KEPT_FOR = timedelta(days=1)
# How long a stored key may wait for its answer before the answer counts as lost. A request stores its answer
# a few milliseconds after its commit; one that has not after half a minute died in between (the connection
# broke after COMMIT was sent: the write happened, its 503 said "maybe"). Asking to retry for the rest of
# the day would loop a device for nothing.
ANSWER_GRACE = timedelta(seconds=30)
_STAGED = "idempotency_staged"


class KeyInUse(Conflict):
    """Another request with this key committed its write while this one was on its way."""


@dataclass(frozen=True)
class Replay:
    status: int | None  # None: written, but the answer is not stored yet (or was lost)
    content_type: str | None
    body: str | None
    answer_lost: bool = False  # written, and the request that wrote it died before storing its answer


def clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable() or not key.isascii():
        raise DomainError(_l("Idempotency-Key harus 1–%(n)d karakter ASCII yang terlihat.", n=KEY_MAX),
                          field="Idempotency-Key", status=400)
    return key


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _live_row(user_id: int | None, route: str, key: str) -> IdempotentRequest | None:
    return db.session.scalar(sa.select(IdempotentRequest).where(
        IdempotentRequest.user_id.is_(None) if user_id is None else IdempotentRequest.user_id == user_id,
        IdempotentRequest.route == route, IdempotentRequest.key == key,
        IdempotentRequest.created_at > now() - KEPT_FOR))


def replay_for(user_id: int | None, route: str, key: str, request_hash: str) -> Replay | None:
    """The stored answer for this key, None when the key is new. The same key with another body: 422."""
    row = _live_row(user_id, route, key)
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise DomainError(_l("Idempotency-Key ini sudah dipakai untuk permintaan lain; pakai kunci baru."),
                          field="Idempotency-Key", status=422)
    lost = row.status is None and row.created_at <= now() - ANSWER_GRACE
    return Replay(row.status, row.content_type, row.body, answer_lost=lost)


def stage(user_id: int | None, route: str, key: str, request_hash: str) -> None:
    """Store the key with the request's next write (if the request writes at all)."""

    def store() -> None:
        # An expired row with the same key would block the new one: keys live for a day, then are reusable.
        db.session.execute(sa.delete(IdempotentRequest).where(IdempotentRequest.created_at <= now() - KEPT_FOR))
        row = IdempotentRequest(user_id=user_id, route=route, key=key, request_hash=request_hash)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            raise KeyInUse(_l("Permintaan dengan Idempotency-Key ini sedang atau sudah diproses.")) from None
        db.session.info[_STAGED] = row.id

    first_in_next_unit(store)


def stored_id() -> int | None:
    """The id of the key row committed with this request's write, if there was one."""
    return db.session.info.get(_STAGED)


def forget() -> None:
    db.session.info.pop(_STAGED, None)


@unit_of_work(audited=False)  # the write it answers was audited; this only keeps its answer
def save_answer(row_id: int, route: str, key: str, status: int, content_type: str, body: str) -> None:
    # Route and key too: the id came from an insert that may have been rolled back (a refused write), and
    # SQLite can hand that id to the next insert, which must not get this answer.
    db.session.execute(sa.update(IdempotentRequest).where(
        IdempotentRequest.id == row_id, IdempotentRequest.route == route, IdempotentRequest.key == key,
        IdempotentRequest.status.is_(None))
        .values(status=status, content_type=content_type[:100], body=body))
