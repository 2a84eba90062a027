"""The funding surface (nav "Pendanaan"): sponsors, contributions, event budgets, the APBD share, exports,
printable receipts and thank-you letters. Finance (keuangan) and admin write; the coordinator reads and sets
the yearly APBD target."""
from flask import Blueprint

bp = Blueprint("sponsors", __name__, url_prefix="/funding")

from . import routes  # noqa: E402,F401
