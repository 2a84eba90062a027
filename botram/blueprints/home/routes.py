import sqlalchemy as sa
from flask import render_template

from ...domain.clock import today_wib
from ...extensions import db
from ...models import Event, EventStatus
from ...security import login_required_any
from . import bp


@bp.route("/")
@login_required_any
def index():
    today = today_wib()
    open_events = db.session.scalars(
        sa.select(Event).where(Event.status == EventStatus.OPEN.value).order_by(Event.date)
    ).all()
    upcoming = db.session.scalars(
        sa.select(Event).where(Event.date >= today, Event.status == EventStatus.DRAFT.value)
        .order_by(Event.date).limit(5)
    ).all()
    return render_template("home/index.html", open_events=open_events, upcoming=upcoming)


@bp.route("/healthz")
def healthz():
    """Liveness for load balancers and monitors: answers without touching the database."""
    return {"status": "ok"}
