"""Admin pages. Thin: parse the form, call botram.domain, show its Indonesian message next to the field."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ...domain import DomainError, catalog, login_guard, tokens
from ...domain import users as user_rules
from ...extensions import db
from ...models import Agency, ApiToken, LifeEventPackage, Requirement, Role, Service, User
from ...permissions import may_administer
from ...security import requires
from ...web import is_fragment_request, render_page_or_fragment
from ..form_action import submit
from . import bp
from .forms import (AgencyForm, EmptyForm, MoveForm, PackageForm, RequirementForm, ServiceForm, TokenForm, UserForm,
                    int_or_none)

admin_only = requires(may_administer)


def _status_filter(value: str | None) -> bool | None:
    return {"aktif": True, "nonaktif": False}.get(value or "")


def _load(model, object_id: int):
    """The row or a 404 page."""
    return db.get_or_404(model, object_id)


def _agency_choices(current_id: int | None = None, blank: str | None = None):
    choices = [SelectChoice("", blank)] if blank is not None else []
    for agency in catalog.list_agencies():
        if agency.active or agency.id == current_id:
            label = agency.short_name if agency.active else _("%(name)s (nonaktif)", name=agency.short_name)
            choices.append(SelectChoice(agency.id, label))
    return choices


@bp.route("/")
@admin_only
def index():
    return redirect(url_for("admin.users"))


# --- users --------------------------------------------------------------------------------------------------

@bp.route("/users")
@admin_only
def users():
    filters = {"q": request.args.get("q", "")[:80], "role": request.args.get("role", ""),
               "status": request.args.get("status", "")}
    role = filters["role"] if filters["role"] in {r.value for r in Role} else None
    rows = user_rules.list_users(q=filters["q"], role=role, active=_status_filter(filters["status"]))
    return render_page_or_fragment("admin/users.html", "admin/_users_table.html", users=rows, filters=filters,
                                   roles=list(Role), locks=_locks(), unlock_form=EmptyForm())


def _locks() -> dict:
    """Locked usernames and when each lock ends, under the same settings the sign-in page applies."""
    config = current_app.config
    return login_guard.locked_usernames(max_failures=config["BOTRAM_LOGIN_MAX_FAILURES"],
                                        window=timedelta(minutes=config["BOTRAM_LOGIN_LOCKOUT_MINUTES"]))


@bp.post("/users/<int:user_id>/unlock")
@admin_only
def user_unlock(user_id: int):
    user = _load(User, user_id)
    if not EmptyForm().validate():
        abort(400)
    login_guard.unlock(user, by_user_id=current_user.id)
    flash(_("Kunci akun %(username)s dibuka: petugas dapat masuk lagi sekarang.", username=user.username), "ok")
    return redirect(url_for("admin.users"), 303)


def _user_form_page(form, user=None, status=200):
    if user is None:
        form.role.choices = [SelectChoice("", _("— Pilih peran —"))] + [
            c for c in form.role.choices if getattr(c, "value", None) != ""]
    form.agency_id.choices = _agency_choices(user.agency_id if user else None, blank=_("— Tidak terikat instansi —"))
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    form = UserForm()
    if request.method == "POST":
        done = submit(form, lambda: user_rules.create_user(
            form.username.data or "", form.name.data or "", form.password.data or "", form.role.data or "",
            agency_id=form.agency_id.data, active=form.active.data, by_user_id=current_user.id))
        if done:
            flash(_("Pengguna %(username)s dibuat.", username=done.result.username), "ok")
            return redirect(url_for("admin.users"), 303)
        return _user_form_page(form, status=done.status)
    return _user_form_page(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    user = _load(User, user_id)
    form = UserForm(obj=user)
    del form.username  # fixed once created
    if request.method == "POST":
        done = submit(form, lambda: user_rules.update_user(
            user, name=form.name.data or "", role=form.role.data or "", agency_id=form.agency_id.data,
            active=form.active.data, password=form.password.data or None, by_user_id=current_user.id))
        if done:
            flash(_("Perubahan pengguna %(username)s disimpan.", username=user.username), "ok")
            return redirect(url_for("admin.users"), 303)
        return _user_form_page(form, user, status=done.status)
    return _user_form_page(form, user)


# --- device tokens ------------------------------------------------------------------------------------------

def _tokens_page(user, form, raw_token=None, status=200):
    rows = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                              .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())).all()
    return render_template("admin/tokens.html", user=user, tokens=rows, form=form, raw_token=raw_token,
                           revoke_form=EmptyForm()), status


@bp.route("/users/<int:user_id>/tokens", methods=["GET", "POST"])
@admin_only
def user_tokens(user_id: int):
    user = _load(User, user_id)
    form = TokenForm()
    if request.method == "POST":
        done = submit(form, lambda: tokens.issue_token(user, form.name.data or "", by_user_id=current_user.id))
        if not done:
            return _tokens_page(user, form, status=done.status)
        # The raw token exists only in this response: shown once, never stored or redirected through the session.
        response = _tokens_page(user, TokenForm(formdata=None), raw_token=done.result[1], status=201)
        return response[0], 201, {"Cache-Control": "no-store"}
    return _tokens_page(user, form)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@admin_only
def token_revoke(user_id: int, token_id: int):
    user = _load(User, user_id)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    tokens.revoke_token(token, by_user_id=current_user.id)
    flash(_("Token %(prefix)s… dicabut; perangkat itu tidak dapat lagi mengakses API.", prefix=token.prefix),
          "ok")
    return redirect(url_for("admin.user_tokens", user_id=user.id), 303)


# --- agencies -----------------------------------------------------------------------------------------------

@bp.route("/agencies")
@admin_only
def agencies():
    return render_template("admin/agencies.html", agencies=catalog.list_agencies(), counts=catalog.agency_counts())


@bp.route("/agencies/new", methods=["GET", "POST"])
@admin_only
def agency_new():
    form = AgencyForm()
    if request.method == "GET":
        form.color.data = catalog.next_agency_color()
    else:
        done = submit(form, lambda: catalog.create_agency(
            code=form.code.data, name=form.name.data, short_name=form.short_name.data, color=form.color.data,
            by_user_id=current_user.id))
        if done:
            flash(_("Instansi %(name)s ditambahkan.", name=done.result.short_name), "ok")
            return redirect(url_for("admin.agencies"), 303)
        return render_template("admin/agency_form.html", form=form, agency=None, blockers=[]), done.status
    return render_template("admin/agency_form.html", form=form, agency=None, blockers=[])


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@admin_only
def agency_edit(agency_id: int):
    agency = _load(Agency, agency_id)
    form = AgencyForm(obj=agency)
    status = 200
    if request.method == "POST":
        done = submit(form, lambda: catalog.update_agency(
            agency, code=form.code.data, name=form.name.data, short_name=form.short_name.data,
            color=form.color.data, active=form.active.data, by_user_id=current_user.id))
        if done:
            flash(_("Perubahan instansi %(name)s disimpan.", name=agency.short_name), "ok")
            return redirect(url_for("admin.agencies"), 303)
        status = done.status
    return render_template("admin/agency_form.html", form=form, agency=agency,
                           blockers=catalog.agency_blockers(agency) if agency.active else []), status


# --- services -----------------------------------------------------------------------------------------------

@bp.route("/services")
@admin_only
def services():
    filters = {"q": request.args.get("q", "")[:80], "agency": request.args.get("agency", ""),
               "status": request.args.get("status", "")}
    rows = catalog.list_services(agency_id=int_or_none(filters["agency"] or None), q=filters["q"],
                                 active=_status_filter(filters["status"]))
    return render_page_or_fragment("admin/services.html", "admin/_services_table.html", services=rows,
                                   filters=filters, agencies=catalog.list_agencies())


def _service_action(form, service=None):
    values = dict(agency_id=form.agency_id.data, code=form.code.data, name=form.name.data,
                  ticket_letter=form.ticket_letter.data, target_minutes=form.target_minutes.data,
                  records_amount=form.records_amount.data, self_service=form.self_service.data,
                  description=form.description.data,
                  guidance=form.guidance.data, by_user_id=current_user.id)
    if service is None:
        return lambda: catalog.create_service(**values)
    return lambda: catalog.update_service(service, active=form.active.data, **values)


@bp.route("/services/new", methods=["GET", "POST"])
@admin_only
def service_new():
    form = ServiceForm()
    form.agency_id.choices = _agency_choices(blank=_("— Pilih instansi —"))
    if request.method == "GET":
        form.target_minutes.data = "10"
        chosen = db.session.get(Agency, int_or_none(request.args.get("agency")) or 0)
        if chosen is not None and chosen.active:
            form.agency_id.data = chosen.id
            form.ticket_letter.data = catalog.letter_for_agency(chosen)
    else:
        done = submit(form, _service_action(form))
        if done:
            flash(_("Layanan %(code)s ditambahkan. Lengkapi daftar persyaratannya di bawah.", code=done.result.code),
                  "ok")
            return redirect(url_for("admin.service_edit", service_id=done.result.id), 303)
        return render_template("admin/service_form.html", form=form, service=None, letters=_letters()), done.status
    return render_template("admin/service_form.html", form=form, service=None, letters=_letters())


def _letters() -> dict[int, str]:
    """Each agency's ticket letter, so the form can suggest it."""
    return {a.id: catalog.letter_for_agency(a) or "" for a in catalog.list_agencies()}


