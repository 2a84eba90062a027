import sqlalchemy as sa
from flask import Response, abort, current_app, render_template, request

from ...domain.clock import today_wib
from ...extensions import db
from ...models import Event, EventStatus
from ...permissions import may_scrape_metrics, may_use_app, metrics_exposed
from ...security import requires
from . import bp


@bp.route("/")
@requires(may_use_app)
def index():
    today = today_wib()
    open_events = db.session.scalars(
        sa.select(Event).where(Event.status == EventStatus.OPEN).order_by(Event.date)
    ).all()
    upcoming = db.session.scalars(
        sa.select(Event).where(Event.date >= today, Event.status == EventStatus.DRAFT)
        .order_by(Event.date).limit(5)
    ).all()
    return render_template("home/index.html", open_events=open_events, upcoming=upcoming)


@bp.route("/healthz")
def healthz():
    """Liveness for load balancers and monitors: answers without touching the database."""
    return {"status": "ok"}


@bp.route("/readyz")
def readyz():
    """Readiness for load balancers: 200 when the database answers and its migrations are at head, else 503."""
    from ...readiness import check

    ready, why = check(db.engine)  # its own connection, returned to the pool at once
    if ready:
        return {"status": "ok"}
    return {"status": "unavailable", "reason": why}, 503, {"Retry-After": "5", "Cache-Control": "no-store"}


@bp.route("/metrics")
def metrics():
    """Prometheus metrics (botram/metrics.py) for the monitoring addresses or the metrics token only."""
    from ... import metrics as figures

    addresses = current_app.config["BOTRAM_METRICS_ADDRESSES"]
    token = current_app.config["BOTRAM_METRICS_TOKEN"]
    if not metrics_exposed(addresses, token):
        abort(404)  # not configured: the route does not exist as far as anyone can tell
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if not may_scrape_metrics(request.remote_addr, bearer.strip() if scheme.lower() == "bearer" else None,
                              addresses=addresses, token=token):
        abort(403)
    body, content_type = figures.exposition(db.engine)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
