"""Satisfaction (SKM) from citizens' phones and kiosks, and the statistics of an event."""
from __future__ import annotations

from ...domain import skm
from ...domain.stats import event_stats
from ...permissions import may_use_app
from . import bp
from .auth import api_public, api_requires
from .schemas import PROFILE_FIELDS, EventStats, SurveyAccepted, SurveyRequest
from .spec import TAGS, answer, answers, api_spec

FEEDBACK = [TAGS["feedback"]]


@bp.post("/visits/<token>/survey")
@api_public
@api_spec.validate(resp=answers(201, SurveyAccepted, errors=(409, 422), description="Saved."), tags=FEEDBACK,
                   operation_id="submitSurvey")
def survey(token: str, json: SurveyRequest):
    """The citizen's satisfaction survey (SKM), once per visit

    Public: the token is the one in the ticket's QR code. Accepted once at least one of the visit's services
    is done; a second survey for the same visit is 409.
    """
    profile = {name: getattr(json, name) or None for name in PROFILE_FIELDS}
    response = skm.submit_survey(token, json.scores.model_dump(), json.comment or None, channel="qr", **profile)
    return answer(SurveyAccepted, response, 201, scores={key: getattr(response, key) for key in skm.UNSUR_KEYS})


@bp.get("/events/<int:event_id>/stats")
@api_requires(may_use_app)
@api_spec.validate(resp=answers(200, EventStats, description="Statistics."), tags=FEEDBACK,
                   operation_id="getEventStats")
def stats(event_id: int):
    """An event's statistics: visits, steps, times, arrivals per hour, unserved, IKM"""
    return answer(EventStats, event_stats(event_id))
