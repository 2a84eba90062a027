"""The JSON API under /api/v1 (docs/architecture.md, stable interfaces): devices and the regency's data portal.

Every route module registers its views on `bp`; add a new module with one line in ROUTE_MODULES. A view
declares its body, query and answers with the pydantic models of `schemas.py` through `spec.api_spec.validate`,
which both checks them and writes /api/v1/openapi.json (tests/test_api_openapi.py fails for a route without it).
Auth, CSRF and JSON errors are wired once here for the whole blueprint.
"""
from importlib import import_module

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

ROUTE_MODULES = (
    "openapi_routes",
    "events_routes",
    "queue_routes",
    "funding_routes",
    "feedback_routes",
    "field_routes",
    "booking_routes",
)

from .auth import protect_api_blueprint  # noqa: E402
from .errors import register_error_handlers  # noqa: E402
from .idempotency import enable_idempotency  # noqa: E402

protect_api_blueprint(bp)  # credentials first: a replayed answer is only ever given to the same caller
enable_idempotency(bp)
register_error_handlers(bp)

for _module in ROUTE_MODULES:
    import_module(f"{__name__}.{_module}")
