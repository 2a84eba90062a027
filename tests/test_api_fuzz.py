"""Hostile values in every field of every documented API body, found by walking /api/v1/openapi.json.

Every operation with a `requestBody` is found in the document (none is listed here by hand: a new documented
body fails `test_every_documented_body_has_a_valid_example` until it has a valid example below). For each
property of its schema, and each key of a nested object or item of an array, one value at a time is replaced
by a hostile one while the rest of the body stays valid: huge and negative integers, numbers as text,
Arabic-Indic digits, floats, null, booleans, lists, objects, 5,000 characters, markup, emoji, empty text.

Expected: never a 500; an error is JSON `{"error", "detail"}` with a status the document lists for the
operation; a refusal saves nothing. Bodies whose success uses up their target (finishing a step, answering a
survey) get a fresh target after each success, so the survey is answered for a visit that was served.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botram.domain.tokens import issue_token
from botram.extensions import db

from .factories import make_event, service
from .hypothesis_profiles import fuzz_settings
from .conftest import fingerprint
from .worlds import FuzzWorld, build_fuzz_world, called_step, serve_one

UNSUR = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan")
HOSTILE_JSON: list[tuple[str, object]] = [
    ("beyond 2^63", 2**63 + 7), ("below -2^63", -(2**63) - 7), ("beyond 2^31", 2**31), ("negative", -1),
    ("zero", 0), ("400-digit integer", int("7" * 400)), ("float", 1.5), ("huge float", 1e308),
    ("null", None), ("true", True), ("empty list", []), ("object", {"a": 1}), ("list of huge ids", [2**70]),
    ("list of text", ["1"]), ("digits as text", "1" * 20), ("Arabic-Indic digits", "٣٢١٦"),
    ("superscript two", "²"), ("5,000 characters", "Bekasi " * 715), ("markup", "<script>alert(1)</script>"),
    ("emoji", "🙂🇮🇩"), ("empty text", ""), ("whitespace only", "  \t "),
]


def valid_bodies(world: FuzzWorld) -> dict[str, tuple[str, dict]]:
    """operationId → (role whose token calls it, a valid body)."""
    return {
        "issueVisit": ("resepsionis", {"services": [service("KTP-REKAM").id], "priority": "none",
                                        "name": "Siti", "nik": "3216014512900003", "phone": "081234567890",
                                        "notify": True, "locale": "en"}),
        "finishStep": ("admin", {"outcome": "done", "note": "lengkap", "requirements": []}),
        "submitSurvey": (None, {"scores": {k: 4 for k in UNSUR}, "comment": "Cepat", "sex": "P"}),
        "checkoutEvent": ("admin", {"device": "laptop-uji"}),
        "startFieldUpload": ("admin", {"size": 10, "sha256": "a" * 64}),
        "reopenStep": ("admin", {"reason": "Salah tekan selesai"}),
        "createBooking": (None, _booking_body(world)),
    }


def _booking_body(world: FuzzWorld) -> dict:
    """A valid booking of an announced event tomorrow (made once per world)."""
    from .booking_world import booked_event, window_at

    if "booking_event" not in world.ids:
        event = booked_event({"KTP-REKAM": 12, "KK": 12})
        world.ids["booking_event"], world.ids["booking_window"] = event.id, window_at(event, 14).id
    return {"event_id": world.ids["booking_event"], "window_id": world.ids["booking_window"],
            "services": [service("KK").id], "package_id": None, "phone": "081234567890", "name": "Siti",
            "nik": "3216014512900003"}


def path_for(operation_id: str, template: str, world: FuzzWorld, fresh: bool) -> str:
    """The operation's URL with real ids; `fresh` gets a new target after a success used one up."""
    ids = world.ids
    if operation_id == "finishStep":
        ids.setdefault("finish_step", ids["step_id"])  # the visitor build_world() called to desk 1
        if fresh:
            ids["finish_step"] = called_step(ids["desk_id"], "KTP-REKAM", world)
        return template.replace("{step_id}", str(ids["finish_step"]))
    if operation_id == "submitSurvey":
        if fresh:
            world.served.append(serve_one(world))
        return template.replace("{token}", world.served[-1].public_token)
    if operation_id == "reopenStep":
        # a served visitor's step; reopened, it waits again, so a success needs another one
        if fresh or "reopen_step" not in ids:
            ids["reopen_step"] = serve_one(world).steps[0].id
        return template.replace("{step_id}", str(ids["reopen_step"]))
    if operation_id == "checkoutEvent":
        # an event of its own: a checked-out event refuses queue writes, which would stop issueVisit's walk
        ids.setdefault("checkout_event", make_event("Acara lapangan").id)
        return template.replace("{event_id}", str(ids["checkout_event"]))
    return template.replace("{event_id}", str(ids["event"]))


