"""What the funding pages share: the labels every template gets, and the
query arguments (year, ids) parsed once."""
from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import funding as rules
from ...domain import letters
from ...domain.clock import today_wib
from ...domain.ids import is_digits, parse_id
from ...permissions import may_manage_funding, may_set_funding_target

YEAR = re.compile(r"^\d{4}$")


def labels() -> dict:
    return dict(kinds=rules.SPONSOR_KINDS, forms=rules.FORMS, categories=rules.IN_KIND_CATEGORIES,
                budget_categories=rules.BUDGET_CATEGORIES, statuses=rules.STATUSES, status_key=rules.status_key,
                can_write=may_manage_funding(current_user), can_set_target=may_set_funding_target(current_user),
                fmt_phone=rules.format_phone,
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


def page_arg() -> tuple[int, str | None]:
    """`?page=` of a paged table: 1 when absent, an error message when it is not a page number."""
    raw = request.args.get("page", "").strip()
    if not raw:
        return 1, None
    if is_digits(raw) and len(raw) <= 6 and int(raw) >= 1:
        return int(raw), None
    return 1, _("Nomor halaman tidak valid.")
