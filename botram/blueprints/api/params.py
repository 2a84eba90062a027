"""Reading request input for API views; bad input becomes a 400 JSON error naming the field."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from flask import request
from flask_babel import gettext as _

from ...extensions import db
from .errors import ApiError

MAX_ID = 2**31 - 1  # PostgreSQL `integer`; a larger id in a URL would make the database raise


def get_or_404(model, ident: int, detail: str | None = None):
    """The row with primary key `ident`, or a 404 JSON error (also for ids no column could hold)."""
    row = db.session.get(model, ident) if 0 < ident <= MAX_ID else None
    if row is None:
        raise ApiError(404, detail)
    return row


def json_body() -> dict:
    """The request body as a JSON object; malformed JSON, an empty body or a non-object → 400.

    Parsed whatever the Content-Type says: small devices often send `text/plain`.
    """
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, _("Badan permintaan harus berupa objek JSON yang sah."))
    return data


def query_choice(name: str, choices: Iterable[str]) -> str | None:
    """An optional query parameter that must be one of `choices`."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    allowed = list(choices)
    if raw not in allowed:
        raise ApiError(400, _("Nilai %(name)s tidak dikenal. Pilihan: %(choices)s.", name=name,
                              choices=", ".join(allowed)), field=name)
    return raw


def query_date(name: str) -> date | None:
    """An optional query parameter holding an ISO date (yyyy-mm-dd)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, _("%(name)s harus tanggal dengan format yyyy-mm-dd, misalnya 2026-08-17.",
                              name=name), field=name) from None


def query_int(name: str, minimum: int, maximum: int) -> int | None:
    """An optional whole-number query parameter within [minimum, maximum]."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise ApiError(400, _("%(name)s harus bilangan bulat antara %(minimum)d dan %(maximum)d.", name=name,
                              minimum=minimum, maximum=maximum), field=name)
    return int(raw)
