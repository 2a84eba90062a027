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
from ...models import (Agency, AuditLog, Desk, Event, LifeEventPackage, PackageService, Region, Requirement,
                       Service, Step, SurveyResponse, User, Visit, desk_service)
from ...models.types import UTCDateTime
from ..privacy import redact
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
}
CATALOGUE = ("agency", "service", "requirement", "life_event_package")
QUEUE = ("visit", "step", "survey_response")
# Ids an audit entry names in its detail, and the table each points to: they travel as UUIDs.
DETAIL_REFS = {"step_id": "step", "desk_id": "desk", "visit_id": "visit", "service_id": "service",
               "to_service_id": "service", "from_service_id": "service", "event_id": "event", "user_id": "user"}
AUDIT_ENTITIES = ("agency", "service", "user", "event", "desk", "visit", "step", "survey_response")


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
    if with_audit:
        parts["audit_log"] = _dump_audit(audit_rows, maps)
    if users is None:
        parts["user"] = [{"uuid": uuid, "username": username} for uuid, username in db.session.execute(
            sa.select(User.uuid, User.username).where(User.id.in_(list(maps["user"]))).order_by(User.id))]
    else:
        parts["user"] = dump("user", select_rows("user", User.id.in_(users)), maps)
    return parts


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
