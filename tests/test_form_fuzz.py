"""Hostile input in every field of every form, found by walking the pages every role reaches.

No form is listed here: `form_walk.walk` signs in as each role (and as a citizen with a served ticket), follows
the links of every page, and collects each <form> with the URL it posts to and the values the page put in it.
Then, field by field, one field at a time gets a hostile value while the others keep valid values:

- digit runs of 20, 40 and 400 digits, ids beyond 2^63 and negative ones, Arabic-Indic digits and a
  superscript two (`str.isdigit()` says yes, `int()` says no), 5,000 characters, markup, NUL, emoji,
  an empty value and whitespace only.

Expected: never a 500. A refusal (4xx) saves nothing (no row added or removed in any table, the record being
edited unchanged) and, for a 422, shows an Indonesian message next to that field. A success (200/303) stored
what was sent, normalised as documented (whitespace trimmed or collapsed, rupiah parsed by
botram.domain.money, phone numbers in E.164, codes upper-case...).

Forms whose success uses up their target (finishing a step, answering a survey, receiving a pledge) get a
fresh target after each success, so every value is judged against a target in the right state: the survey is
posted against a visit that was actually served, and its scores are parsed rather than stopped by a 409.

Each form starts from a freshly reset database, so one form's successes do not change another's world.
Hypothesis (profiles in tests/hypothesis_profiles.py) then draws further values for randomly chosen fields.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pytest
import sqlalchemy as sa
from flask import g
from hypothesis import given
from hypothesis import strategies as st

from botram.domain import DomainError, money, queue
from botram.domain.clock import today_wib
from botram.extensions import db

from .conftest import PASSWORD, CsrfClient, reset_database
from .db_snapshot import Snapshots
from .factories import service
from .booking_world import booking_to_check_in
from .form_walk import Form, walk
from .hypothesis_profiles import fuzz_settings
from .worlds import (ROLES, FuzzWorld, budget_line, build_fuzz_world, called_step, pledge, release_new_bookings,
                     serve_one)

HOSTILE: list[tuple[str, str]] = [
    ("20 digits", "1" * 20),
    ("40 digits", "9" * 40),
    ("400 digits", "7" * 400),
    ("Arabic-Indic digits", "٣٢١٦٠١٤٥١٢٩٠٠٠٠٠٣"),
    ("superscript two", "²"),
    ("beyond 2^63", str(2**63 + 7)),
    ("negative", "-1"),
    ("below -2^63", str(-(2**63) - 7)),
    ("5,000 characters", ("Bekasi " * 715)[:5000]),
    ("markup", "<script>alert(1)</script>"),
    ("NUL", "ab\x00cd"),
    ("emoji", "🙂🇮🇩 Bekasi"),
    ("empty", ""),
    ("whitespace only", " \t  "),
]
# A choice (select, radio, checkbox, hidden value, button) is not typed: the values that probe how it is read
# as an id or a key are enough there, which keeps the run short.
CHOICE_KINDS = {"select", "select-multiple", "radio", "checkbox", "hidden", "submit", "color"}
CHOICE_PROBES = {"20 digits", "400 digits", "Arabic-Indic digits", "superscript two", "beyond 2^63", "negative",
                 "markup", "empty"}
# WTForms' English defaults: a refusal must speak Indonesian.
ENGLISH = re.compile(r"Not a valid|This field is required|Invalid (value|choice|input)|Field must be|"
                     r"is not a valid|Number must be")
FIELD_ERROR = re.compile(r'<div class="field-error" id="([^"]+)-error"[^>]*>([^<]*)</div>')
ALERT = re.compile(r'<div class="alert error[^"]*" role="alert">([^<]*)</div>')


def error_toast(response) -> list[str]:
    """An htmx answer's refusal shown as a toast (web.toast): the message a form of hidden values shows."""
    try:
        toast = json.loads(response.headers.get("HX-Trigger") or "{}").get("botram:toast") or {}
    except (ValueError, AttributeError):
        return []
    return [toast["message"]] if toast.get("kind") == "error" and toast.get("message") else []