def _service_page(service, form, status=200, req_form=None, editing=None, edit_form=None):
    return render_template("admin/service_edit.html", service=service, form=form, letters=_letters(),
                           req_form=req_form or RequirementForm(formdata=None), editing=editing,
                           edit_form=edit_form, small_form=EmptyForm(), open_desks=catalog.open_desks_offering(service)
                           ), status


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@admin_only
def service_edit(service_id: int):
    service = _load(Service, service_id)
    form = ServiceForm(obj=service)
    form.agency_id.choices = _agency_choices(service.agency_id)
    if request.method == "POST":
        done = submit(form, _service_action(form, service))
        if done:
            flash(_("Perubahan layanan %(code)s disimpan.", code=service.code), "ok")
            return redirect(url_for("admin.service_edit", service_id=service.id), 303)
        return _service_page(service, form, done.status)
    editing = _editing(service)
    return _service_page(service, form, editing=editing,
                         edit_form=RequirementForm(obj=editing, prefix="edit") if editing else None)


def _editing(service) -> Requirement | None:
    wanted = int_or_none(request.args.get("edit"))
    return next((r for r in service.requirements if r.id == wanted), None)


# --- the requirement checklist (inline through htmx, plain forms without JS) -----------------------------------

def _checklist(service, status=200, req_form=None, editing=None, edit_form=None):
    """The checklist fragment to htmx; the service page otherwise (a redirect after a successful write)."""
    if is_fragment_request():
        response = render_page_or_fragment(
            "admin/service_edit.html", "admin/_requirements.html", service=service,
            req_form=req_form or RequirementForm(formdata=None), editing=editing, edit_form=edit_form,
            small_form=EmptyForm())
        response.status_code = status
        return response
    if status < 400:
        return redirect(url_for("admin.service_edit", service_id=service.id, _anchor="persyaratan"), 303)
    form = ServiceForm(obj=service, formdata=None)
    form.agency_id.choices = _agency_choices(service.agency_id)
    return _service_page(service, form, status, req_form=req_form, editing=editing, edit_form=edit_form)


