"""Admin: the regency's crest (lambang) on printed letterheads."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from ...domain import DomainError, crest
from ...permissions import may_administer
from ...security import requires
from . import bp
from .forms import EmptyForm

admin_only = requires(may_administer)


class CrestUploadForm(FlaskForm):
    image = FileField(_l("Berkas lambang"), render_kw={"accept": ".png,.jpg,.jpeg,.webp,image/png,image/jpeg,image/webp"})


def _page(form: CrestUploadForm, status: int = 200):
    return render_template("admin/crest.html", form=form, remove_form=EmptyForm(), crest=crest.current(),
                           max_kb=crest.MAX_UPLOAD_BYTES // 1024), status


@bp.route("/lambang", methods=["GET", "POST"])
@admin_only
def crest_page():
    form = CrestUploadForm()
    if request.method == "GET":
        return _page(form)
    upload = form.image.data
    # One byte past the limit tells a too-large file without holding all of it.
    data = upload.stream.read(crest.MAX_UPLOAD_BYTES + 1) if upload else b""
    try:
        crest.replace(data, filename=upload.filename if upload else "", by_user_id=current_user.id)
    except DomainError as exc:
        form.image.errors = [exc.message]
        return _page(form, exc.status)
    flash(_("Lambang disimpan. Surat, kuitansi, surat panduan, dan laporan yang dicetak mulai sekarang memakainya."), "ok")
    return redirect(url_for("admin.crest_page"), 303)


@bp.post("/lambang/hapus")
@admin_only
def crest_remove():
    if crest.remove(by_user_id=current_user.id):
        flash(_("Lambang dihapus. Kop surat kembali memakai tanda “B”."), "ok")
    return redirect(url_for("admin.crest_page"), 303)
