"""The public surface: the citizen's ticket status page (no sign-in, no personal data)."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import routes  # noqa: E402,F401
