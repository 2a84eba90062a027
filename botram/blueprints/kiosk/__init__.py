"""The self-service ticket kiosk (anjungan antrean mandiri) at the entrance: touch only, opened by a kiosk's
device token (docs/operations.md, "Kiosk")."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

from . import routes  # noqa: E402,F401
