"""Field sync: one event carried between the regency server and a field laptop (docs/field-sync.md).

- `export_checkout` (server): the event is lent to a laptop, and its bundle holds what the laptop needs to run
  it alone: the catalogue, the event, its desks, the users who work it (with their password hashes; device
  tokens only of the kiosks, with their printers), any queue it already has and its bookings, so reception
  checks them in offline. While it is out, the server refuses queue writes for it (`ensure_queue_writable`).
- `export_checkin` (laptop): the event's day, whole each time: desks, visits, steps, survey answers, bookings
  (checked in on the laptop, or not) and audit entries, and the tokens revoked on the laptop (nothing else
  about devices). The server keeps what it has by UUID, so a second check-in brings only what is new or changed.
- `import_bundle` (either side): the kind comes from the manifest; one unit of work, so a bundle is applied
  whole or not at all, and the same bundle twice changes nothing.

Who wins: the server's catalogue, users and funding (funding never travels); the bundle's queue data for the
event it carries. A visit whose personal data was purged on either side stays purged.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field as dc_field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import CheckoutRole, Desk, Event, EventStatus, FieldCheckout, Install, User
from ...permissions import AGENCY_BOUND_ROLES, FIELD_ROLES
from .. import Conflict, DomainError, NotFound, audit
from ..clock import now, to_wib
from .. import summaries
from ..uow import bump_version, unit_of_work
from . import rows
from .envelope import FORMAT, BundleError, check_format, open_sealed, require_key, seal
from .schema import check_schema, schema_revision

__all__ = ["BundleError", "Checkout", "ImportReport", "checkout_of", "checkouts_of", "ensure_queue_writable",
           "export_checkin", "export_checkout", "field_key", "held_checkout", "import_bundle", "release_checkout"]

KIND_CHECKOUT = "checkout"
KIND_CHECKIN = "checkin"
MAX_PART = 512 * 1024 * 1024  # a decompressed part beyond this is refused (a zip bomb would be one)


@dataclass
class Checkout:
    event_id: int
    device: str
    since: datetime
    checkins: int = 0
    last_checkin_at: datetime | None = None
    peer_install: str | None = None

    @property
    def since_wib(self) -> datetime:
        return to_wib(self.since)


@dataclass
class ImportReport:
    kind: str
    event_id: int
    counts: dict[str, int]          # new rows per table
    unchanged: bool
    updated: dict[str, int] = dc_field(default_factory=dict)  # changed rows per table
    released: bool = False          # a final check-in (the laptop closed the event) gave the event back


def field_key() -> str:
    """The regency's passphrase for bundles (BOTRAM_FIELD_KEY), empty when not configured."""
    return (current_app.config.get("BOTRAM_FIELD_KEY") or "") if has_app_context() else ""


# ------------------------------------------------------------------------------------------------ checkouts


def _active(event_id: int, role: CheckoutRole) -> FieldCheckout | None:
    return db.session.scalar(sa.select(FieldCheckout).where(
        FieldCheckout.event_id == event_id, FieldCheckout.role == role.value,
        FieldCheckout.released_at.is_(None)).order_by(FieldCheckout.id.desc()).limit(1))


def _view(row: FieldCheckout | None) -> Checkout | None:
    if row is None:
        return None
    return Checkout(row.event_id, row.device, row.since, row.checkins, row.last_checkin_at, row.peer_install)


def checkout_of(event_id: int) -> Checkout | None:
    """Server: the laptop the event is lent to, and since when (UTC); None when it is here."""
    return _view(_active(event_id, CheckoutRole.OUT))


def checkouts_of(event_ids) -> dict[int, Checkout]:
    """Server: the events among `event_ids` that are on a laptop (for lists)."""
    ids = list(event_ids)
    if not ids:
        return {}
    found = db.session.scalars(sa.select(FieldCheckout).where(
        FieldCheckout.event_id.in_(ids), FieldCheckout.role == CheckoutRole.OUT,
        FieldCheckout.released_at.is_(None)).order_by(FieldCheckout.id))
    return {row.event_id: _view(row) for row in found}


def held_checkout(event_id: int) -> Checkout | None:
    """Laptop: the event came from a server (its install in `peer_install`) and goes back by check-in."""
    return _view(_active(event_id, CheckoutRole.HELD))


def ensure_queue_writable(event_id: int) -> None:
    """The one guard of every queue write: refused on the server while the event is on a laptop, so that the
    two never diverge (the laptop's day comes back by check-in)."""
    row = _active(event_id, CheckoutRole.OUT)
    if row is not None:
        raise Conflict(_l("Kegiatan ini sedang dijalankan di laptop %(device)s sejak %(since)s WIB: antrean hanya "
                          "dapat diubah di laptop itu sampai datanya dikembalikan (check-in) atau koordinator "
                          "mengambil kembali kegiatan ini.",
                          device=row.device, since=to_wib(row.since).strftime("%d-%m-%Y %H.%M")), field="event")


