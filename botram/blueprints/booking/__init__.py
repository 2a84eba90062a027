"""Citizens' booking pages (no sign-in): book a place from the schedule, see, change or cancel it."""
from flask import Blueprint

bp = Blueprint("booking", __name__)

from . import routes  # noqa: E402,F401
