"""Admin: the voice-call clips. Listen to each one, replace it with a human recording, revert to the default."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from ...domain import DomainError, voice
from ...permissions import may_administer
from ...security import requires
from . import bp
from .forms import EmptyForm

admin_only = requires(may_administer)

GROUPS = [
    ("kalimat", _l("Bel dan kalimat")),
    ("huruf", _l("Huruf kode antrean")),
    ("angka", _l("Angka (dibaca satu per satu)")),
    ("loket", _l("Nomor loket")),
    ("instansi", _l("Nama instansi")),
]


class ClipUploadForm(FlaskForm):
    audio = FileField(_l("Rekaman pengganti"),
                      render_kw={"accept": ".mp3,.ogg,.oga,.wav,audio/mpeg,audio/ogg,audio/wav"})


def _row_or_404(key: str) -> voice.ClipRow:
    """The clip `key` as the admin list shows it, or a 404 page."""
    row = next((r for r in voice.clip_rows() if r.key == key), None)
    if row is None:
        abort(404)
    return row


@bp.route("/voice")
@admin_only
def voice_clips():
    rows = voice.clip_rows()
    groups = [(name, label, [r for r in rows if r.spec.group == name]) for name, label in GROUPS]
    return render_template("admin/voice.html", groups=groups, sample=_sample(rows))


def _sample(rows: list[voice.ClipRow]) -> dict:
    """A sample call for the "listen" button: the first agency that has a clip, at desk 3."""
    agency = next((r for r in rows if r.spec.group == "instansi" and r.version), None)
    return {"code": "A-007", "desk": 3, "agency": agency.spec.words if agency else ""}


def _clip_page(row: voice.ClipRow, form: ClipUploadForm, status: int = 200):
    return render_template("admin/voice_clip.html", row=row, form=form, revert_form=EmptyForm(),
                           max_kb=voice.MAX_UPLOAD_BYTES // 1024), status


@bp.route("/voice/<key>", methods=["GET", "POST"])
@admin_only
def voice_clip(key: str):
    row = _row_or_404(key)
    form = ClipUploadForm()
    if request.method == "GET":
        return _clip_page(row, form)
    upload = form.audio.data
    # Read one byte past the limit: enough to know the file is too large without holding all of it.
    data = upload.stream.read(voice.MAX_UPLOAD_BYTES + 1) if upload else b""
    try:
        voice.replace_clip(key, data, filename=upload.filename if upload else "", by_user_id=current_user.id)
    except DomainError as exc:
        form.audio.errors = [exc.message]
        return _clip_page(_row_or_404(key), form, exc.status)
    flash(_("Rekaman untuk “%(words)s” disimpan. Layar antrean memakainya mulai panggilan berikutnya.",
            words=row.spec.words or key), "ok")
    return redirect(url_for("admin.voice_clips", _anchor=f"clip-{key}"), 303)


@bp.post("/voice/<key>/revert")
@admin_only
def voice_clip_revert(key: str):
    row = _row_or_404(key)
    if voice.revert_clip(key, by_user_id=current_user.id):
        if row.has_default:
            flash(_("“%(words)s” kembali memakai suara bawaan.", words=row.spec.words or key), "ok")
        else:
            flash(_("Rekaman “%(words)s” dihapus. Nama ini kembali dibacakan suara komputer proyektor.",
                    words=row.spec.words), "ok")
    return redirect(url_for("admin.voice_clips", _anchor=f"clip-{key}"), 303)
