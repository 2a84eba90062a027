"""Calling outside a desk's hours: what the console offers (the hours stretched to cover now) and the
officer's acceptance, which records the new hours so the hours report stays true."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as time_of_day

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Desk, Event, EventStatus
from .. import DomainError, NotFound
from ..clock import now, to_wib
from ..field import ensure_queue_writable
from ..events import set_desk_hours
from ..uow import unit_of_work


@dataclass
class HoursExtension:
    """The desk's hours (WIB) and the hours that would cover now; what the console offers before a call."""

    opens: time_of_day
    closes: time_of_day
    new_opens: time_of_day
    new_closes: time_of_day
    now: time_of_day

    @property
    def early(self) -> bool:
        return self.new_opens != self.opens


def _half_hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0 if moment.minute < 30 else 30, second=0, microsecond=0)


def hours_extension(desk: Desk, at: datetime | None = None) -> HoursExtension | None:
    """None when the desk's hours cover `at` (now); else the hours stretched to cover it: the opening back
    to the half hour before, or the closing on to the next half hour. Raises DomainError when that cannot
    be on the event's day (an event of another day, or past midnight)."""
    at = at or now()
    if desk.opens_at <= at < desk.closes_at:
        return None
    event = desk.event
    local = to_wib(at)
    if local.date() != event.date:
        raise DomainError(_l("Loket di luar jam layanan, dan kegiatan ini bukan hari ini: jamnya tidak dapat "
                             "diperpanjang dari konsol."), status=409)
    opens, closes = to_wib(desk.opens_at), to_wib(desk.closes_at)
    if at < desk.opens_at:
        opens = _half_hour_floor(local)
    else:
        closes = _half_hour_floor(local) + timedelta(minutes=30)
        if closes.date() != event.date:
            closes = datetime.combine(event.date, time_of_day(23, 59), tzinfo=local.tzinfo)
    return HoursExtension(opens=to_wib(desk.opens_at).time(), closes=to_wib(desk.closes_at).time(),
                          new_opens=opens.time(), new_closes=closes.time(), now=local.time())


@unit_of_work
def extend_hours_to_now(desk_id: int, *, by_user_id: int) -> Desk:
    """The officer accepted calling outside the desk's hours: stretch the hours to cover now (see
    `hours_extension`), so the hours record and the hours report stay true. Audited as `desk.hours`."""
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.id == desk_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if desk is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    ensure_queue_writable(desk.event_id)
    event = db.session.get(Event, desk.event_id)
    if event.status != EventStatus.OPEN:
        raise DomainError(_l("Acara belum dibuka atau sudah ditutup."))
    plan = hours_extension(desk)
    if plan is None:
        return desk
    return set_desk_hours(desk, plan.new_opens, plan.new_closes, by_user_id=by_user_id,
                          reason="call_outside_hours")
