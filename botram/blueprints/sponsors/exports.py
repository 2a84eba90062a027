"""Contributions of a period as CSV or XLSX."""
from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import gettext as _

from ...domain import DomainError
from ...domain.funding.export import export_rows, to_csv, to_xlsx
from ...permissions import may_read_funding
from ...security import requires
from ...web import show_domain_error
from . import bp
from .forms import ExportForm
from .shared import labels


@bp.get("/export")
@requires(may_read_funding)
def export():
    form = ExportForm(request.args)
    error = None
    if form.validate():
        try:
            rows = export_rows(form.date_from.data, form.date_to.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            stem = f"sumbangan-botram-{form.date_from.data.isoformat()}-{form.date_to.data.isoformat()}"
            if form.format.data == "csv":
                response = make_response(to_csv(rows))
                response.headers["Content-Type"] = "text/csv; charset=utf-8"
                response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
            else:
                response = make_response(to_xlsx(rows, title=stem))
                response.headers["Content-Type"] = (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                response.headers["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
            return response
    error = next((e for f in form for e in f.errors), None) or _("Periode ekspor tidak valid.")
    return render_template("sponsors/export.html", export_form=form, error=error, **labels()), 422
