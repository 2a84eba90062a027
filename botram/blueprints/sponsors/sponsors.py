"""Sponsor pages: the list with received and pledged totals, register, edit, and the detail with its history."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import funding as rules
from ...extensions import db
from ...models import Contribution, Sponsor
from ...permissions import may_manage_funding, may_read_funding
from ...security import requires
from ...web import render_page_or_fragment
from ..form_action import submit
from . import bp
from .forms import SponsorForm
from .shared import labels


def get_sponsor(sponsor_id: int) -> Sponsor:
    """The sponsor or 404."""
    return db.get_or_404(Sponsor, sponsor_id)


@bp.get("/sponsors")
@requires(may_read_funding)
def sponsors():
    q = request.args.get("q", "").strip()[:80]
    kind = request.args.get("kind", "").strip()
    query = sa.select(Sponsor).order_by(Sponsor.name)
    error = None
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Sponsor.name).like(like), sa.func.lower(Sponsor.sector).like(like)))
    if kind:
        if kind in rules.SPONSOR_KINDS:
            query = query.where(Sponsor.kind == kind)
        else:
            error = _("Jenis sponsor tidak dikenal.")
    rows = db.session.scalars(query).all()
    totals = _sponsor_totals()
    response = render_page_or_fragment("sponsors/sponsors.html", "sponsors/_sponsor_list.html", sponsors=rows,
                                       q=q, kind=kind, error=error, totals=totals, **labels())
    if error:
        response.status_code = 422
    return response


def _sponsor_totals() -> dict[int, tuple[int, int]]:
    """sponsor id → (received value, pledged value), live contributions only."""
    totals: dict[int, list[int]] = {}
    rows = db.session.execute(sa.select(Contribution.sponsor_id, Contribution.status, Contribution.value)
                              .where(Contribution.voided_at.is_(None)))
    for sponsor_id, status, value in rows:
        entry = totals.setdefault(sponsor_id, [0, 0])
        if status == "received":
            entry[0] += int(value)
        elif status == "pledged":
            entry[1] += int(value)
    return {k: (v[0], v[1]) for k, v in totals.items()}


def _sponsor_input(form: SponsorForm) -> rules.SponsorInput:
    return rules.SponsorInput(name=form.name.data, kind=form.kind.data, sector=form.sector.data,
                              contact_person=form.contact_person.data, phone=form.phone.data,
                              email=form.email.data, npwp=form.npwp.data, address=form.address.data,
                              notes=form.notes.data, public_thanks=form.public_thanks.data)


@bp.route("/sponsors/new", methods=["GET", "POST"])
@requires(may_manage_funding)
def sponsor_create():
    form = SponsorForm()
    if request.method == "GET":
        return render_template("sponsors/sponsor_form.html", form=form, sponsor=None)
    done = submit(form, lambda: rules.create_sponsor(_sponsor_input(form), by_user_id=current_user.id))
    if not done:
        return render_template("sponsors/sponsor_form.html", form=form, sponsor=None), done.status
    flash(_("Sponsor disimpan."), "ok")
    return redirect(url_for("sponsors.sponsor_detail", sponsor_id=done.result.id), 303)


@bp.route("/sponsors/<int:sponsor_id>/edit", methods=["GET", "POST"])
@requires(may_manage_funding)
def sponsor_edit(sponsor_id: int):
    sponsor = get_sponsor(sponsor_id)
    if request.method == "GET":
        form = SponsorForm(obj=sponsor)
        form.phone.data = rules.format_phone(sponsor.phone)
        form.npwp.data = rules.format_npwp(sponsor.npwp)
        return render_template("sponsors/sponsor_form.html", form=form, sponsor=sponsor)
    form = SponsorForm()
    done = submit(form, lambda: rules.update_sponsor(sponsor, _sponsor_input(form), by_user_id=current_user.id))
    if not done:
        return render_template("sponsors/sponsor_form.html", form=form, sponsor=sponsor), done.status
    flash(_("Perubahan sponsor disimpan."), "ok")
    return redirect(url_for("sponsors.sponsor_detail", sponsor_id=sponsor.id), 303)


@bp.get("/sponsors/<int:sponsor_id>")
@requires(may_read_funding)
def sponsor_detail(sponsor_id: int):
    sponsor = get_sponsor(sponsor_id)
    received, pledged = _sponsor_totals().get(sponsor.id, (0, 0))
    return render_template("sponsors/sponsor_detail.html", sponsor=sponsor, received=received, pledged=pledged,
                           history=rules.history("sponsor", sponsor.id), **labels())