@bp.route("/services/<int:service_id>/requirements", methods=["GET", "POST"])
@admin_only
def requirements(service_id: int):
    service = _load(Service, service_id)
    if request.method == "GET":
        editing = _editing(service)
        if not is_fragment_request():
            query = {"edit": editing.id} if editing else {}
            return redirect(url_for("admin.service_edit", service_id=service.id, _anchor="persyaratan", **query))
        return _checklist(service, editing=editing,
                          edit_form=RequirementForm(obj=editing, prefix="edit") if editing else None)
    form = RequirementForm()
    done = submit(form, lambda: catalog.add_requirement(
        service, text=form.text.data, where_to_get=form.where_to_get.data, optional=form.optional.data,
        by_user_id=current_user.id))
    if not done:
        return _checklist(service, done.status, req_form=form)
    return _checklist(service)


@bp.post("/services/<int:service_id>/requirements/<int:requirement_id>")
@admin_only
def requirement_update(service_id: int, requirement_id: int):
    service = _load(Service, service_id)
    requirement = _requirement_or_404(service, requirement_id)
    form = RequirementForm(prefix="edit")
    done = submit(form, lambda: catalog.update_requirement(
        requirement, text=form.text.data, where_to_get=form.where_to_get.data, optional=form.optional.data,
        by_user_id=current_user.id))
    if not done:
        return _checklist(service, done.status, editing=requirement, edit_form=form)
    return _checklist(service)


