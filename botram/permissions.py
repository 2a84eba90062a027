"""Who may do what: the one place. Pages, the JSON API, the navigation and templates all ask here.

A capability is a name and the roles that hold it. Views declare one with `security.requires(cap)` (pages)
or `api.auth.api_requires(cap)` (API); templates ask `may.<name>`; tests/test_authz_matrix.py derives its
whole table from CAPABILITIES and the capability each view declares, so a new capability is tested as soon
as a view uses it.

Per-object rules (which desk an officer may work) are functions taking the object, below the table.

The officer rule (docs/architecture.md, "Who may do what"): a desk officer (petugas) works a desk when it
belongs to their own agency AND its event is open. That is the whole rule, for the console, the desk
actions, the desk's hours and every /api/v1 desk and step route alike:

- a draft event has nothing to serve yet, a closed event is final (nothing about it changes any more):
  both answer 403 to an officer, page and API;
- a paused (or closed) desk of an open event stays the officer's: they are the ones who resume it and
  finish the visitor at hand. Whether a queue action is possible in that state (call-next at a paused
  desk, ...) is the queue's rule, answered 409/422 by botram.domain.queue, never a 403;
- a coordinator or an admin works every desk of every event (they close the day and clean up after it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from .models import Role

if TYPE_CHECKING:
    from .models import Desk, User

A, K, R, P, F, KI = (Role.ADMIN, Role.KOORDINATOR, Role.RESEPSIONIS, Role.PETUGAS,
                     Role.KEUANGAN, Role.KIOSK)


@dataclass(frozen=True)
class Capability:
    """A thing a signed-in role may do. Call it with a user: `may_read_reports(current_user)`."""

    name: str
    roles: tuple[str, ...]  # in Role order: the API description lists them as declared
    summary: str

    def __call__(self, user: "User | None") -> bool:
        return bool(user is not None and user.is_authenticated and user.role in self.roles)


def _capability(name: str, roles: set[str], summary: str) -> Capability:
    return Capability(name, tuple(r.value for r in Role if r.value in roles), summary)


may_use_app = _capability("use_app", {A, K, R, P, F}, "any signed-in staff: the home page, event statistics")
may_administer = _capability("administer", {A}, "users, agencies, the service catalogue, voice clips, tokens")
may_read_events = _capability("read_events", {A, K, F}, "the events pages, drafts included (finance reads the "
                                                         "events it funds)")
may_manage_events = _capability("manage_events", {A, K}, "create, open and close events; desks, their hours "
                                                          "and services; the running text")
may_register_visitors = _capability("register_visitors", {A, K, R}, "reception: issue, cancel and reprint tickets")
may_reopen_steps = _capability("reopen_steps", {A, K, R, P}, "open a closed step again with a reason: an "
                                                             "officer only what a desk of their agency closed "
                                                             "today (domain.queue.reopen_step)")
may_work_desks = _capability("work_desks", {A, K, P}, "the desk console and the desk API; which desks: "
                                                       "may_work_desk")
may_read_funding = _capability("read_funding", {A, K, F}, "sponsors, contributions, budgets, exports, letters")
may_manage_funding = _capability("manage_funding", {A, F}, "record and void sponsors, contributions, budget lines")
may_set_funding_target = _capability("set_funding_target", {A, K}, "the target share of sponsors in the cost")
may_read_reports = _capability("read_reports", {A, K, F}, "the regency view and the event reports")
may_enter_paper_surveys = _capability("enter_paper_surveys", {A, K, R}, "type in paper SKM forms")
may_run_survey_kiosk = _capability("run_survey_kiosk", {A, K, R, P}, "open the SKM survey kiosk on a tablet")
may_sync_field = _capability("sync_field", {A, K}, "check an event out to a field laptop and back in")
may_watch_live = _capability("watch_live", {A, K}, "the live view of an event day: queues, desks, the closing "
                                                   "forecast and its alerts (extending a desk: manage_events)")
# The kiosk role holds only this: a kiosk's token opens the ticket kiosk and no staff page. Coordinators and
# admins may open it to try it; a receptionist's or an officer's token cannot (tests/test_kiosk.py).
# The accounts whose tokens are kiosk devices: a thermal printer is attached to one of those, never to a
# person's token (admin/printers.py lists them).
KIOSK_DEVICE_ROLES = frozenset({KI})
may_use_kiosk = _capability("use_kiosk", {A, K, KI}, "the self-service ticket kiosk (/kiosk/<event id>)")

CAPABILITIES: tuple[Capability, ...] = (
    may_use_app, may_administer, may_read_events, may_manage_events, may_register_visitors, may_work_desks,
    may_read_funding, may_manage_funding, may_set_funding_target, may_read_reports, may_enter_paper_surveys,
    may_run_survey_kiosk, may_sync_field, may_reopen_steps, may_watch_live, may_use_kiosk)


# The roles bound to their agency's desks (the officer rule): the other desk roles work every desk.
AGENCY_BOUND_ROLES = frozenset({P})
# Who travels to a field laptop (domain/field): the roles that do the day's work at the venue (reception, the
# desks, running the event); of the agency-bound ones only the agencies with a desk there. The kiosks' accounts
# travel too, with their device tokens (hashes only) and printers, so the same kiosk takes tickets against the
# laptop at a venue with no internet; their tokens open only the kiosk there as here. Finance stays at the
# regency (funding does not travel).
FIELD_ROLES = frozenset(may_register_visitors.roles + may_work_desks.roles + may_manage_events.roles) \
    | KIOSK_DEVICE_ROLES


def may_work_every_desk(user: "User | None") -> bool:
    """Coordinators and admins work any desk of any event; an officer only the ones may_work_desk allows."""
    return may_work_desks(user) and user.role not in AGENCY_BOUND_ROLES


def may_work_desk(user: "User | None", desk: "Desk") -> bool:
    """The officer rule (module docstring): own agency's desk, open event; coordinators and admins anywhere."""
    return why_not_work_desk(user, desk) is None


