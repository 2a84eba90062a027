"""The funding surface (nav "Pendanaan"): sponsors, contributions, event budgets, the APBD share, exports,
printable receipts and thank-you letters. Finance (keuangan) and admin write; the coordinator reads and sets
the yearly APBD target (keuangan records money but does not set the policy it is judged by).

Thin: parse the form, check the role, call botram.domain.funding, show its message. One module per
resource: `overview.py` (the year, the target), `sponsors.py`, `contributions.py` (with receipts and
letters), `budget.py` (an event's budget lines), `exports.py`; `shared.py` holds the roles and labels."""
from flask import Blueprint

bp = Blueprint("sponsors", __name__, url_prefix="/funding")

# One module per resource; importing them registers their views on `bp`.
from . import budget, contributions, exports, overview, sponsors  # noqa: E402,F401
