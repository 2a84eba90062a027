"""The API's own description: GET /api/v1/openapi.json, built by spec.py from the routes' own declarations."""
from flask import jsonify

from . import bp
from .auth import api_public
from .schemas import OpenApiDocument
from .spec import TAGS, answers, api_spec, document


@bp.get("/openapi.json")
@api_public
@api_spec.validate(resp=answers(200, OpenApiDocument, description="The OpenAPI 3.1 document."),
                   tags=[TAGS["meta"]], operation_id="getOpenApi")
def openapi_document():
    """This document"""
    return jsonify(document())
