"""The reception surface: register a visitor, print the ticket, manage today's tickets."""
from flask import Blueprint

bp = Blueprint("reception", __name__, url_prefix="/reception")

from . import routes  # noqa: E402,F401
