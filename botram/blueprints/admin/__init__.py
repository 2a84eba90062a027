"""The admin surface: users and their device tokens, agencies (OPD), the service catalogue, life-event packages,
the voice-call clips, the thermal printers."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import crest, messages, printers, routes, voice  # noqa: E402,F401
