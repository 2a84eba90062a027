"""The funding mix for finance, the coordinator and the regency's data portal."""
from __future__ import annotations

from flask import jsonify

from ...domain.clock import today_wib
from ...domain.funding import funding_api_payload
from ...models import Role
from . import bp
from .auth import api_roles
from .params import query_int


@bp.get("/funding")
@api_roles(Role.KEUANGAN, Role.KOORDINATOR, Role.ADMIN)
def funding():
    """Total cost, what sponsors carried (cash, in kind) and what APBD still carries, for one year."""
    year = query_int("year", 2000, 2100)
    if year is None:
        year = today_wib().year
    return jsonify(funding_api_payload(year))
