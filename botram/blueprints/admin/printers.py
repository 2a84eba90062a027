"""Admin: thermal printers (name, connection, paper, attached to a kiosk's token or a reception computer),
with a test page each. The rules are botram/domain/printing/printers.py."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ...domain import printing
from ...domain.ids import parse_id
from ...extensions import db
from ...models import ApiToken, Printer, User
from ...permissions import KIOSK_DEVICE_ROLES
from ..form_action import submit
from . import bp
from .routes import admin_only, _load
from .forms import EmptyForm

CONNECTIONS = [SelectChoice("network", _l("Jaringan (host:9100)")), SelectChoice("usb", _l("USB (/dev/usb/lp0)")),
               SelectChoice("cups", _l("Antrean CUPS"))]


def _int_or_none(value):
    return parse_id(value)


class PrinterForm(FlaskForm):
    name = StringField(_l("Nama printer"), render_kw={"maxlength": 80})
    connection = SelectField(_l("Sambungan"), choices=CONNECTIONS, validate_choice=False)
    target = StringField(_l("Alamat"), render_kw={"maxlength": 200, "placeholder": "192.168.1.50:9100"})
    paper_mm = SelectField(_l("Lebar kertas"), choices=[SelectChoice(80, "80 mm"), SelectChoice(58, "58 mm")], coerce=int,
                           validate_choice=False)
    token_id = SelectField(_l("Dipasang pada kios (token perangkat)"), coerce=_int_or_none, validate_choice=False)
    station = StringField(_l("Atau pada komputer resepsionis (nama)"), render_kw={"maxlength": 80,
                                                                                  "placeholder": "Resepsionis 1"})
    active = BooleanField(_l("Aktif"), default=True)


def _token_choices():
    """Live tokens of kiosk accounts: a printer belongs to a kiosk, not to a person's token."""
    rows = db.session.execute(sa.select(ApiToken.id, ApiToken.name, ApiToken.prefix, User.username)
                              .join(User, User.id == ApiToken.user_id)
                              .where(ApiToken.revoked_at.is_(None), User.role.in_(KIOSK_DEVICE_ROLES))
                              .order_by(User.username, ApiToken.name)).all()
    return [SelectChoice("", _("— tidak dipasang pada kios —"))] + [
        SelectChoice(str(r.id), f"{r.username} · {r.name} ({r.prefix}…)") for r in rows]


def _page(form, printer=None, status=200, tested=None):
    form.token_id.choices = _token_choices()
    printers = db.session.scalars(sa.select(Printer).order_by(Printer.name)).all()
    return render_template("admin/printers.html", form=form, printer=printer, printers=printers,
                           action_form=EmptyForm()), status


def _input(form, editing: bool = False) -> printing.PrinterInput:
    return printing.PrinterInput(name=form.name.data or "", connection=form.connection.data or "",
                                 target=form.target.data or "", paper_mm=form.paper_mm.data or 0,
                                 token_id=form.token_id.data, station=form.station.data,
                                 # the new-printer form has no such box: a new printer is active
                                 active=bool(form.active.data) if editing else True)


@bp.route("/printers", methods=["GET", "POST"])
@admin_only
def printers():
    form = PrinterForm()
    form.token_id.choices = _token_choices()
    if form.is_submitted():
        done = submit(form, lambda: printing.create_printer(_input(form), by_user_id=current_user.id))
        if done:
            flash(_("Printer %(name)s ditambahkan. Cetak halaman uji untuk memeriksanya.", name=done.result.name), "ok")
            return redirect(url_for("admin.printers"), 303)
        return _page(form, status=done.status)
    return _page(form)


@bp.route("/printers/<int:printer_id>", methods=["GET", "POST"])
@admin_only
def printer_edit(printer_id: int):
    printer = _load(Printer, printer_id)
    form = PrinterForm(obj=printer)
    form.token_id.choices = _token_choices()
    if form.is_submitted():
        done = submit(form, lambda: printing.update_printer(printer.id, _input(form, editing=True), by_user_id=current_user.id))
        if done:
            flash(_("Perubahan printer %(name)s disimpan.", name=printer.name), "ok")
            return redirect(url_for("admin.printers"), 303)
        return _page(form, printer, status=done.status)
    return _page(form, printer)


@bp.post("/printers/<int:printer_id>/test")
@admin_only
def printer_test(printer_id: int):
    printer = _load(Printer, printer_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.printers"), 303)
    error = printing.print_test_page(printer.id, by_user_id=current_user.id)
    if error:
        flash(_("Halaman uji %(name)s gagal: %(error)s", name=printer.name, error=error), "error")
    else:
        flash(_("Halaman uji terkirim ke %(name)s. Periksa hasil cetaknya.", name=printer.name), "ok")
    return redirect(url_for("admin.printers"), 303)
