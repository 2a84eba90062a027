"""Satisfaction (SKM) from citizens' phones and kiosks, and the statistics of an event."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from ...domain import skm
from ...domain.stats import event_stats
from ...models import Role
from . import bp
from .auth import api_public, api_roles
from .errors import ApiError
from .params import json_body

PROFILE = ("sex", "age_band", "education", "occupation", "next_desa_code")


@bp.post("/visits/<token>/survey")
@api_public
def survey(token: str):
    """The citizen's nine SKM answers for their visit (once per visit); the token is the one on the ticket's QR."""
    data = json_body()
    scores = data.get("scores")
    if not isinstance(scores, dict):
        raise ApiError(422, _("scores harus objek berisi sembilan unsur, masing-masing 1–4."), field="scores")
    for key, value in scores.items():
        # JSON says numbers; the domain also reads the strings that HTML forms send
        if key in skm.UNSUR_KEYS and (not isinstance(value, int) or isinstance(value, bool)):
            raise ApiError(422, _("Nilai %(key)s harus angka 1–4.", key=key), field=key)
    extra = {}
    for name in ("comment", *PROFILE):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(422, _("%(name)s harus berupa teks.", name=name), field=name)
        extra[name] = value or None
    response = skm.submit_survey(token, scores, extra.pop("comment"), channel="qr", **extra)
    return jsonify({"id": response.id, "event_id": response.event_id,
                    "scores": {key: getattr(response, key) for key in skm.UNSUR_KEYS}}), 201


@bp.get("/events/<int:event_id>/stats")
@api_roles(*Role)
def stats(event_id: int):
    """Visits, steps by state, wait and service times per service, arrivals per hour, unserved at closing, IKM."""
    return jsonify(event_stats(event_id))