# Free text and amounts are read back after a success; choices (selects, radios, checkboxes, hidden values)
# pick among stored values, and are checked by the refusals instead.
ROUND_TRIP_KINDS = {"text", "textarea", "tel", "email", "search", "number", "date"}
# A refusal that is about another field by design: switching off one's own account is refused on the role.
MESSAGE_ELSEWHERE = {("admin.user_edit", "active"): "role"}
# One-field forms on a row of a list (reception's "Buka kembali" with its reason): the refusal is the list's
# alert, above the row the officer just used.
ROW_FORMS = {"reception.reopen"}
# Fields that do not apply to what the valid baseline records (a cash contribution has no in-kind details).
NOT_APPLICABLE = {"sponsors.contribution_create": {"category", "claimed_value", "valuation_basis", "bast_number"}}
# Forms whose success changes what the other forms stand on (the event's status or date, a desk's state, the
# signed-in admin's own account, sign-in failures that lock an account): each gets a world of its own.
# The others share one world per role, so the run stays short on PostgreSQL too.
DISRUPTIVE = {"auth.login", "auth.set_language", "events.change_status", "events.edit", "desk.set_state",
              "admin.user_edit", "field.checkout",  # a checked-out event refuses every queue write here
              "events.booking_save"}  # replacing the windows would meet the bookings reception.check_in made
# Rows a refusal may write: a failed sign-in is counted (that is how brute force is slowed down).
MAY_WRITE_ON_REFUSAL = {"auth.login": {"login_failure", "audit_log"}}
RUPIAH_COLUMNS = {"value", "claimed_value", "planned", "actual", "amount"}
# The repeated rows of a FieldList are the same field: only the first row is fuzzed.
REPEATED_ROW = re.compile(r"^\w+-[1-9]\d*-")


# ------------------------------------------------------------------------------------- valid baselines

def _today() -> str:
    return today_wib().isoformat()


# endpoint -> field -> a valid value (a callable gets the submission number and the world, for unique fields)
VALID: dict[str, dict] = {
    "auth.login": {"username": "admin", "password": PASSWORD},
    "events.create": {"title": lambda n, w: f"BOTRAM Uji {n}", "date": lambda n, w: _today(),
                      "venue": "Balai Desa Uji", "kecamatan_code": lambda n, w: w.ids["kecamatan"],
                      "desa_code": lambda n, w: w.ids["desa"]},
    "events.desk_new": {"number": lambda n, w: str(10 + n % 80), "label": "Loket uji", "agency_id": "1",
                        "service_ids": lambda n, w: str(w.ids["ktp"])},
    # later each time (an earlier time than the desk's closing is a 409), never past midnight
    "events.live_extend": {"closes": lambda n, w: f"{min(23, 17 + n // 2):02d}:{30 * (n % 2):02d}"},
    "sponsors.set_target": {"percent": "60"},
    "sponsors.sponsor_create": {"name": lambda n, w: f"PT Uji Coba {n}", "kind": "csr"},
    "sponsors.contribution_create": {"sponsor_id": lambda n, w: str(w.ids["sponsor_id"]), "value": "Rp 1.500.000",
                                     "receipt_number": lambda n, w: f"KW/{n}"},
    "sponsors.line_create": {"category": "tents", "description": "Sewa kursi", "planned": "2 jt"},
    "sponsors.line_void": {"reason": "Salah input data"},
    "sponsors.contribution_receive": {"receipt_number": lambda n, w: f"KW-R/{n}"},
    "sponsors.contribution_cancel": {"cancel_reason": "Sponsor mengundurkan diri"},
    "sponsors.contribution_void": {"reason": "Salah catat nominal"},
    "admin.user_new": {"username": lambda n, w: f"uji{n}", "name": "Pengguna Uji", "role": "resepsionis",
                       "password": "rahasia-panjang-123"},
    "admin.user_tokens": {"name": "Tombol panggil"},
    "admin.agency_new": {"code": lambda n, w: f"AG{n}", "short_name": "Uji", "name": "Instansi Uji"},
    "admin.service_new": {"agency_id": "1", "code": lambda n, w: f"SV-{n}", "name": "Layanan uji",
                          "ticket_letter": "Z"},
    "admin.requirements": {"text": "Surat pengantar RT"},
    "admin.package_new": {"code": lambda n, w: f"PK{n}", "name": "Paket uji", "services": ["1", "2"]},
    "reception.event": {"services": lambda n, w: str(w.ids["ktp"])},
    "admin.printers": {"name": lambda n, w: f"Printer uji {n}", "connection": "network", "target": "127.0.0.1:9"},
    "admin.printer_edit": {"name": lambda n, w: f"Printer ubah {n}", "connection": "network",
                           "target": "127.0.0.1:9"},
    # "incomplete": "done" with the service's required documents unticked asks first (a question, nothing saved)
    "desk.finish": {"outcome": "incomplete"},
    # a step this desk closed: served afresh each time, so a reopen never takes the survey's served visitor
    "desk.reopen": {"reason": "Salah tekan selesai", "step": lambda n, w: str(serve_one(w).steps[0].id)},
    "reception.reopen": {"reason": "Salah tekan selesai"},
    # a booking to check in, made afresh for each submission (a success uses it up)
    "reception.check_in": {"code": lambda n, w: booking_to_check_in(w.ids["event"], n)},
    # a citizen books the world's bookable event (a phone of its own each time: two active bookings per phone)
    "booking.new": {"window": lambda n, w: str(w.ids["booking_window"]), "services": lambda n, w: str(w.ids["ktp"]),
                    "phone": lambda n, w: f"0813{n:08d}"},
    "booking.change": {"window": lambda n, w: str(w.ids["booking_window"]),
                       "services": lambda n, w: str(w.ids["ktp"])},
    "field.checkout": {"device": "laptop-uji"},  # the same laptop again gets the same checkout, not a 409
    "desk.transfer": {"service": lambda n, w: str(w.ids["pbb"])},  # offered at the event, at no desk 1 serves
    "survey.kiosk": {"code": lambda n, w: w.served[-1].code},
    "reports.paper": {"code": lambda n, w: w.served[-1].code,
                      **{k: "4" for k in ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi",
                                          "perilaku", "sarana", "pengaduan")}},
    "survey.answer": {k: "4" for k in ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi",
                                       "perilaku", "sarana", "pengaduan")},
}


