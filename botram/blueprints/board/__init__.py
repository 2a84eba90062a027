"""The projector board: public, live, no personal data."""
from flask import Blueprint

bp = Blueprint("board", __name__, url_prefix="/board")

from . import routes, voice  # noqa: E402,F401
