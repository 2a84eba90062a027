"""The API's own description: GET /api/v1/openapi.json."""
from flask import jsonify

from . import bp
from .auth import api_public
from .openapi import document


@bp.get("/openapi.json")
@api_public
def openapi_document():
    """The OpenAPI 3.1 document describing every /api/v1 route."""
    return jsonify(document())
