"""The admin's printers: a name, how it is reached, the paper width, and what it is attached to (a kiosk's
device token or a reception computer). Which printer a kiosk or a reception computer prints on."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ApiToken, Printer, PrinterConnection, PrintJob
from .. import Conflict, DomainError, NotFound, Problems, audit
from ..uow import unit_of_work
from .transport import parse_network_target

PRINTER_FIELDS = ("name", "connection", "target", "paper_mm", "token_id", "station", "active")
PAPER_WIDTHS = (58, 80)


@dataclass
class PrinterInput:
    name: str
    connection: str
    target: str
    paper_mm: int = 80
    token_id: int | None = None
    station: str | None = None
    active: bool = True


def _check(data: PrinterInput, printer_id: int | None) -> PrinterInput:
    problems = Problems()
    name = (data.name or "").strip()
    with problems:
        if not name or len(name) > 80:
            raise DomainError(_l("Nama printer wajib diisi, paling banyak 80 karakter."), field="name")
        clash = db.session.scalar(sa.select(Printer.id).where(Printer.name == name, Printer.id != (printer_id or 0)))
        if clash:
            raise DomainError(_l("Nama printer ini sudah dipakai."), field="name")
    with problems:
        if data.connection not in {c.value for c in PrinterConnection}:
            raise DomainError(_l("Pilih jenis sambungan: jaringan, USB atau CUPS."), field="connection")
    target = (data.target or "").strip()
    with problems:
        if not target or len(target) > 200:
            raise DomainError(_l("Alamat printer wajib diisi, paling banyak 200 karakter."), field="target")
        if data.connection == PrinterConnection.NETWORK:
            try:
                parse_network_target(target)
            except ValueError:
                raise DomainError(_l("Alamat jaringan ditulis host:port, misalnya 192.168.1.50:9100."),
                                  field="target") from None
        elif data.connection == PrinterConnection.USB and not target.startswith("/dev/"):
            raise DomainError(_l("Printer USB ditulis sebagai berkas perangkat, misalnya /dev/usb/lp0."),
                              field="target")
        elif data.connection == PrinterConnection.CUPS and not target.replace("-", "").replace("_", "").isalnum():
            raise DomainError(_l("Nama antrean CUPS hanya huruf, angka, - dan _."), field="target")
    with problems:
        if data.paper_mm not in PAPER_WIDTHS:
            raise DomainError(_l("Lebar kertas 58 atau 80 mm."), field="paper_mm")
    station = (data.station or "").strip() or None
    with problems:
        if station is not None and len(station) > 80:
            raise DomainError(_l("Nama komputer resepsionis paling banyak 80 karakter."), field="station")
        if data.token_id is not None:
            token = db.session.get(ApiToken, data.token_id)
            if token is None or token.revoked_at is not None:
                raise DomainError(_l("Token perangkat tidak dikenal atau sudah dicabut."), field="token_id")
            taken = db.session.scalar(sa.select(Printer.name).where(
                Printer.token_id == data.token_id, Printer.id != (printer_id or 0), Printer.active.is_(True)))
            if taken:
                raise DomainError(_l("Token ini sudah memakai printer %(name)s.", name=taken), field="token_id")
    problems.raise_any()
    return PrinterInput(name=name, connection=data.connection, target=target, paper_mm=data.paper_mm,
                        token_id=data.token_id, station=station, active=bool(data.active))


@unit_of_work
def create_printer(data: PrinterInput, *, by_user_id: int | None = None) -> Printer:
    clean = _check(data, None)
    printer = Printer(**vars(clean))
    db.session.add(printer)
    db.session.flush()
    audit.record("printer.create", "printer", printer.id, user_id=by_user_id, connection=clean.connection)
    return printer


@unit_of_work
def update_printer(printer_id: int, data: PrinterInput, *, by_user_id: int | None) -> Printer:
    printer = db.session.get(Printer, printer_id)
    if printer is None:
        raise NotFound(_l("Printer tidak ditemukan."))
    clean = _check(data, printer_id)
    for key, value in vars(clean).items():
        setattr(printer, key, value)
    audit.record("printer.update", "printer", printer.id, user_id=by_user_id, connection=clean.connection)
    return printer


@unit_of_work
def delete_printer(printer_id: int, *, by_user_id: int | None) -> None:
    printer = db.session.get(Printer, printer_id)
    if printer is None:
        raise NotFound(_l("Printer tidak ditemukan."))
    if db.session.scalar(sa.select(PrintJob.id).where(PrintJob.printer_id == printer_id).limit(1)):
        raise Conflict(_l("Printer ini sudah mencetak tiket; nonaktifkan saja agar riwayatnya tetap ada."))
    db.session.delete(printer)
    audit.record("printer.delete", "printer", printer_id, user_id=by_user_id)


def printer_for_token(token_id: int | None) -> Printer | None:
    """The active printer attached to a kiosk's device token."""
    if token_id is None:
        return None
    return db.session.scalar(sa.select(Printer).where(Printer.token_id == token_id, Printer.active.is_(True)))


def printer_for_station(printer_id: int | None) -> Printer | None:
    """A reception computer's printer (the computer remembers its choice), if it is an active station one."""
    if printer_id is None:
        return None
    printer = db.session.get(Printer, printer_id)
    return printer if printer is not None and printer.active and printer.station else None


def station_printers() -> list[Printer]:
    return list(db.session.scalars(sa.select(Printer).where(Printer.active.is_(True), Printer.station.is_not(None))
                                   .order_by(Printer.station, Printer.name)))
