"""Rows in and out of a field bundle (docs/field-sync.md): each travelling row as JSON keyed by its UUID.

A row leaves with every column but its integer key; a foreign key `x_id` leaves as `x`, the UUID of the row
it points to. On the way in, UUIDs are turned back into this database's integer keys. Everything here runs
with Core statements inside the caller's unit of work (an event of 1,000 visits is ~10,000 rows).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import (Agency, ApiToken, AuditLog, Booking, BookingPlan, BookingQuota, BookingWindow, Desk, Event,
                       LifeEventPackage, Outbox, OutboxStatus, PackageService, Printer, Region, Requirement, Service,
                       Step, SurveyResponse, User, Visit, booking_service, desk_service)
from ...permissions import KIOSK_DEVICE_ROLES
from ...models.types import UTCDateTime
from ..privacy import personal_number, redact
from .envelope import BundleError

CHUNK = 500


@dataclass(frozen=True)
class Spec:
    model: type
    fks: dict[str, str] = field(default_factory=dict)  # column -> table it points to
    skip: tuple[str, ...] = ()                         # columns that stay where they are

    @property
    def table(self) -> sa.Table:
        return self.model.__table__


SPECS: dict[str, Spec] = {
    "agency": Spec(Agency),
    "service": Spec(Service, {"agency_id": "agency"}),
    "requirement": Spec(Requirement, {"service_id": "service"}),
    "life_event_package": Spec(LifeEventPackage),
    "user": Spec(User, {"agency_id": "agency"}, skip=("last_login_at",)),
    # queue_version is this database's own counter of screen refreshes
    "event": Spec(Event, {"created_by_id": "user"}, skip=("queue_version",)),
    "desk": Spec(Desk, {"event_id": "event", "agency_id": "agency"}),
    "visit": Spec(Visit, {"event_id": "event", "busy_desk_id": "desk", "created_by_id": "user"}),
    "step": Spec(Step, {"visit_id": "visit", "event_id": "event", "service_id": "service", "desk_id": "desk",
                        "served_by_id": "user", "transferred_from_id": "step"}),
    "survey_response": Spec(SurveyResponse, {"visit_id": "visit", "event_id": "event", "entered_by_id": "user"}),
    "audit_log": Spec(AuditLog, {"user_id": "user", "event_id": "event"}),
    # A kiosk's device: when it was last used, and how its printer last answered, are each install's own.
    "api_token": Spec(ApiToken, {"user_id": "user"}, skip=("last_used_at",)),
    "printer": Spec(Printer, {"token_id": "api_token"}, skip=("last_error", "last_checked_at")),
    # Bookings made on the server travel so reception can check them in on the laptop: the phone, name and NIK
    # with them, because reception finds a booking by phone and the ticket takes the name and NIK. The hash of
    # the address a booking came from only throttles bookings where they are made: it stays.
    "booking_plan": Spec(BookingPlan, {"event_id": "event"}),
    "booking_window": Spec(BookingWindow, {"plan_id": "booking_plan", "event_id": "event"}),
    "booking_quota": Spec(BookingQuota, {"window_id": "booking_window", "service_id": "service"}),
    "booking": Spec(Booking, {"event_id": "event", "window_id": "booking_window",
                              "package_id": "life_event_package", "visit_id": "visit"}, skip=("origin",)),
}
BOOKING = ("booking_plan", "booking_window", "booking_quota", "booking")
CATALOGUE = ("agency", "service", "requirement", "life_event_package")
QUEUE = ("visit", "step", "survey_response")
# Ids an audit entry names in its detail, and the table each points to: they travel as UUIDs.
DETAIL_REFS = {"step_id": "step", "desk_id": "desk", "visit_id": "visit", "service_id": "service",
               "to_service_id": "service", "from_service_id": "service", "event_id": "event", "user_id": "user"}
AUDIT_ENTITIES = ("agency", "service", "user", "event", "desk", "visit", "step", "survey_response", "booking")


def damaged() -> BundleError:
    return BundleError(_l("Isi bundel tidak sesuai formatnya: tidak ada yang disimpan."), field="file")


# ------------------------------------------------------------------------------------------------ ids <-> uuids


def id_to_uuid(name: str, ids: Iterable[int] | None = None) -> dict[int, str]:
    """{id: uuid} of a table: all of it (catalogue, users) or just `ids`."""
    table = SPECS[name].table
    query = sa.select(table.c.id, table.c.uuid)
    if ids is None:
        return dict(db.session.execute(query).all())
    ids = sorted(set(i for i in ids if i is not None))
    found: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(db.session.execute(query.where(table.c.id.in_(ids[start:start + CHUNK]))).all())
    return found


def public_text(text: str | None) -> str:
    """The board's running text as it may arrive from another install: under the same guard as the form
    (events.set_running_text), but a day's check-in is not refused for it: the numbers are blanked instead."""
    text = redact(text or "")
    return "" if personal_number(text) else text


