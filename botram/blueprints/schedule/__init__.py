"""The public schedule (no sign-in): coming BOTRAM days, what to bring, the iCalendar feed, the A4 poster."""
from flask import Blueprint

bp = Blueprint("schedule", __name__)

from . import routes  # noqa: E402,F401
