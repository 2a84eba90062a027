"""The queue: issuing tickets, calling, serving and moving steps, and reading the queue cheaply.

Every waiting step sits in its service's queue from registration, ordered by priority rank, then arrival
time, then id. A visit is never called at two desks at once: `Visit.busy_desk_id` is claimed with a
conditional UPDATE, and the visit's other steps keep their place while it is busy.

Writes are units of work (botram/domain/uow.py, docs/queue-domain.md): rows locked in a fixed order
(desk → visit → step → event) so PostgreSQL cannot deadlock on our own writes, an audit entry,
`bump_version` as the last statement. A broken rule rolls everything back.

Callers import the package (`from botram.domain import queue; queue.call_next(...)`); the modules hold:

| module | what |
|---|---|
| `issue.py` | reception: a ticket issued, a visit cancelled |
| `call.py` | a desk calls the next visitor, recalls, opens/pauses/closes |
| `serve.py` | start, finish, and the undo of a hasty finish or no-show |
| `move.py` | transfer to another service, no-show (and what it still waits for), reception's restore |
| `reopen.py` | a closed step opened again, with a reason (the desk that closed it, reception, coordinator) |
| `desk_hours.py` | a call outside the desk's hours stretches them |
| `read.py` | a desk's current step and waiting list |
| `wait.py` | people ahead and the one wait estimate |
| `status.py` | a citizen's status page |
| `shared.py` | step states, limits, row locks, input cleaning (internal) |
"""
from __future__ import annotations

from .call import CANDIDATES, call_next, recall, set_desk_state
from .desk_hours import HoursExtension, extend_hours_to_now, hours_extension
from .issue import IssuedVisit, cancel_visit, issue_visit
from .move import is_expired, no_show, no_show_wait, restore_step, transfer
from .reopen import REOPENABLE, closed_today, reopen_step
from .read import WaitingRow, desk_current, loaded_step, waiting_for_desk
from .serve import (
    UNDO_SECONDS, MissingRequirements, finish, mandatory_missing, start, undo_finish, undo_no_show,
)
from .shared import CALLED, LIVE_STEP_STATES, MAX_AMOUNT, MAX_NAME, MAX_NOTE, OUTCOMES, SERVING, WAITING
from .status import StepView, VisitStatus, visit_status
from .wait import (
    QueueShape, estimated_wait_minutes, open_desks_offering, people_ahead, queue_shape, service_times_today,
    service_wait_estimates, wait_minutes,
)

__all__ = [
    # issue.py
    "IssuedVisit", "issue_visit", "cancel_visit",
    # call.py
    "CANDIDATES", "call_next", "recall", "set_desk_state",
    # serve.py
    "UNDO_SECONDS", "MissingRequirements", "start", "finish", "mandatory_missing", "undo_finish", "undo_no_show",
    # move.py
    "transfer", "no_show", "no_show_wait", "is_expired", "restore_step",
    # reopen.py
    "REOPENABLE", "closed_today", "reopen_step",
    # desk_hours.py
    "HoursExtension", "hours_extension", "extend_hours_to_now",
    # read.py
    "WaitingRow", "loaded_step", "desk_current", "waiting_for_desk",
    # wait.py
    "QueueShape", "queue_shape", "wait_minutes", "people_ahead", "estimated_wait_minutes", "service_times_today",
    "service_wait_estimates", "open_desks_offering",
    # status.py
    "StepView", "VisitStatus", "visit_status",
    # shared.py
    "WAITING", "CALLED", "SERVING", "LIVE_STEP_STATES", "OUTCOMES", "MAX_AMOUNT", "MAX_NOTE", "MAX_NAME",
]