def why_not_work_desk(user: "User | None", desk: "Desk") -> str | None:
    """None when `user` may work `desk`, else the reason in words (the API's 403 detail)."""
    from .models import EventStatus

    if not may_work_desks(user):
        return str(_l("Peran Anda tidak melayani loket."))
    if may_work_every_desk(user):
        return None
    if user.agency_id is None or desk.agency_id != user.agency_id:
        return str(_l("Loket ini milik instansi lain."))
    if desk.event.status != EventStatus.OPEN:
        return str(_l("Kegiatan loket ini belum dibuka atau sudah ditutup."))
    return None


def may_scrape_metrics(address: str | None, bearer: str | None, *, addresses: str, token: str) -> bool:
    """/metrics is for the regency's monitoring, not for staff roles: the configured monitoring addresses
    (BOTRAM_METRICS_ADDRESSES, single addresses or networks) or whoever shows BOTRAM_METRICS_TOKEN as a
    bearer token. Nothing configured: nobody (the route answers 404)."""
    import hmac
    import ipaddress

    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return True
    try:
        client = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    if getattr(client, "ipv4_mapped", None):
        client = client.ipv4_mapped
    for part in filter(None, (p.strip() for p in addresses.split(","))):
        if client in ipaddress.ip_network(part, strict=False):
            return True
    return False


def metrics_exposed(addresses: str, token: str) -> bool:
    return bool(addresses.strip() or token)


class TemplateView:
    """`may.read_reports` in a template: the signed-in user's capabilities by name."""

    def __init__(self, user: "User | None"):
        self._user = user

    def __getattr__(self, name: str) -> bool:
        capability = BY_NAME.get(name)
        if capability is None:
            raise AttributeError(f"no capability named {name!r}")  # a typo must not read as "not allowed"
        return capability(self._user)

    @property
    def work_every_desk(self) -> bool:
        return may_work_every_desk(self._user)

    def work_desk(self, desk: "Desk") -> bool:
        return may_work_desk(self._user, desk)


BY_NAME = {capability.name: capability for capability in CAPABILITIES}