@unit_of_work
def release_checkout(event_id: int, *, reason: str, by_user_id: int | None = None) -> Checkout:
    """The coordinator takes the event back without a check-in (a lost or broken laptop): queue writes are
    allowed here again, and a later check-in of that laptop is refused (the two sides may have diverged)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(_l("Tuliskan alasan mengambil kembali kegiatan dari laptop."), field="reason")
    row = _active(event_id, CheckoutRole.OUT)
    if row is None:
        raise NotFound(_l("Kegiatan ini tidak sedang di laptop."), field="event")
    row.released_at = now()
    row.release_reason = reason[:500]
    audit.record("field.release", "event", event_id, user_id=by_user_id, event_id=event_id, device=row.device)
    bump_version(event_id)
    return _view(row)


# ----------------------------------------------------------------------------------------------- the install


def _install_uuid(*, create: bool) -> str | None:
    found = db.session.scalar(sa.select(Install.uuid).order_by(Install.id).limit(1))
    if found is None and create:
        install = Install()
        db.session.add(install)
        db.session.flush()
        found = install.uuid
    return found


# ---------------------------------------------------------------------------------------------------- export


def _working_users(event_id: int) -> list[int]:
    """Who travels to the laptop (permissions.FIELD_ROLES): admins, coordinators, reception, the officers of the
    agencies that have a desk at the event, and the kiosks' accounts (their tokens and printers go with them)."""
    agencies = sa.select(Desk.agency_id).where(Desk.event_id == event_id)
    return list(db.session.scalars(sa.select(User.id).where(User.active.is_(True), sa.or_(
        User.role.in_(FIELD_ROLES - AGENCY_BOUND_ROLES),
        sa.and_(User.role.in_(FIELD_ROLES & AGENCY_BOUND_ROLES), User.agency_id.in_(agencies)))).order_by(User.id)))


def _check_device(device: str | None) -> str:
    name = " ".join((device or "").split())
    if not name or len(name) > 80:
        raise DomainError(_l("Nama laptop wajib diisi, paling banyak 80 karakter."), field="device")
    return name


@unit_of_work
def _checkout(event_id: int, device: str, by_user_id: int | None) -> tuple[dict, dict]:
    event = db.session.get(Event, event_id, with_for_update=True)
    if event is None:
        raise NotFound(_l("Kegiatan tidak ditemukan."), field="event")
    if event.status == EventStatus.CLOSED:
        raise DomainError(_l("Kegiatan yang sudah ditutup tidak dapat dibawa ke laptop."), field="event")
    if _active(event_id, CheckoutRole.HELD) is not None:
        raise DomainError(_l("Kegiatan ini dipinjam dari server kabupaten: kembalikan ke sana, jangan dipinjamkan "
                             "lagi dari laptop ini."), field="event")
    row = _active(event_id, CheckoutRole.OUT)
    if row is not None and row.device != device:
        raise Conflict(_l("Kegiatan ini sudah di laptop %(device)s sejak %(since)s WIB. Lakukan check-in dari laptop "
                          "itu, atau ambil kembali kegiatan ini dulu.",
                          device=row.device, since=to_wib(row.since).strftime("%d-%m-%Y %H.%M")), field="device")
    install = _install_uuid(create=True)
    if row is None:
        row = FieldCheckout(event_id=event_id, role=CheckoutRole.OUT, device=device, since=now(),
                            by_user_id=by_user_id)
        db.session.add(row)
        db.session.flush()
        audit.record("field.checkout", "event", event_id, user_id=by_user_id, event_id=event_id, device=device)
        bump_version(event_id)
    users = _working_users(event_id)
    parts = {**rows.export_catalogue(), **rows.export_event(event_id, users=users, with_audit=False),
             **rows.export_kiosk_devices(users)}
    manifest = _manifest(KIND_CHECKOUT, event, install, None, device)
    return manifest, parts


def export_checkout(event_id: int, *, device: str, key: str, by_user_id: int | None = None) -> bytes:
    """Server: lend the event to the laptop `device` and return its encrypted bundle (docs/field-sync.md).
    Exporting again to the same laptop gives a fresh bundle of the same checkout."""
    require_key(key)
    manifest, parts = _checkout(event_id, _check_device(device), by_user_id)
    return seal(_pack(manifest, parts), key)


