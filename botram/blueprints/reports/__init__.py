"""The reports surface: the regency view, the event report (print, XLSX), paper survey entry, desk hours."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import routes  # noqa: E402,F401