def free_desk(action: str, world: FuzzWorld) -> str:
    """Call-next goes to the desk kept for serving (the walked desk holds the visitor other forms act on),
    and a desk can call only when it holds no one: finish whoever that desk holds."""
    desk_id = world.ids["serving_desk"]
    held = queue.desk_current(desk_id)
    if held is not None:
        queue.finish(held.id, outcome="done", by_user_id=world.ids["users"]["admin"])
    return re.sub(r"/desk/\d+/", f"/desk/{desk_id}/", action)


def _current_target(endpoint: str, form: Form, world: FuzzWorld) -> str:
    """The walked URL in the rebuilt world: ids repeat (sequences restart), ticket tokens are random."""
    if endpoint == "desk.call_next":
        return free_desk(form.action, world)
    if endpoint == "survey.answer":
        return re.sub(r"/survey/[^/]+$", f"/survey/{world.served[-1].public_token}", form.action)
    return _own_booking(form.action, world)


def _own_booking(action: str, world: FuzzWorld) -> str:
    """A booking's page names it by its random token: the world's booking's; the booking form is the bookable
    event's (today's event has booking open too, for reception, but its windows may have begun)."""
    action = re.sub(r"^/jadwal/\d+/pesan", f"/jadwal/{world.ids['booking_event']}/pesan", action)
    return re.sub(r"^/pesan/[^/]+/", f"/pesan/{world.ids['booking_token']}/", action)


def _fresh_target(endpoint: str, form: Form, world: FuzzWorld) -> str:
    """The URL to post to next, after a success used up the previous target."""
    action = form.action
    if endpoint == "survey.answer":
        world.served.append(serve_one(world))
        return re.sub(r"/survey/[^/]+$", f"/survey/{world.served[-1].public_token}", action)
    if endpoint == "desk.call_next":
        return free_desk(action, world)
    if endpoint == "booking.new":
        release_new_bookings(world)  # the place a success took is given back
    if endpoint in ("booking.new", "booking.change", "booking.cancel"):
        return _own_booking(action, world)
    if endpoint == "reception.reopen":
        return re.sub(r"/steps/\d+/", f"/steps/{serve_one(world).steps[0].id}/", action)
    if endpoint in ("survey.kiosk", "reports.paper"):
        world.served.append(serve_one(world))
    elif endpoint in ("desk.finish", "desk.transfer"):
        desk_id = int(re.search(r"/desk/(\d+)/", action).group(1))
        code = "PBB-BAYAR" if desk_id == world.ids["pbb_desk"] else "KTP-REKAM"
        return re.sub(r"/steps/\d+/", f"/steps/{called_step(desk_id, code, world)}/", action)
    elif endpoint in ("sponsors.contribution_receive", "sponsors.contribution_cancel", "sponsors.contribution_void"):
        return re.sub(r"/contributions/\d+/", f"/contributions/{pledge(world)}/", action)
    elif endpoint == "admin.requirements":
        # a service holds at most 30 requirements: remove the one just added, so the next value is judged alone
        from botram.models import Requirement
        service_id = int(re.search(r"/services/(\d+)/", action).group(1))
        newest = db.session.scalar(sa.select(sa.func.max(Requirement.id)).where(Requirement.service_id == service_id))
        db.session.execute(sa.delete(Requirement).where(Requirement.id == newest))
        db.session.commit()
    elif endpoint in ("sponsors.line_void", "sponsors.line_edit"):
        return re.sub(r"/lines/\d+/", f"/lines/{budget_line(world)}/", action)
    return action