@unit_of_work(audited=False)
def _next_checkin(event_id: int) -> int:
    """The next number of this checkout's check-ins. The server applies a check-in only when its number is above
    the last one it applied: a laptop's clock may be wrong, its count of bundles cannot go back.

    Bookkeeping, not audited: an audit entry here would travel in the bundle as news, and the server audits the
    import it makes of it."""
    held = _active(event_id, CheckoutRole.HELD)
    if held is None:
        raise BundleError(_l("Kegiatan ini tidak dipinjam dari server kabupaten di laptop ini: tidak ada yang "
                             "dapat dikembalikan."), field="event")
    held.sequence += 1
    return held.sequence


def export_checkin(event_id: int, *, key: str) -> bytes:
    """Laptop: the event's whole day as an encrypted bundle for the server it came from, numbered."""
    require_key(key)
    sequence = _next_checkin(event_id)
    held = _active(event_id, CheckoutRole.HELD)
    event = db.session.get(Event, event_id)
    parts = rows.export_event(event_id, users=None, with_audit=True)
    parts["api_token"] = rows.export_revocations()
    manifest = _manifest(KIND_CHECKIN, event, _install_uuid(create=False), held.peer_install, held.device)
    return seal(_pack({**manifest, "sequence": sequence}, parts), key)


def _manifest(kind: str, event: Event, source: str | None, target: str | None, device: str) -> dict:
    return {"format": FORMAT, "app": "botram", "kind": kind, "schema": schema_revision(),
            "source_install": source, "target_install": target, "device": device, "created_at": now().isoformat(),
            "event": {"uuid": event.uuid, "title": event.title, "date": event.date.isoformat(),
                      "status": event.status}}


