"""The survey surface: the citizen's SKM survey on the phone (QR on the ticket) and a staff-signed-in kiosk."""
from flask import Blueprint

bp = Blueprint("survey", __name__, url_prefix="/survey")

from . import routes  # noqa: E402,F401