# ----------------------------------------------------------------------------------------- bookkeeping

URL_MODELS = {"sponsors": "sponsor", "contributions": "contribution", "lines": "budget_line", "events": "event",
              "desks": "desk", "users": "user", "agencies": "agency", "services": "service", "packages":
              "life_event_package", "steps": "step", "desk": "desk", "visits": "visit"}


def target_rows(action: str) -> dict[str, dict]:
    """The rows the URL names (`/funding/sponsors/3/edit` → sponsor 3), as column dicts."""
    rows = {}
    for segment, ident in re.findall(r"/([a-z-]+)/(\d+)(?=/|$)", action):
        name = URL_MODELS.get(segment)
        if name:
            table = db.metadata.tables[name]
            row = db.session.execute(sa.select(table).where(table.c.id == int(ident))).mappings().first()
            if row is not None:
                rows[f"{name}:{ident}"] = dict(row)
    db.session.rollback()
    return rows


_ROW_TABLES = ("audit_log", "login_session", "login_failure")


def top_ids() -> dict[str, int]:
    """The highest id of each table with one (the fingerprint hashes rows; new rows are found by id)."""
    tables = [t for t in db.metadata.sorted_tables if "id" in t.c and t.name not in _ROW_TABLES]
    tops = dict(db.session.execute(sa.union_all(*(
        sa.select(sa.literal(t.name), sa.func.coalesce(sa.func.max(t.c.id), 0)) for t in tables))).all())
    db.session.rollback()
    return tops


def new_rows(tops: dict[str, int]) -> list[tuple[str, dict]]:
    found = []
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or table.name in _ROW_TABLES:
            continue
        top = tops.get(table.name, 0)
        for row in db.session.execute(sa.select(table).where(table.c.id > top)).mappings():
            found.append((table.name, dict(row)))
    db.session.rollback()
    return found


def _collapse(text: str) -> str:
    return " ".join(text.split())


def stored_as_sent(column: str, sent: str, stored) -> bool:
    """Did the database keep what was sent, normalised as documented?"""
    blank = not sent.strip()
    if column in RUPIAH_COLUMNS:
        try:
            return stored == (None if blank else money.parse_rupiah(sent, required=False, allow_zero=True))
        except DomainError:
            return False  # the parser refuses it, yet something was stored
    if stored is None or stored == "":
        return blank
    if isinstance(stored, bool):
        return stored == (sent not in ("", "false"))
    if isinstance(stored, int):
        return sent.strip().isascii() and sent.strip().lstrip("-").isdigit() and int(sent) == stored
    if isinstance(stored, (date, datetime, time)):
        return stored.isoformat().startswith(sent.strip()[:10])
    text = str(stored)
    if column in ("phone",):
        return text.startswith("+62")
    if column in ("npwp",):
        return text.isdigit()
    return text in (sent, sent.strip(), _collapse(sent)) or text.lower() == _collapse(sent).lower() or \
        text.upper() == _collapse(sent).upper()


# ------------------------------------------------------------------------------------------ the runner

_DISCOVERED: list = []


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    submissions: int = 0
    successes: int = 0
    round_trips: int = 0
    refusals_with_message: int = 0
    statuses: dict = field(default_factory=dict)
    by_endpoint: dict = field(default_factory=dict)  # endpoint -> status -> submissions