def _canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _pack(manifest: dict, parts: dict[str, list[dict]]) -> bytes:
    blobs = {name: _canonical(items) for name, items in sorted(parts.items())}
    manifest = {**manifest, "counts": {name: len(items) for name, items in sorted(parts.items())},
                "sha256": {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
        for name, blob in blobs.items():
            archive.writestr(f"parts/{name}.json", blob)
    return buffer.getvalue()


REQUIRED_PARTS = {
    KIND_CHECKOUT: ("agency", "service", "requirement", "life_event_package", "user", "event", "desk", "visit",
                    "step", "survey_response", *rows.BOOKING, "api_token", "printer"),
    KIND_CHECKIN: ("user", "event", "desk", "visit", "step", "survey_response", *rows.BOOKING, "audit_log",
                   "outbox", "api_token"),
}


def _unpack(payload: bytes) -> tuple[dict, dict[str, list[dict]]]:
    """Manifest and parts, each part checked against the manifest's SHA-256 and count."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            check_format(manifest.get("format"))
            kind = manifest.get("kind")
            if kind not in REQUIRED_PARTS or not isinstance(manifest.get("schema"), str) or (
                    kind == KIND_CHECKIN and (type(manifest.get("sequence")) is not int or manifest["sequence"] < 1)):
                raise rows.damaged()
            check_schema(manifest["schema"], made_by=_l("server kabupaten") if kind == KIND_CHECKOUT
                         else _l("laptop lapangan"))
            parts = {}
            for name in REQUIRED_PARTS[kind]:
                info = archive.getinfo(f"parts/{name}.json")
                if info.file_size > MAX_PART:
                    raise rows.damaged()
                blob = archive.read(info)
                if hashlib.sha256(blob).hexdigest() != manifest["sha256"][name]:
                    raise rows.damaged()
                parts[name] = json.loads(blob)
                if not isinstance(parts[name], list) or len(parts[name]) != manifest["counts"][name]:
                    raise rows.damaged()
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError):
        raise rows.damaged() from None
    if len(parts["event"]) != 1:
        raise rows.damaged()
    return manifest, parts


# ---------------------------------------------------------------------------------------------------- import


def import_bundle(data: bytes, *, key: str, by_user_id: int | None = None) -> ImportReport:
    """Apply a bundle made by `export_checkout` or `export_checkin`, whole or not at all (docs/field-sync.md).

    Refused with `BundleError` before anything is written: a wrong key, a changed or truncated file, a format
    newer than this code, a bundle made here or meant for another server, a check-in for an event that is not
    lent out (or was taken back). Applying the same bundle again changes nothing (`unchanged`)."""
    manifest, parts = _unpack(open_sealed(data, key))  # the slow part (scrypt) outside the writer lock
    try:
        return _apply(manifest, parts, by_user_id)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # The payload is authenticated, so this is a bundle from an incompatible build, not an attack.
        raise rows.damaged() from exc


@unit_of_work
def _apply(manifest: dict, parts: dict[str, list[dict]], by_user_id: int | None) -> ImportReport:
    kind = manifest["kind"]
    here = _install_uuid(create=False)
    if here is not None and manifest["source_install"] == here:
        raise BundleError(_l("Bundel ini dibuat di instalasi ini sendiri: impor di laptop atau server tujuannya."),
                          field="file")
    applier = rows.Applier()
    if kind == KIND_CHECKOUT:
        refs = applier.catalogue(parts)
        applier.users(parts["user"], refs, full=True)
        rows.apply_kiosk_devices(applier, parts, refs)  # a repeated checkout too: the server's revocations
        event_id = db.session.scalar(sa.select(Event.id).where(Event.uuid == parts["event"][0]["uuid"]))
        held = _active(event_id, CheckoutRole.HELD) if event_id else None
        if held is not None and held.peer_install == manifest["source_install"]:
            # This laptop already runs the event: its day wins; only the server's catalogue and users are taken.
            return _finish(applier, kind, event_id, manifest, by_user_id)
        event_id = applier.event(parts["event"][0], refs, full=True)
    else:
        if here is None or manifest["target_install"] != here:
            raise BundleError(_l("Bundel ini untuk server lain: kegiatan ini dipinjam dari server yang berbeda. "
                                 "Tidak ada yang disimpan."), field="file")
        made = datetime.fromisoformat(manifest["created_at"])
        sequence = manifest["sequence"]
        event_id = db.session.scalar(sa.select(Event.id).where(Event.uuid == parts["event"][0]["uuid"]))
        latest = db.session.scalar(sa.select(FieldCheckout).where(
            FieldCheckout.event_id == event_id, FieldCheckout.role == CheckoutRole.OUT,
            FieldCheckout.device == manifest["device"]).order_by(FieldCheckout.id.desc()).limit(1)) \
            if event_id else None
        if latest is not None and sequence <= latest.sequence:
            # The laptop's data only grows: a bundle numbered at or below the last one applied holds nothing newer,
            # and applying it would turn the server back to that hour (whatever the laptop's clock said).
            return ImportReport(kind, event_id, {}, True)
        refs = {name: rows.uuid_to_id(name) for name in ("agency", "service", "requirement")}
        applier.users(parts["user"], refs, full=False)
        event_id = applier.event(parts["event"][0], refs, full=False)
    applier.desks(parts["desk"], event_id, refs)
    applier.queue(parts, event_id, refs)
    applier.bookings(parts, event_id, refs)
    if kind == KIND_CHECKIN:
        applier.audit(parts["audit_log"], event_id, refs)
        applier.messages(parts["outbox"], event_id)
        rows.apply_revocations(applier, parts["api_token"])

    released = False
    if kind == KIND_CHECKOUT:
        held = _active(event_id, CheckoutRole.HELD)
        if held is None or held.peer_install != manifest["source_install"] or held.device != manifest["device"]:
            if held is not None:
                held.released_at = now()
                held.release_reason = "checkout baru"
            _install_uuid(create=True)
            db.session.add(FieldCheckout(event_id=event_id, role=CheckoutRole.HELD, device=manifest["device"],
                                         peer_install=manifest["source_install"], since=now(),
                                         by_user_id=by_user_id))
            applier.new["field_checkout"] = 1
    elif applier.changed:
        out = _active(event_id, CheckoutRole.OUT)
        if out is None or out.device != manifest["device"]:
            raise BundleError(_l("Kegiatan ini tidak sedang dipinjamkan ke laptop (sudah dikembalikan atau diambil "
                                 "kembali koordinator): data laptop tidak diterima agar kedua sisi tidak berbeda. "
                                 "Tidak ada yang disimpan."), field="file")
        out.checkins += 1
        out.sequence = sequence
        out.last_checkin_at = made  # when the laptop says it made it: shown, never used to order
        if parts["event"][0]["status"] == EventStatus.CLOSED:
            out.released_at = now()
            out.release_reason = "check-in akhir"
            released = True

    return _finish(applier, kind, event_id, manifest, by_user_id, released)


def _finish(applier: rows.Applier, kind: str, event_id: int, manifest: dict, by_user_id: int | None,
            released: bool = False) -> ImportReport:
    if not applier.changed:
        return ImportReport(kind, event_id, {}, True)
    audit.record(f"field.import_{kind}", "event", event_id, user_id=by_user_id, event_id=event_id,
                 device=manifest["device"], new=applier.new, updated=applier.updated)
    bump_version(event_id)
    # A check-in of a closed event (the laptop's last one, or a late one) changes what its summary counts.
    summaries.refresh(event_id)
    db.session.expire_all()
    return ImportReport(kind, event_id, dict(applier.new), False, dict(applier.updated), released)
