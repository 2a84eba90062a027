"""The M button counts down to the moment "tidak hadir" is accepted without another recall
(BOTRAM_NO_SHOW_MIN_SECONDS after the call): the console carries the seconds the domain says are left,
and nothing once a recall count or the time already allows it."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain import queue
from botram.domain.queue_rules import current_rules
from botram.domain.clock import wib_to_utc
from botram.extensions import db
from botram.models import Step
from botram.models.types import utcnow

from .factories import make_desk, make_event, make_user, service

READY_IN = re.compile(r'data-ready-in="(\d+)"')

# The test app lets M through at once (tests/conftest.py); these tests are about the wait itself.
pytestmark = pytest.mark.app_config(BOTRAM_NO_SHOW_MIN_SECONDS=60)


@pytest.fixture
def called(client, auth):
    officer = make_user("petugas", "petugas1", "DISDUKCAPIL")
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI"])
    desk.opens_at, desk.closes_at = wib_to_utc(event.date, time(0, 0)), wib_to_utc(event.date, time(23, 59))
    db.session.commit()
    queue.issue_visit(event.id, [service("AKTA-MATI").id], by_user_id=officer.id)
    step = queue.call_next(desk.id, by_user_id=officer.id)
    auth.login("petugas1")
    return desk, step, officer


def console(client, desk) -> str:
    return client.get(f"/desk/{desk.id}", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_a_fresh_call_counts_down_from_the_minimum_time(client, called):
    desk, _step, _officer = called
    seconds = int(READY_IN.search(console(client, desk)).group(1))
    assert 55 <= seconds <= 60
    assert 'class="secondary not-ready"' in console(client, desk)


def test_the_count_follows_the_time_since_the_call(client, called):
    desk, step, _officer = called
    db.session.execute(sa.update(Step).where(Step.id == step.id).values(called_at=utcnow() - timedelta(seconds=45)))
    db.session.commit()
    assert 14 <= int(READY_IN.search(console(client, desk)).group(1)) <= 15
    db.session.execute(sa.update(Step).where(Step.id == step.id).values(called_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    page = console(client, desk)
    assert "data-ready-in" not in page and "not-ready" not in page and 'data-shortcut="m"' in page


def test_enough_recalls_end_the_count(client, called):
    desk, step, officer = called
    for _ in range(current_rules().max_recalls):
        queue.recall(step.id, by_user_id=officer.id)
    assert "data-ready-in" not in console(client, desk)


def test_a_visitor_being_served_has_no_count(client, called):
    desk, step, officer = called
    queue.start(step.id, by_user_id=officer.id)
    assert "data-ready-in" not in console(client, desk)