def uuid_to_id(name: str, uuids: Iterable[str] | None = None) -> dict[str, int]:
    table = SPECS[name].table
    query = sa.select(table.c.uuid, table.c.id)
    if uuids is None:
        return dict(db.session.execute(query).all())
    uuids = sorted(set(u for u in uuids if u))
    found: dict[str, int] = {}
    for start in range(0, len(uuids), CHUNK):
        found.update(db.session.execute(query.where(table.c.uuid.in_(uuids[start:start + CHUNK]))).all())
    return found


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _from_json(column: sa.Column, value):
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time in a bundle")
        return moment
    if isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    return value


# ------------------------------------------------------------------------------------------------------ export


def dump(name: str, rows: list, maps: dict[str, dict[int, str]]) -> list[dict]:
    """Rows (Core mappings) as JSON-ready dicts; `maps[table]` gives the UUID of every key they point to."""
    spec = SPECS[name]
    out = []
    for row in rows:
        item = {}
        for column in spec.table.c:
            key = column.name
            if key == "id" or key in spec.skip:
                continue
            value = row[key]
            if key in spec.fks:
                item[key[:-3]] = None if value is None else maps[spec.fks[key]][value]
            else:
                item[key] = _jsonable(value)
        out.append(item)
    return out


def select_rows(name: str, *where) -> list:
    table = SPECS[name].table
    return [row._mapping for row in db.session.execute(sa.select(table).where(*where).order_by(table.c.id))]


def export_catalogue() -> dict[str, list[dict]]:
    maps = {name: id_to_uuid(name) for name in ("agency", "service", "requirement", "life_event_package")}
    parts = {name: dump(name, select_rows(name), maps) for name in CATALOGUE}
    items: dict[int, list[str]] = {}
    for package_id, service_id in db.session.execute(
            sa.select(PackageService.package_id, PackageService.service_id).order_by(PackageService.package_id,
                                                                                      PackageService.position)):
        items.setdefault(package_id, []).append(maps["service"][service_id])
    for row, item in zip(select_rows("life_event_package"), parts["life_event_package"]):
        item["services"] = items.get(row["id"], [])
    return parts


