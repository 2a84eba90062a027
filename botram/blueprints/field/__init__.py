"""The coordinator's field-sync page: upload a laptop's bundle, see which events are out in the field,
take one back (docs/field-sync.md). The network transport for laptops is in blueprints/api/field_routes.py."""
from flask import Blueprint

bp = Blueprint("field", __name__, url_prefix="/lapangan")

from . import routes  # noqa: E402,F401
