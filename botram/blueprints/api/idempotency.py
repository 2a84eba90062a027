"""`Idempotency-Key` on every API write (docs/unit-of-work.md, "Retries by devices"): the rules are in
botram.domain.idempotency; these hooks read the header before the view and keep the answer after it."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request
from flask_login import current_user

from ...domain import idempotency
from ...domain.uow import forget_first

HEADER = "Idempotency-Key"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _before() -> Response | None:
    raw = request.headers.get(HEADER)
    if raw is None or request.method not in WRITES:
        return None
    key = idempotency.clean_key(raw)
    user_id = current_user.id if current_user.is_authenticated else None
    route = f"{request.method} {request.path}"[:200]
    digest = idempotency.body_hash(request.get_data(cache=True))
    replay = idempotency.replay_for(user_id, route, key, digest)
    if replay is not None:
        return _replayed(replay)
    idempotency.stage(user_id, route, key, digest)
    g.idempotency_staged = (route, key)
    return None


def _replayed(replay: idempotency.Replay) -> Response:
    if replay.answer_lost:
        from .errors import json_error

        # No Retry-After: a repeat cannot get an answer that was never stored, and must not write again.
        response = json_error(409, "Permintaan ini sudah tersimpan, tetapi jawabannya hilang karena koneksi "
                                   "database terputus. Jangan kirim ulang: muat ulang data untuk melihat hasilnya.",
                              field=HEADER)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    if replay.status is None:
        from .errors import json_error

        # Written, but its answer is not stored yet: the first request is finishing at this very moment.
        return json_error(409, "Permintaan dengan Idempotency-Key ini sedang diproses. Coba lagi sebentar.",
                          field=HEADER, headers={"Retry-After": "1"})
    response = current_app.response_class(replay.body or "", status=replay.status,
                                          content_type=replay.content_type or "application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _after(response: Response) -> Response:
    staged = g.pop("idempotency_staged", None)
    if staged is None:
        return response
    row_id = idempotency.stored_id()
    idempotency.forget()
    forget_first()
    if row_id is not None and response.status_code < 500:
        idempotency.save_answer(row_id, *staged, response.status_code, response.content_type or "application/json",
                                response.get_data(as_text=True))
    return response


def _key_in_use(exc: idempotency.KeyInUse) -> Response:
    """Another request with this key committed its write while this one waited for the writer lock: it
    has (or will have in a moment) the answer, so ask the device to send the request again."""
    from .errors import json_error

    return json_error(409, exc.message, field=HEADER, headers={"Retry-After": "1"})


def enable_idempotency(bp: Blueprint) -> None:
    bp.before_request(_before)
    bp.after_request(_after)
    bp.register_error_handler(idempotency.KeyInUse, _key_in_use)