def _desk_services(desk_ids: list[int], service_uuids: dict[int, str]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {desk_id: [] for desk_id in desk_ids}
    if desk_ids:
        for desk_id, service_id in db.session.execute(
                sa.select(desk_service.c.desk_id, desk_service.c.service_id)
                .where(desk_service.c.desk_id.in_(desk_ids)).order_by(desk_service.c.service_id)):
            found[desk_id].append(service_uuids[service_id])
    return found


def export_event(event_id: int, *, users: list[int] | None, with_audit: bool) -> dict[str, list[dict]]:
    """The event, its desks and its queue (and, for a check-in, its audit entries); the users they name.

    `users`: the ids of the users to send in full (a checkout); None sends only the UUID and username of
    each user the rows name (a check-in: the server's users win, the laptop only points at them)."""
    event_rows = select_rows("event", Event.id == event_id)
    desk_rows = select_rows("desk", Desk.event_id == event_id)
    visit_rows = select_rows("visit", Visit.event_id == event_id)
    step_rows = select_rows("step", Step.event_id == event_id)
    survey_rows = select_rows("survey_response", SurveyResponse.event_id == event_id)
    audit_rows = select_rows("audit_log", AuditLog.event_id == event_id) if with_audit else []

    maps = {"event": {event_id: event_rows[0]["uuid"]},
            "desk": {row["id"]: row["uuid"] for row in desk_rows},
            "visit": {row["id"]: row["uuid"] for row in visit_rows},
            "step": {row["id"]: row["uuid"] for row in step_rows},
            "survey_response": {row["id"]: row["uuid"] for row in survey_rows},
            "agency": id_to_uuid("agency"), "service": id_to_uuid("service"),
            "requirement": id_to_uuid("requirement")}
    named = {row["created_by_id"] for row in event_rows} | {row["created_by_id"] for row in visit_rows} \
        | {row["served_by_id"] for row in step_rows} | {row["entered_by_id"] for row in survey_rows} \
        | {row["user_id"] for row in audit_rows} | set(users or ())
    maps["user"] = id_to_uuid("user", named)

    parts = {"event": dump("event", event_rows, maps), "desk": dump("desk", desk_rows, maps)}
    services = _desk_services([row["id"] for row in desk_rows], maps["service"])
    for row, item in zip(desk_rows, parts["desk"]):
        item["services"] = services[row["id"]]
    parts["visit"] = dump("visit", visit_rows, maps)
    parts["step"] = dump("step", step_rows, maps)
    for item in parts["step"]:
        presented = item["requirements_presented"]
        if presented is not None:
            item["requirements_presented"] = [maps["requirement"][r] for r in presented
                                              if r in maps["requirement"]]
    parts["survey_response"] = dump("survey_response", survey_rows, maps)
    parts.update(_export_bookings(event_id, maps))
    if with_audit:
        parts["audit_log"] = _dump_audit(audit_rows, maps)
        parts["outbox"] = export_messages(event_id)
    if users is None:
        parts["user"] = [{"uuid": uuid, "username": username} for uuid, username in db.session.execute(
            sa.select(User.uuid, User.username).where(User.id.in_(list(maps["user"]))).order_by(User.id))]
    else:
        parts["user"] = dump("user", select_rows("user", User.id.in_(users)), maps)
    return parts


def _export_bookings(event_id: int, maps: dict[str, dict[int, str]]) -> dict[str, list[dict]]:
    """The event's booking plan, windows, quotas and bookings (+ `services`: UUIDs); fills `maps["booking"]`."""
    plan_rows = select_rows("booking_plan", BookingPlan.event_id == event_id)
    window_rows = select_rows("booking_window", BookingWindow.event_id == event_id)
    quota_rows = select_rows("booking_quota", BookingQuota.window_id.in_([row["id"] for row in window_rows]))
    booking_rows = select_rows("booking", Booking.event_id == event_id)
    maps["booking_plan"] = {row["id"]: row["uuid"] for row in plan_rows}
    maps["booking_window"] = {row["id"]: row["uuid"] for row in window_rows}
    maps["booking"] = {row["id"]: row["uuid"] for row in booking_rows}
    maps.setdefault("life_event_package", id_to_uuid("life_event_package"))
    parts = {"booking_plan": dump("booking_plan", plan_rows, maps),
             "booking_window": dump("booking_window", window_rows, maps),
             "booking_quota": dump("booking_quota", quota_rows, maps),
             "booking": dump("booking", booking_rows, maps)}
    services: dict[int, list[str]] = {row["id"]: [] for row in booking_rows}
    if booking_rows:
        for booking_id, service_id in db.session.execute(
                sa.select(booking_service.c.booking_id, booking_service.c.service_id)
                .where(booking_service.c.booking_id.in_(list(services)))
                .order_by(booking_service.c.booking_id, booking_service.c.service_id)):
            services[booking_id].append(maps["service"][service_id])
    for row, item in zip(booking_rows, parts["booking"]):
        item["services"] = services[row["id"]]
    return parts


MESSAGE_COLUMNS = ("kind", "dedupe_key", "payload", "status", "attempts", "next_attempt_at", "last_error",
                   "created_at", "sent_at")


def export_messages(event_id: int) -> list[dict]:
    """A check-in carries the laptop's messages to citizens (docs/outbox.md): their dedupe keys name steps by
    UUID, so what the laptop sent is known as sent on the server and never goes twice; what it could not send
    goes on from the server's outbox."""
    table = Outbox.__table__
    found = db.session.execute(sa.select(*[table.c[name] for name in MESSAGE_COLUMNS]).where(
        table.c.event_id == event_id, table.c.kind.startswith("message.")).order_by(table.c.id))
    return [{key: _jsonable(value) for key, value in row._mapping.items()} for row in found]


def _dump_audit(rows: list, maps: dict[str, dict[int, str]]) -> list[dict]:
    unknown = {"user": set(), "service": set(), "agency": set()}
    for row in rows:
        for key, target in DETAIL_REFS.items():
            value = (row["detail"] or {}).get(key)
            if target in unknown and isinstance(value, int) and value not in maps[target]:
                unknown[target].add(value)
        if row["entity"] in unknown and row["entity_id"] is not None:
            unknown[row["entity"]].add(row["entity_id"])
    for target, ids in unknown.items():
        maps[target].update(id_to_uuid(target, ids))
    out = dump("audit_log", rows, maps)
    for row, item in zip(rows, out):
        entity_map = maps.get(row["entity"]) if row["entity"] in AUDIT_ENTITIES else None
        item.pop("entity_id")
        item["entity_ref"] = entity_map.get(row["entity_id"]) if entity_map is not None else None
        refs = {}
        for key, value in (row["detail"] or {}).items():
            target = DETAIL_REFS.get(key)
            if target and isinstance(value, int) and not isinstance(value, bool) and value in maps.get(target, {}):
                refs[key] = maps[target][value]
        item["detail_refs"] = refs
    return out


# ------------------------------------------------------------------------------------------------------ import


class Applier:
    """Writes the parts of one bundle into this database; counts new and changed rows per table."""

    def __init__(self) -> None:
        self.new: dict[str, int] = {}
        self.updated: dict[str, int] = {}

    @property
    def changed(self) -> bool:
        return any(self.new.values()) or any(self.updated.values())

    def _count(self, counter: dict[str, int], name: str, amount: int) -> None:
        if amount:
            counter[name] = counter.get(name, 0) + amount

    # -- one table ----------------------------------------------------------------------------------------

    def load(self, name: str, item: dict, refs: dict[str, dict[str, int]], *, optional=("user",)) -> dict:
        """A bundle row as this database's column values: UUIDs of other rows turned into integer keys.
        A user this database does not know becomes no one (the server's users win); any other unknown row
        refuses the bundle."""
        spec = SPECS[name]
        values = {}
        for column in spec.table.c:
            key = column.name
            if key == "id" or key in spec.skip:
                continue
            if key in spec.fks:
                target = spec.fks[key]
                ref = item[key[:-3]]
                if ref is None:
                    values[key] = None
                elif ref in refs[target]:
                    values[key] = refs[target][ref]
                elif target in optional or key == "transferred_from_id":
                    values[key] = None
                else:
                    raise BundleError(_l("Bundel menunjuk %(what)s yang tidak ada di basis data ini (katalog atau "
                                         "kegiatan server berbeda): tidak ada yang disimpan.", what=target),
                                      field="file")
            elif key in item:
                values[key] = _from_json(column, item[key])
        return values

    def upsert(self, name: str, rows: list[dict], existing: dict[str, dict], *,
               update: Iterable[str] | None = None, insert: bool = True) -> None:
        """Insert the rows whose UUID is new, update the columns in `update` (all given) that differ."""
        table = SPECS[name].table
        fresh, changes = [], []
        for values in rows:
            current = existing.get(values["uuid"])
            if current is None:
                if insert:
                    fresh.append(values)
                continue
            keys = values.keys() if update is None else [k for k in update if k in values]
            diff = {key: values[key] for key in keys if current.get(key) != values[key]}
            if diff:
                changes.append((current["id"], diff))
        if fresh:
            db.session.execute(table.insert(), fresh)
        for row_id, diff in changes:
            db.session.execute(sa.update(table).where(table.c.id == row_id).values(**diff))
        self._count(self.new, name, len(fresh))
        self._count(self.updated, name, len(changes))

    @staticmethod
    def existing(name: str, *where) -> dict[str, dict]:
        return {row["uuid"]: dict(row) for row in select_rows(name, *where)}

    def by_natural(self, name: str, rows: list[dict], natural: tuple[str, ...]) -> dict[str, dict]:
        """Existing rows for incoming UUIDs, matched by UUID, else by a natural key (a laptop seeded on its own
        has the same agency codes and usernames under other UUIDs: it takes the server's)."""
        current = self.existing(name)
        natural_index = {tuple(row[k] for k in natural): row for row in current.values()}
        matched = {}
        for values in rows:
            row = current.get(values["uuid"]) or natural_index.get(tuple(values.get(k) for k in natural))
            if row is not None:
                matched[values["uuid"]] = row
        return matched

    # -- the server's side wins: catalogue and users --------------------------------------------------------

    def catalogue(self, parts: dict[str, list[dict]]) -> dict[str, dict[str, int]]:
        refs: dict[str, dict[str, int]] = {}
        agencies = [self.load("agency", item, refs) for item in parts["agency"]]
        self.upsert("agency", agencies, self.by_natural("agency", agencies, ("code",)))
        refs["agency"] = uuid_to_id("agency")
        services = [self.load("service", item, refs) for item in parts["service"]]
        self.upsert("service", services, self.by_natural("service", services, ("code",)))
        refs["service"] = uuid_to_id("service")
        requirements = [self.load("requirement", item, refs) for item in parts["requirement"]]
        self.upsert("requirement", requirements,
                    self.by_natural("requirement", requirements, ("service_id", "position")))
        refs["requirement"] = uuid_to_id("requirement")
        packages = [self.load("life_event_package", item, refs) for item in parts["life_event_package"]]
        self.upsert("life_event_package", packages, self.by_natural("life_event_package", packages, ("code",)))
        refs["life_event_package"] = uuid_to_id("life_event_package")
        for item in parts["life_event_package"]:
            package_id = refs["life_event_package"][item["uuid"]]
            wanted = [refs["service"][s] for s in item["services"] if s in refs["service"]]
            have = list(db.session.scalars(sa.select(PackageService.service_id).where(
                PackageService.package_id == package_id).order_by(PackageService.position)))
            if have != wanted:
                db.session.execute(sa.delete(PackageService).where(PackageService.package_id == package_id))
                if wanted:
                    db.session.execute(sa.insert(PackageService), [
                        {"package_id": package_id, "service_id": s, "position": i} for i, s in enumerate(wanted)])
                self._count(self.updated, "life_event_package", 1)
        return refs

    def users(self, items: list[dict], refs: dict[str, dict[str, int]], *, full: bool) -> None:
        if full:
            users = [self.load("user", item, refs, optional=("agency",)) for item in items]
            self.upsert("user", users, self.by_natural("user", users, ("username",)))
        refs["user"] = uuid_to_id("user", [item["uuid"] for item in items])

    # -- the event --------------------------------------------------------------------------------------------

    def event(self, item: dict, refs: dict[str, dict[str, int]], *, full: bool) -> int:
        values = self.load("event", item, refs)
        for code in (values.get("kecamatan_code"), values.get("desa_code")):
            if code is not None and db.session.get(Region, code) is None:
                raise BundleError(_l("Wilayah %(code)s tidak dikenal di basis data ini: jalankan `botram init` "
                                     "dulu.", code=code), field="file")
        existing = self.existing("event", Event.uuid == values["uuid"])
        if not full and not existing:
            raise BundleError(_l("Kegiatan dalam bundel ini tidak ada di server ini: tidak ada yang disimpan."),
                              field="file")
        values["running_text"] = public_text(values.get("running_text"))
        # A check-in brings the day as the laptop ran it: status and running text (desks come separately).
        self.upsert("event", [values], existing, update=None if full else ("status", "running_text"))
        event_id = db.session.scalar(sa.select(Event.id).where(Event.uuid == values["uuid"]))
        refs["event"] = {values["uuid"]: event_id}
        return event_id

    def desks(self, items: list[dict], event_id: int, refs: dict[str, dict[str, int]]) -> None:
        desks = [self.load("desk", item, refs) for item in items]
        self.upsert("desk", desks, self.existing("desk", Desk.event_id == event_id))
        refs["desk"] = uuid_to_id("desk", [d["uuid"] for d in desks])
        for item in items:
            desk_id = refs["desk"][item["uuid"]]
            wanted = sorted(refs["service"][s] for s in item["services"] if s in refs["service"])
            have = sorted(db.session.scalars(sa.select(desk_service.c.service_id)
                                             .where(desk_service.c.desk_id == desk_id)))
            if have != wanted:
                db.session.execute(sa.delete(desk_service).where(desk_service.c.desk_id == desk_id))
                if wanted:
                    db.session.execute(sa.insert(desk_service),
                                       [{"desk_id": desk_id, "service_id": s} for s in wanted])
                self._count(self.updated, "desk", 1)

    # -- the queue: the bundle's side wins, except that purged personal data stays purged ---------------------

    def queue(self, parts: dict[str, list[dict]], event_id: int, refs: dict[str, dict[str, int]]) -> None:
        current_visits = self.existing("visit", Visit.event_id == event_id)
        visits = [self.load("visit", item, refs) for item in parts["visit"]]
        taken = {row["code"]: row["uuid"] for row in current_visits.values()}
        purged: set[str] = set()
        for values in visits:
            holder = taken.get(values["code"])
            if holder is not None and holder != values["uuid"]:
                raise BundleError(_l("Nomor antrean %(code)s sudah dipakai kunjungan lain di kegiatan ini: data "
                                     "kegiatan berbeda di kedua sisi. Tidak ada yang disimpan.",
                                     code=values["code"]), field="file")
            current = current_visits.get(values["uuid"])
            mark = (current or {}).get("pii_purged_at") or values.get("pii_purged_at")
            if mark is not None:
                values.update(name=None, nik=None, phone=None, pii_purged_at=mark)
                purged.add(values["uuid"])
        self.upsert("visit", visits, current_visits)
        refs["visit"] = uuid_to_id("visit", [v["uuid"] for v in visits]) if visits else {}
        purged_ids = {refs["visit"][u] for u in purged}

        current_steps = self.existing("step", Step.event_id == event_id)
        refs["step"] = {uuid: row["id"] for uuid, row in current_steps.items()}
        requirement_ids = refs.get("requirement") or uuid_to_id("requirement")
        steps = []
        for item in parts["step"]:
            values = self.load("step", item, refs)
            if values["requirements_presented"] is not None:
                values["requirements_presented"] = [requirement_ids[r] for r in values["requirements_presented"]
                                                    if r in requirement_ids]
            if values["visit_id"] in purged_ids:
                values["note"] = None
            steps.append(values)
        # A transfer points at an earlier step of the same bundle: set once every step has its key.
        self.upsert("step", [{**v, "transferred_from_id": None} if v["uuid"] not in current_steps else v
                             for v in steps], current_steps)
        refs["step"] = uuid_to_id("step", [s["uuid"] for s in steps]) if steps else {}
        links = {refs["step"][item["uuid"]]: refs["step"].get(item["transferred_from"])
                 for item in parts["step"] if item["transferred_from"] and item["uuid"] not in current_steps}
        for step_id, from_id in links.items():
            db.session.execute(sa.update(Step).where(Step.id == step_id).values(transferred_from_id=from_id))

        current_surveys = self.existing("survey_response", SurveyResponse.event_id == event_id)
        surveys = []
        for item in parts["survey_response"]:
            values = self.load("survey_response", item, refs)
            if values["visit_id"] in purged_ids and values.get("comment"):
                values["comment"] = redact(values["comment"])
            if values.get("next_desa_code") and db.session.get(Region, values["next_desa_code"]) is None:
                values["next_desa_code"] = None
            surveys.append(values)
        self.upsert("survey_response", surveys, current_surveys)
        refs["survey_response"] = uuid_to_id("survey_response", [s["uuid"] for s in surveys]) if surveys else {}

    def bookings(self, parts: dict[str, list[dict]], event_id: int, refs: dict[str, dict[str, int]]) -> None:
        """The event's booking plan, windows, quotas and bookings as the bundle has them (the side that ran the
        day checked bookings in); after the queue, since a checked-in booking names its visit. A window or quota
        the bundle no longer has is removed when no booking holds it. Purged personal data stays purged."""
        if "life_event_package" not in refs:
            refs["life_event_package"] = uuid_to_id("life_event_package")
        plans = [self.load("booking_plan", item, refs) for item in parts["booking_plan"]]
        self.upsert("booking_plan", plans, self.existing("booking_plan", BookingPlan.event_id == event_id))
        refs["booking_plan"] = uuid_to_id("booking_plan", [p["uuid"] for p in plans])

        windows = [self.load("booking_window", item, refs) for item in parts["booking_window"]]
        current_windows = self.existing("booking_window", BookingWindow.event_id == event_id)
        self.upsert("booking_window", windows, current_windows)
        refs["booking_window"] = uuid_to_id("booking_window", [w["uuid"] for w in windows])

        event_windows = sa.select(BookingWindow.id).where(BookingWindow.event_id == event_id)
        quotas = [self.load("booking_quota", item, refs) for item in parts["booking_quota"]]
        current_quotas = self.existing("booking_quota", BookingQuota.window_id.in_(event_windows))
        gone_quotas = [row["id"] for uuid, row in current_quotas.items() if uuid not in {q["uuid"] for q in quotas}]
        if gone_quotas:  # before the upsert: a (window, service) pair may come back under a new UUID
            db.session.execute(sa.delete(BookingQuota).where(BookingQuota.id.in_(gone_quotas)))
            self._count(self.updated, "booking_quota", len(gone_quotas))
        self.upsert("booking_quota", quotas, {u: r for u, r in current_quotas.items() if r["id"] not in gone_quotas})

        current_bookings = self.existing("booking", Booking.event_id == event_id)
        bookings = [self.load("booking", item, refs) for item in parts["booking"]]
        # codes and tokens are unique over every event: one held by another booking means diverged data
        holders = dict(db.session.execute(sa.select(Booking.code, Booking.uuid).where(
            Booking.code.in_([b["code"] for b in bookings] or [""]))).all())
        holders.update(db.session.execute(sa.select(Booking.token, Booking.uuid).where(
            Booking.token.in_([b["token"] for b in bookings] or [""]))).all())
        for values in bookings:
            for key in ("code", "token"):
                holder = holders.get(values[key])
                if holder is not None and holder != values["uuid"]:
                    raise BundleError(_l("Kode pemesanan %(code)s sudah dipakai pemesanan lain di basis data ini: "
                                         "tidak ada yang disimpan.", code=values["code"]), field="file")
            mark = (current_bookings.get(values["uuid"]) or {}).get("pii_purged_at") or values.get("pii_purged_at")
            if mark is not None:
                values.update(name=None, nik=None, phone=None, pii_purged_at=mark)
        self.upsert("booking", bookings, current_bookings)
        refs["booking"] = uuid_to_id("booking", [b["uuid"] for b in bookings])
        have: dict[int, list[int]] = {booking_id: [] for booking_id in refs["booking"].values()}
        if have:
            for booking_id, service_id in db.session.execute(
                    sa.select(booking_service.c.booking_id, booking_service.c.service_id)
                    .where(booking_service.c.booking_id.in_(list(have)))):
                have[booking_id].append(service_id)
        for item in parts["booking"]:
            booking_id = refs["booking"][item["uuid"]]
            wanted = sorted(refs["service"][s] for s in item["services"] if s in refs["service"])
            if sorted(have[booking_id]) != wanted:
                db.session.execute(sa.delete(booking_service).where(booking_service.c.booking_id == booking_id))
                if wanted:
                    db.session.execute(sa.insert(booking_service),
                                       [{"booking_id": booking_id, "service_id": s} for s in wanted])
                if item["uuid"] in current_bookings:
                    self._count(self.updated, "booking", 1)

        held = set(db.session.scalars(sa.select(Booking.window_id).where(Booking.event_id == event_id)))
        kept = set(refs["booking_window"].values())
        gone_windows = [row["id"] for row in current_windows.values() if row["id"] not in kept | held]
        if gone_windows:
            db.session.execute(sa.delete(BookingQuota).where(BookingQuota.window_id.in_(gone_windows)))
            db.session.execute(sa.delete(BookingWindow).where(BookingWindow.id.in_(gone_windows)))
            self._count(self.updated, "booking_window", len(gone_windows))

    def messages(self, items: list[dict], event_id: int) -> None:
        """The laptop's outbox rows of the event: new keys are added; a row sent on the laptop is marked sent
        here too (a pending copy here must not go again); nothing sent here is turned back."""
        table = Outbox.__table__
        current = dict(db.session.execute(sa.select(table.c.dedupe_key, table.c.status).where(
            table.c.dedupe_key.in_([item["dedupe_key"] for item in items] or [""]))).all())
        fresh, sent = [], []
        for item in items:
            values = {name: _from_json(table.c[name], item.get(name)) for name in MESSAGE_COLUMNS}
            if not str(values["kind"]).startswith("message.") or not isinstance(values["payload"], dict):
                raise damaged()
            status = current.get(values["dedupe_key"])
            if status is None:
                fresh.append({**values, "event_id": event_id, "claimed_until": None})
            elif values["status"] == OutboxStatus.SENT and status != OutboxStatus.SENT:
                sent.append(values)
        if fresh:
            db.session.execute(table.insert(), fresh)
        for values in sent:
            db.session.execute(sa.update(table).where(table.c.dedupe_key == values["dedupe_key"]).values(
                status=OutboxStatus.SENT, sent_at=values["sent_at"], claimed_until=None))
        self._count(self.new, "outbox", len(fresh))
        self._count(self.updated, "outbox", len(sent))

    def audit(self, items: list[dict], event_id: int, refs: dict[str, dict[str, int]]) -> None:
        """Audit entries are facts: new ones are added, none is ever changed."""
        known = set(db.session.scalars(sa.select(AuditLog.uuid).where(AuditLog.event_id == event_id)))
        others = {name: uuid_to_id(name) for name in ("agency", "service") if name not in refs}
        lookup = {**others, **refs}
        fresh = []
        for item in items:
            if item["uuid"] in known:
                continue
            values = self.load("audit_log", item, refs)
            entity_map = lookup.get(item["entity"], {})
            values["entity_id"] = entity_map.get(item["entity_ref"]) if item.get("entity_ref") else None
            detail = dict(values.get("detail") or {}) or None
            for key, ref in (item.get("detail_refs") or {}).items():
                if detail is not None and key in detail:
                    detail[key] = lookup.get(DETAIL_REFS[key], {}).get(ref)
            values["detail"] = detail
            fresh.append(values)
        if fresh:
            db.session.execute(AuditLog.__table__.insert(), fresh)
        self._count(self.new, "audit_log", len(fresh))


# ------------------------------------------------------------------------------------------------ kiosk devices
#
# The kiosks travel with a checkout (docs/field-sync.md, "The kiosks at the venue"): the kiosk accounts among the
# users sent, every device token of theirs (the hash only; revoked ones too, so a revocation reaches a laptop
# that already has the token) and the printers attached to those tokens. A check-in brings back only what the
# laptop revoked: a kiosk lost at the venue is locked out at the regency too.

# Columns of a printer the laptop keeps once it has the printer: where the printer is reached on the venue's LAN
# (set by the admin on the laptop) and whether it is in use there. A repeated checkout does not turn them back.
PRINTER_FROM_SERVER = ("name", "paper_mm", "token_id")


def export_kiosk_devices(user_ids: list[int]) -> dict[str, list[dict]]:
    """Checkout: the device tokens of the kiosk accounts among `user_ids` and the printers attached to them."""
    kiosk_ids = list(db.session.scalars(sa.select(User.id).where(
        User.id.in_(list(user_ids) or [0]), User.role.in_(KIOSK_DEVICE_ROLES))))
    token_rows = select_rows("api_token", ApiToken.user_id.in_(kiosk_ids or [0]))
    maps = {"user": id_to_uuid("user", kiosk_ids), "api_token": {row["id"]: row["uuid"] for row in token_rows}}
    printer_rows = select_rows("printer", Printer.token_id.in_(list(maps["api_token"]) or [0]))
    return {"api_token": dump("api_token", token_rows, maps), "printer": dump("printer", printer_rows, maps)}


def export_revocations() -> list[dict]:
    """Check-in: the tokens revoked on this laptop (the server ignores tokens it never sent)."""
    return [{"uuid": uuid, "revoked_at": _jsonable(at)} for uuid, at in db.session.execute(
        sa.select(ApiToken.uuid, ApiToken.revoked_at).where(ApiToken.revoked_at.is_not(None)).order_by(ApiToken.id))]


def apply_kiosk_devices(applier: Applier, parts: dict[str, list[dict]], refs: dict[str, dict[str, int]]) -> None:
    """Checkout: the server's kiosk tokens and printers. A token is matched by UUID or hash; it is never
    un-revoked (a laptop's revocation stands until it reaches the server by check-in). A printer is matched
    by UUID or name; a new one arrives whole, an existing one takes only PRINTER_FROM_SERVER."""
    tokens = [applier.load("api_token", item, refs, optional=()) for item in parts["api_token"]]
    matched = applier.by_natural("api_token", tokens, ("token_hash",))
    for values in tokens:
        current = matched.get(values["uuid"])
        if current is not None and current["revoked_at"] is not None:
            values["revoked_at"] = current["revoked_at"]
    applier.upsert("api_token", tokens, matched, update=("name", "revoked_at"))
    refs["api_token"] = {**uuid_to_id("api_token", [t["uuid"] for t in tokens]),
                         **{uuid: row["id"] for uuid, row in matched.items()}}
    printers = [applier.load("printer", item, refs, optional=()) for item in parts["printer"]]
    applier.upsert("printer", printers, applier.by_natural("printer", printers, ("name",)), update=PRINTER_FROM_SERVER)


def apply_revocations(applier: Applier, items: list[dict]) -> None:
    """Check-in: a token the laptop revoked is revoked here too; nothing else about tokens or printers
    comes back (the laptop's printer addresses are the venue's, its token use its own)."""
    table = ApiToken.__table__
    wanted = {item["uuid"]: _from_json(table.c.revoked_at, item["revoked_at"]) for item in items}
    if any(not isinstance(uuid, str) or at is None for uuid, at in wanted.items()):
        raise damaged()
    current = db.session.execute(sa.select(table.c.id, table.c.uuid).where(
        table.c.uuid.in_(list(wanted) or [""]), table.c.revoked_at.is_(None))).all()
    for row_id, uuid in current:
        db.session.execute(sa.update(table).where(table.c.id == row_id).values(revoked_at=wanted[uuid]))
    applier._count(applier.updated, "api_token", len(current))
