"""The reports surface: the regency view, the event report (print, XLSX), paper survey entry, desk hours."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import charts, routes  # noqa: E402,F401

# The funding pages (sponsors blueprint) draw their share bar with the same chart code.
bp.add_app_template_global(charts.share_bar, "share_bar_svg")
