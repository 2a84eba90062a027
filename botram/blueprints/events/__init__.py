"""The events surface: coordinators plan BOTRAM days, their desks and hours; finance reads them."""
from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")

from . import routes, live  # noqa: E402,F401