class FormFuzzer:
    def __init__(self, app):
        self.app = app
        app.test_client_class = CsrfClient
        self.world: FuzzWorld | None = None
        self.world_of: str | None = "-"  # the role whose forms share the current world
        self.client: CsrfClient | None = None
        self.n = 0
        self.snapshots = Snapshots(db.engine)

    # -- world and sign-in
    def fresh_world(self) -> FuzzWorld:
        db.session.rollback()
        reset_database()
        self.world = build_fuzz_world()
        event = db.session.get(__import__("botram.models", fromlist=["Event"]).Event, self.world.ids["event"])
        self.world.ids.update(kecamatan=event.kecamatan_code, desa=event.desa_code, ktp=service("KTP-REKAM").id,
                              pbb=service("PBB-BAYAR").id)
        return self.world

    def client_for(self, role: str | None) -> CsrfClient:
        g.pop("csrf_token", None)  # Flask-WTF caches the token in `g`, which the app fixture's context keeps
        client = self.app.test_client()
        if role:
            response = client.post("/login", data={"username": role, "password": PASSWORD})
            assert response.status_code == 303, role
            # signing in starts a new session, and with it a new CSRF secret: take the token of a fresh page
            g.pop("csrf_token", None)
            page = client.get("/").get_data(as_text=True)
            client._token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        return client

    # -- discovery
    def discover(self) -> list[tuple[str | None, Form]]:
        """The forms each role reaches, walked once per test session: every world is built alike (ids repeat,
        ticket tokens are re-targeted by _current_target), so the walk's answer does not change."""
        if not _DISCOVERED:
            _DISCOVERED.extend(self._walk())
        self.fresh_world()
        return list(_DISCOVERED)

    def _walk(self) -> list[tuple[str | None, Form]]:
        world = self.fresh_world()
        found: dict[tuple, tuple[str | None, Form]] = {}
        anonymous_start = ["/login", f"/status/{world.served[-1].public_token}",
                           f"/survey/{world.served[-1].public_token}", f"/board/{world.ids['event']}",
                           f"/jadwal/{world.ids['booking_event']}/pesan", f"/pesan/{world.ids['booking_token']}"]
        for role in (None, *ROLES):
            client = self.client_for(role)
            forms, _pages = walk(client, anonymous_start if role is None else ["/"])
            for form in forms:
                found.setdefault(form.shape, (role, form))
        return list(found.values())

    def endpoint(self, form: Form) -> str:
        adapter = self.app.url_map.bind("localhost")
        return adapter.match(form.action.split("?")[0], method=form.method)[0]

    # -- one submission
    def baseline(self, endpoint: str, form: Form) -> dict[str, list[str]]:
        data = form.default_data()
        for name in [n for n in data if n.endswith("csrf_token")]:
            del data[name]  # the walked page's token belongs to another session; the client sends its own
        self.n += 1
        for name, value in VALID.get(endpoint, {}).items():
            value = value(self.n, self.world) if callable(value) else value
            data[name] = value if isinstance(value, list) else [value]
        return data

    def submit(self, client, endpoint: str, form: Form, action: str, name: str, value: str, label: str,
               outcome: Outcome) -> bool:
        """Post the form with `name` set to `value`; check the answer. True when it was a success."""
        data = self.baseline(endpoint, form)
        data[name] = [value]
        where = f"{form.method} {action} [{endpoint}] {name}={label!s}"
        reads = self.snapshots
        before = reads.fingerprint() if form.method == "POST" else {}
        tops = reads.read("tops", top_ids) if form.method == "POST" else {}
        targets = reads.read(("target", action), lambda: target_rows(action)) if form.method == "POST" else {}
        if form.method == "GET":
            response = client.get(action.split("?")[0], query_string=data)
        else:
            headers = {"HX-Request": "true"} if form.htmx else {}
            response = client.post(action, data=data, headers=headers)
        outcome.submissions += 1
        status = response.status_code
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        per = outcome.by_endpoint.setdefault(endpoint, {})
        per[status] = per.get(status, 0) + 1
        if status >= 500:
            outcome.problems.append(f"{where}: {status}")
            return False
        if form.method == "GET" or endpoint in ("auth.login", "auth.set_language"):
            return status < 400
        body = response.get_data(as_text=True)
        if status >= 400:
            exempt = MAY_WRITE_ON_REFUSAL.get(endpoint, set())
            after = reads.fingerprint()
            changed = {t for t in after if after[t] != before.get(t) and t not in exempt}
            if changed:
                outcome.problems.append(f"{where}: refused ({status}) but rows changed in {sorted(changed)}")
            if reads.read(("target", action), lambda: target_rows(action)) != targets:
                outcome.problems.append(f"{where}: refused ({status}) but the edited record changed")
            if status == 422:
                errors = dict(FIELD_ERROR.findall(body))
                key = re.sub(r"-\d+-\w+$", "", name)
                message = errors.get(name) or errors.get(key) or next(
                    (m for i, m in errors.items() if i.endswith("-" + name) or name.startswith(i + "_")), None)
                if message is None and (endpoint, name) in MESSAGE_ELSEWHERE:
                    message = errors.get(MESSAGE_ELSEWHERE[endpoint, name])
                if message is None and (form.fields[name].kind in ("hidden", "submit") or endpoint in ROW_FORMS):
                    # nothing on the page to stand next to: a message for the whole form
                    message = next(iter(ALERT.findall(body) + list(errors.values()) + error_toast(response)), None)
                if message is None:
                    outcome.problems.append(f"{where}: 422 without a message next to the field "
                                            f"(messages: {errors or 'none'})")
                elif ENGLISH.search(message):
                    outcome.problems.append(f"{where}: English message {message!r}")
                else:
                    outcome.refusals_with_message += 1
            return False
        outcome.successes += 1
        if form.fields[name].kind in ROUND_TRIP_KINDS and name not in NOT_APPLICABLE.get(endpoint, ()):
            self.check_round_trip(where, name, value, action, tops, outcome)
        return True

    def check_round_trip(self, where, name, value, action, tops, outcome) -> None:
        column = re.sub(r"^\w+-\d+-", "", name)
        # in a row the submission created, or in the record the URL names (a transfer keeps its note on the
        # step it moves, a new token its name on the token row, not on the user of the URL)
        candidates = [row for _t, row in new_rows(tops)] + list(target_rows(action).values())
        stored = [row[column] for row in candidates if column in row]
        if stored:
            outcome.round_trips += 1
            if not any(stored_as_sent(column, value, v) for v in stored):
                outcome.problems.append(f"{where}: stored {stored!r:.120} for {value[:60]!r}")

    # -- one form
    def fuzz_form(self, role, form: Form, values, outcome: Outcome) -> None:
        endpoint = self.endpoint(form)
        if endpoint in DISRUPTIVE or self.world_of != role:
            self.fresh_world()
            self.world_of = role if endpoint not in DISRUPTIVE else None
            self.client = self.client_for(role)
        client = self.client
        # a form another one used up its target of (a finished step, a received pledge) gets a fresh one
        action = (_fresh_target(endpoint, form, self.world) if self.world_of is not None
                  else _current_target(endpoint, form, self.world))
        # the premise of one-field-at-a-time: with every field valid, the form is accepted
        data = self.baseline(endpoint, form)
        response = (client.get(action.split("?")[0], query_string=data) if form.method == "GET" else
                    client.post(action, data=data, headers={"HX-Request": "true"} if form.htmx else {}))
        if response.status_code >= 400:
            outcome.problems.append(f"{form.method} {action} [{endpoint}]: the valid baseline is refused "
                                    f"({response.status_code}): {FIELD_ERROR.findall(response.get_data(as_text=True))}")
            return
        action = _fresh_target(endpoint, form, self.world)
        for name in fields_to_fuzz(form):
            choice = form.fields[name].kind in CHOICE_KINDS or form.method == "GET"
            for label, value in values:
                if choice and label not in CHOICE_PROBES:
                    continue
                if self.submit(client, endpoint, form, action, name, value, label, outcome):
                    action = _fresh_target(endpoint, form, self.world)
                    if endpoint == "auth.set_language":
                        client.post("/lang/id", data={"next": "/"})


