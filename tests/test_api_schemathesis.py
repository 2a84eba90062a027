"""Property-based API testing with schemathesis against /api/v1/openapi.json, in process (WSGI).

Every operation of the document gets generated requests, valid ones and invalid ones (wrong types,
missing fields, odd path ids), with a device token of an admin, over demo-like rows whose ids are the
small numbers hypothesis tries first. Every response must be in the document (status code, content type,
body schema) and none may be a 500. Examples are limited per operation so the file runs in well under a
minute. (schemathesis's pytest plugin does not load with this pytest, so the operations' hypothesis
strategies are driven directly.)
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis.errors import Unsatisfiable
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from botram.domain.tokens import issue_token
from botram.extensions import db

from .worlds import build_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    return operations


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_api_conforms_to_its_openapi_document(app, mode):
    world = build_world()
    _token, raw = issue_token(world.users["admin"], "schemathesis")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    seen: dict[str, set[int]] = {}

    for operation in _operations(app):
        @given(case=operation.as_strategy(generation_mode=mode))
        # randomised like every hypothesis test: the run's seed (printed in the header) replays it
        @settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            seen.setdefault(operation.label, set()).add(response.status_code)

        try:
            run()
        except Unsatisfiable:
            # Nothing of it can be made invalid: a free-text path token and no body or query (GET or DELETE
            # /bookings/{token}, POST /bookings/{code}/check-in). Its valid requests run in the positive mode.
            if mode != "negative" or operation.body or any(p.location != "path" for p in operation.iter_parameters()):
                raise
    assert seen, "no operation was exercised"
    # the positive run reaches real rows, not only 404s: some operation answered 2xx with data
    if mode is GenerationMode.POSITIVE:
        assert any(code < 300 for codes in seen.values() for code in codes)