@bp.post("/services/<int:service_id>/requirements/<int:requirement_id>/move")
@admin_only
def requirement_move(service_id: int, requirement_id: int):
    service = _load(Service, service_id)
    requirement = _requirement_or_404(service, requirement_id)
    form = MoveForm()
    if form.direction.data not in ("up", "down"):
        abort(400)
    catalog.move_requirement(requirement, form.direction.data, by_user_id=current_user.id)
    return _checklist(service)


@bp.post("/services/<int:service_id>/requirements/<int:requirement_id>/delete")
@admin_only
def requirement_delete(service_id: int, requirement_id: int):
    service = _load(Service, service_id)
    requirement = _requirement_or_404(service, requirement_id)
    catalog.remove_requirement(requirement, by_user_id=current_user.id)
    return _checklist(service)


def _requirement_or_404(service, requirement_id) -> Requirement:
    try:
        return catalog.get_requirement(service, requirement_id)
    except DomainError:
        abort(404)


# --- life-event packages ------------------------------------------------------------------------------------

@bp.route("/packages")
@admin_only
def packages():
    return render_template("admin/packages.html", packages=catalog.list_packages())


def _package_page(form, package=None, status=200):
    selected = [s for s in (form.services.data or []) if s is not None]
    groups = catalog.services_by_agency(include_ids=[i.service_id for i in package.items] if package else [])
    return render_template("admin/package_form.html", form=form, package=package, groups=groups,
                           selected=set(selected)), status


@bp.route("/packages/new", methods=["GET", "POST"])
@admin_only
def package_new():
    form = PackageForm()
    if request.method == "POST":
        done = submit(form, lambda: catalog.create_package(
            code=form.code.data, name=form.name.data, description=form.description.data,
            service_ids=form.services.data or [], self_service=form.self_service.data, by_user_id=current_user.id))
        if done:
            flash(_("Paket %(name)s dibuat.", name=done.result.name), "ok")
            return redirect(url_for("admin.packages"), 303)
        return _package_page(form, status=done.status)
    return _package_page(form)


@bp.route("/packages/<int:package_id>", methods=["GET", "POST"])
@admin_only
def package_edit(package_id: int):
    package = _load(LifeEventPackage, package_id)
    form = PackageForm(obj=package)
    if request.method == "GET":
        form.services.data = [item.service_id for item in package.items]
    if request.method == "POST":
        done = submit(form, lambda: catalog.update_package(
            package, code=form.code.data, name=form.name.data, description=form.description.data,
            service_ids=form.services.data or [], active=form.active.data, self_service=form.self_service.data,
            by_user_id=current_user.id))
        if done:
            flash(_("Perubahan paket %(name)s disimpan.", name=package.name), "ok")
            return redirect(url_for("admin.packages"), 303)
        return _package_page(form, package, status=done.status)
    return _package_page(form, package)