def fields_to_fuzz(form: Form) -> list[str]:
    return [name for name in form.fields if not name.endswith("csrf_token") and not REPEATED_ROW.match(name)]


@pytest.fixture
def fuzzer(app):
    found = FormFuzzer(app)
    yield found
    found.snapshots.close()


def test_the_walk_reaches_every_surface(fuzzer):
    """The walk is only as good as what it reaches: every surface's main forms are found."""
    forms = fuzzer.discover()
    endpoints = {fuzzer.endpoint(form) for _role, form in forms}
    for expected in ("auth.login", "events.create", "events.desk_new", "reception.event", "desk.finish",
                     "desk.transfer", "sponsors.sponsor_create", "sponsors.contribution_create", "sponsors.line_create",
                     "sponsors.line_edit", "sponsors.set_target", "admin.user_new", "admin.service_new",
                     "admin.package_new", "survey.answer", "reports.paper", "booking.new", "booking.change",
                     "reception.check_in"):
        assert expected in endpoints, f"the walk did not reach {expected}"
    # the Bapenda desk's finish form carries the amount field
    assert any("amount" in form.fields for _role, form in forms)


# Every field of every form of every role, each with a dozen hostile values: minutes of one CPU, so the forms
# are dealt into shards that xdist's workers share (one test of minutes would hold one worker to the end).
SHARDS = 4


