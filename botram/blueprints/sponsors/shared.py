"""What the funding pages share: who reads and who writes, the labels every template gets, and the
query arguments (year, ids) parsed once."""
from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import DomainError
from ...domain import funding as rules
from ...domain import letters
from ...domain.clock import today_wib
from ...domain.ids import parse_id

WRITERS = ("keuangan", "admin")
READERS = ("keuangan", "admin", "koordinator")
TARGET_SETTERS = ("koordinator", "admin")
YEAR = re.compile(r"^\d{4}$")


def can_write() -> bool:
    return current_user.is_authenticated and current_user.role in WRITERS


def can_set_target() -> bool:
    return current_user.is_authenticated and current_user.role in TARGET_SETTERS


def status_of(exc: DomainError) -> int:
    return 409 if exc.status == 409 else 422


def labels() -> dict:
    return dict(kinds=rules.SPONSOR_KINDS, forms=rules.FORMS, categories=rules.IN_KIND_CATEGORIES,
                budget_categories=rules.BUDGET_CATEGORIES, statuses=rules.STATUSES, status_key=rules.status_key,
                can_write=can_write(), can_set_target=can_set_target(), fmt_phone=rules.format_phone,
                terbilang=letters.terbilang,
                fmt_npwp=rules.format_npwp)


def year_arg() -> tuple[int, str | None]:
    raw = request.args.get("year", "").strip()
    if not raw:
        return today_wib().year, None
    if YEAR.match(raw) and 2000 <= int(raw) <= 2100:
        return int(raw), None
    return today_wib().year, _("Tahun tidak valid. Gunakan empat angka, misalnya 2026.")


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return parse_id(raw)