def resolve(schema: dict, schemas: dict) -> dict:
    """The schema with `$ref`s inlined and an optional field's `anyOf: [X, null]` read as X, all the way down,
    so the walk below sees every property, nested key and list of the body."""
    if "$ref" in schema:
        return resolve(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        return resolve({**{k: v for k, v in schema.items() if k != "anyOf"}, **branches[0]}, schemas)
    resolved = dict(schema)
    if "properties" in schema:
        resolved["properties"] = {name: resolve(prop, schemas) for name, prop in schema["properties"].items()}
    if "items" in schema:
        resolved["items"] = resolve(schema["items"], schemas)
    return resolved


def documented_bodies(client) -> list[tuple[str, str, str, dict, set[int]]]:
    """(operationId, method, path template, schema, documented statuses) of every operation with a body."""
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    found = []
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody")
            if not body:
                continue
            if "application/json" not in body["content"]:
                continue  # bytes (a field-sync chunk): tests/test_api_field.py sends bad ones
            schema = resolve(body["content"]["application/json"]["schema"], schemas)
            statuses = {int(code) for code in operation["responses"]}
            found.append((operation["operationId"], method.upper(), template, schema, statuses))
    return found


def variants(schema: dict, valid: dict):
    """(where, body) pairs: one property, nested key or list item at a time set to each hostile value."""
    for name, prop in schema.get("properties", {}).items():
        for label, value in HOSTILE_JSON:
            yield f"{name}={label}", {**valid, name: value}
        if prop.get("type") == "object" and prop.get("properties"):
            for key in prop["properties"]:
                for label, value in HOSTILE_JSON:
                    yield f"{name}.{key}={label}", {**valid, name: {**valid.get(name, {}), key: value}}
        if prop.get("type") == "array":
            for label, value in HOSTILE_JSON:
                yield f"{name}[0]={label}", {**valid, name: [value]}
    yield "body=not an object", ["services"]
    yield "body=missing required", {}


def _encode(body) -> bytes:
    # Python writes 1e308 * 10 as Infinity, which is not JSON; a device could still send it
    return json.dumps(body, allow_nan=True).encode()


class ApiFuzzer:
    def __init__(self, client):
        self.client = client
        self.world = build_fuzz_world()
        self.headers = {}
        for role in ("resepsionis", "admin"):
            user = db.session.get(__import__("botram.models", fromlist=["User"]).User, self.world.ids["users"][role])
            self.headers[role] = {"Authorization": f"Bearer {issue_token(user, f'fuzz {role}')[1]}",
                                  "Content-Type": "application/json"}
        db.session.commit()
        self.problems: list[str] = []
        self.statuses: dict[int, int] = {}

    def send(self, operation_id, method, template, statuses, role, body, where, fresh=False) -> bool:
        url = path_for(operation_id, template, self.world, fresh)
        before = fingerprint()
        response = self.client.open(url, method=method, data=_encode(body),
                                    headers=self.headers.get(role, {"Content-Type": "application/json"}))
        status = response.status_code
        self.statuses[status] = self.statuses.get(status, 0) + 1
        tag = f"{method} {url} [{operation_id}] {where}"
        if status >= 500:
            self.problems.append(f"{tag}: {status} {response.get_data(as_text=True)[:200]}")
            return False
        if status not in statuses:
            self.problems.append(f"{tag}: {status} is not among the documented {sorted(statuses)}")
        if status >= 400:
            payload = response.get_json(silent=True)
            if not isinstance(payload, dict) or not {"error", "detail"} <= set(payload):
                self.problems.append(f"{tag}: {status} without a JSON error body")
            elif re.search(r"[A-Za-z]", str(payload["detail"])) is None:
                self.problems.append(f"{tag}: an empty detail")
            after = fingerprint()
            changed = sorted(t for t in after if after[t] != before.get(t))
            if changed:
                self.problems.append(f"{tag}: refused ({status}) but rows changed in {changed}")
            return False
        return True


@pytest.fixture
def api(client, app):
    return ApiFuzzer(client)


def test_every_documented_body_has_a_valid_example(api):
    bodies = valid_bodies(api.world)
    documented = documented_bodies(api.client)
    assert {op for op, *_ in documented} == set(bodies), "a documented request body without a valid example"
    for operation_id, method, template, _schema, statuses in documented:
        role, body = bodies[operation_id]
        assert api.send(operation_id, method, template, statuses, role, body, "valid"), \
            (operation_id, api.problems)
    assert not api.problems, api.problems


def test_the_walk_reaches_every_field_of_every_body(api):
    """Each property, each key of a nested object and each list's items get hostile values (a walk that stopped
    at a `$ref` or an optional field's `anyOf` would pass while fuzzing nothing)."""
    reached = {op: {where.split("=")[0] for where, _ in variants(schema, valid_bodies(api.world)[op][1])}
               for op, _m, _t, schema, _s in documented_bodies(api.client)}
    assert {"services", "services[0]", "priority", "name", "nik", "phone", "notify", "locale"} <= reached["issueVisit"]
    assert {"outcome", "note", "requirements", "requirements[0]", "amount"} <= reached["finishStep"]
    assert {"scores", "comment", "sex", *(f"scores.{key}" for key in UNSUR)} <= reached["submitSurvey"]


def test_every_field_of_every_documented_body_survives_hostile_values(api):
    bodies = valid_bodies(api.world)
    refused = accepted = 0
    for operation_id, method, template, schema, statuses in documented_bodies(api.client):
        role, valid = bodies[operation_id]
        fresh = False
        for where, body in variants(schema, valid):
            ok = api.send(operation_id, method, template, statuses, role, body, where, fresh=fresh)
            fresh = ok
            accepted += ok
            refused += not ok
    assert not api.problems, "\n".join(api.problems)
    # the values reached the parsers: most were refused with a JSON error, some (text) were accepted
    assert refused > 150 and accepted > 20, (refused, accepted, api.statuses)
    assert api.statuses.get(422, 0) > 100, api.statuses


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6)


def test_random_json_in_random_fields(api):
    bodies = valid_bodies(api.world)
    documented = documented_bodies(api.client)
    fresh: dict[str, bool] = {}  # per operation: its last success used up its target

    @given(data=st.data())
    @fuzz_settings(scale=2.0)
    def run(data):
        operation_id, method, template, schema, statuses = data.draw(st.sampled_from(documented), label="operation")
        role, valid = bodies[operation_id]
        names = sorted(schema.get("properties", {}))
        name = data.draw(st.sampled_from(names), label="field")
        value = data.draw(JSON_VALUES, label="value")
        before = len(api.problems)
        fresh[operation_id] = api.send(operation_id, method, template, statuses, role, {**valid, name: value},
                                       f"{name}={value!r:.60}", fresh=fresh.get(operation_id, False))
        assert len(api.problems) == before, api.problems[-1]

    run()