@pytest.mark.timeout(600)
@pytest.mark.parametrize("shard", range(SHARDS), ids=lambda n: f"shard{n + 1}of{SHARDS}")
def test_every_field_of_every_form_survives_hostile_values(fuzzer, shard):
    outcome = Outcome()
    # the forms that change the shared world come last in each role's turn
    forms = sorted(((role, form) for role, form in fuzzer.discover() if fields_to_fuzz(form)),
                   key=lambda rf: (str(rf[0]), fuzzer.endpoint(rf[1]) in DISRUPTIVE, fuzzer.endpoint(rf[1]),
                                   str(rf[1].shape)))  # the same order in every worker: each deals its own walk
    # dealt round, so each shard gets its share of every role and of the disruptive forms, still last
    for role, form in forms[shard::SHARDS]:
        fuzzer.fuzz_form(role, form, HOSTILE, outcome)
    assert not outcome.problems, "\n".join(outcome.problems)
    # the fuzzing reached its targets: values were refused with messages, and accepted ones read back
    assert outcome.refusals_with_message > 100 // SHARDS and outcome.successes > 50 // SHARDS \
        and outcome.round_trips > 50 // SHARDS, outcome
    # booking's forms were judged on their values, not stopped by its throttle (429) or a full window (409)
    mine = {fuzzer.endpoint(form) for _role, form in forms[shard::SHARDS]}
    for endpoint in {"booking.new", "booking.change", "reception.check_in"} & mine:
        statuses = outcome.by_endpoint.get(endpoint, {})
        assert sum(statuses.values()) >= 5 and not statuses.get(429), (endpoint, statuses)
    if "booking.new" in mine:
        booked = outcome.by_endpoint["booking.new"]
        assert booked.get(303, 0) >= 3 and booked.get(422, 0) >= 3 and not booked.get(409), booked


ODD = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Nd", "No", "Lo", "Mn", "So", "Zs", "Cc"]),
            max_size=30),
    st.integers().map(str),
    st.from_regex(r"(Rp ?)?-?[0-9.,]{1,30} ?(rb|jt|juta|M|miliar)?", fullmatch=True),
    st.sampled_from(["' OR '1'='1", "{{ 7*7 }}", "../../etc/passwd", "1e309", "NaN", "\u202e3216", "０１２３"]),
)


def test_random_values_in_random_fields(fuzzer):
    # the forms that change what others stand on are fuzzed above, each in a world of its own
    discovered = [(role, form) for role, form in fuzzer.discover()
                  if fields_to_fuzz(form) and fuzzer.endpoint(form) not in DISRUPTIVE]
    outcome = Outcome()
    world = fuzzer.fresh_world()
    clients = {role: fuzzer.client_for(role) for role in {role for role, _form in discovered}}
    state = {}

    @given(data=st.data())
    @fuzz_settings()
    def run(data):
        role, form = data.draw(st.sampled_from(discovered), label="form")
        name = data.draw(st.sampled_from(fields_to_fuzz(form)), label="field")
        value = data.draw(ODD, label="value")
        key = (role, form.shape)
        if key not in state:
            state[key] = (clients[role], _current_target(fuzzer.endpoint(form), form, world))
        client, action = state[key]
        endpoint = fuzzer.endpoint(form)
        before = len(outcome.problems)
        if fuzzer.submit(client, endpoint, form, action, name, value, repr(value[:40]), outcome):
            state[key] = (client, _fresh_target(endpoint, form, fuzzer.world))
            if endpoint == "auth.set_language":
                client.post("/lang/id", data={"next": "/"})
        assert len(outcome.problems) == before, outcome.problems[-1]

    run()
