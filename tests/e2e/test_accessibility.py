"""WCAG 2 A/AA with axe-core on every page the demo roles reach, at the desk laptop's size (1366x768); the
pages a citizen opens on a phone (login, the ticket's status page, the survey and its thanks, and every public
page they link to) at phone size (390x844); the projector board at 1920x1080: no serious or critical
violation. Pages are found by walking the navigation and the links of every page reached (one page per kind
of address), so a new page is checked without touching this file. The walk has no silent limit: should it
ever exceed MAX_PAGES, it fails and lists the pages it left out.

The roles are walked from the least privileged up, and axe runs on each kind of page once, as the first role
that reaches it sees it: most of what the coordinator and the administrator reach, the finance officer and the
desk officer reached before them. Every role still opens every page it reaches (a page that fails to open for
one role fails the test), only the second axe run of the same kind of page is left out."""
from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from werkzeug.exceptions import HTTPException

from botram import create_app
from botram.models import UNSUR_KEYS

from .axe import describe, violations
from .conftest import api, demo_ids, login

pytestmark = pytest.mark.drawing


# least privileged first: a kind of page is checked with the first role here that reaches it
ROLES = ["petugas1", "resepsionis", "keuangan", "koordinator", "admin"]
SKIP = re.compile(r"/logout|\.xlsx|\.csv|/export|/letters?/|/print|/stream|/api/|/static/|/survei-kertas$")
LAPTOP, PHONE, PROJECTOR = (1366, 768), (390, 844), (1920, 1080)
MAX_PAGES = 80  # well above what any role reaches today (admin about 45, one per view; the test prints each walk)


def _links(page, base: str, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(a => a.href)")
    out = []
    for href in hrefs:
        parts = urlsplit(href)
        if href.startswith(base) and not SKIP.search(parts.path):
            out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


@functools.cache
def _routes():
    """The app's URL rules (no database is opened: only the map is read)."""
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).url_map.bind("127.0.0.1")


def _kind(path: str) -> str:
    """Addresses served by one view are one kind of page (`/admin/voice/huruf-a` and `/admin/voice/loket-1`
    are one page drawn twice); an address no rule matches is its own kind, so it is still opened and fails."""
    try:
        return _routes().match(path.split("?")[0], method="GET")[0]
    except HTTPException:
        return path


class _MainLinks(HTMLParser):
    """The links inside <main> of a page's HTML, as the server sent it."""

    def __init__(self):
        super().__init__()
        self.depth, self.hrefs = 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
        elif tag == "a" and self.depth and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag == "main" and self.depth:
            self.depth -= 1


def check(page, base: str, path: str, problems: dict, axe: bool = True) -> list[str]:
    """Open the page, run axe, note what fails; return the links in its main content. With `axe` False (this
    kind of page was checked with an earlier role) the page is only fetched with the browser's cookies, not
    drawn: the walk needs its status and its links."""
    if not axe:
        answer = page.request.get(base + path)
        assert answer.status < 400, (path, answer.status)
        if "text/html" not in answer.headers.get("content-type", ""):
            return []
        parser = _MainLinks()
        parser.feed(answer.text())
        out = []
        for href in parser.hrefs:
            url = urljoin(base + path, href)
            parts = urlsplit(url)
            if url.startswith(base) and not SKIP.search(parts.path):
                out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return out
    response = page.goto(base + path)  # waits for the load event: our pages draw everything server-side
    assert response is not None and response.status < 400, (path, response and response.status)
    if "text/html" not in response.headers.get("content-type", ""):
        return []
    found = violations(page)
    if found:
        problems[path] = describe(found)
    return _links(page, base, "main a[href]")


def walk(page, base: str, starts: list[str], problems: dict, checked: set | None = None) -> list[str]:
    """Breadth first from `starts` and the navigation of the first, one page of every kind, every page
    reached; past MAX_PAGES the test fails with the list of pages left unchecked. `checked` holds the kinds
    axe has run on already (an earlier role's walk): those are opened and their links followed, not re-run."""
    checked = set() if checked is None else checked
    page.goto(base + starts[0])
    queue, seen, visited = [], set(), []
    for path in starts + _links(page, base, "nav a[href], header a[href]"):
        if _kind(path) not in seen:
            seen.add(_kind(path))
            queue.append(path)
    while queue:
        if len(visited) >= MAX_PAGES:
            pytest.fail(f"the walk reached {MAX_PAGES} pages and left these unchecked: {queue}; "
                        "raise MAX_PAGES (and check the test's time)", pytrace=False)
        path = queue.pop(0)
        visited.append(path)
        for link in check(page, base, path, problems, axe=_kind(path) not in checked):
            if _kind(link) not in seen:
                seen.add(_kind(link))
                queue.append(link)
        checked.add(_kind(path))
    return visited


def _report(problems: dict) -> str:
    return "\n".join(f"{path}:\n{text}" for path, text in problems.items())


@pytest.mark.timeout(600)  # every page of every role; axe once on each kind of page
def test_every_page_each_role_reaches_has_no_serious_violation(live_server, new_page):
    checked: set[str] = set()
    problems: dict[str, str] = {}
    for username in ROLES:
        page = new_page(*LAPTOP)
        login(page, live_server.url, username)
        before = set(checked)
        pages = walk(page, live_server.url, ["/"], problems, checked)
        assert len(pages) >= 2, (username, pages)  # at least home and the role's own page (reception works on one)
        mine = [p for p in pages if _kind(p) not in before]
        print(f"{username}: {len(pages)} pages, axe on {len(mine)} first reached here: {mine}")
    assert not problems, _report(problems)


@pytest.mark.timeout(300)
def test_what_a_citizen_opens_on_a_phone_has_no_serious_violation(live_server, new_page):
    """A ticket served at a desk, so its survey is open: the status page, the survey, its thanks and the
    login, at phone size, and every page they link to (a citizen is never signed in)."""
    base = live_server.url
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(live_server)
    _, visit = api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
                   {"services": [desks[1]["services"][0]["id"]], "priority": "lansia"})
    token = urlsplit(visit["status_url"]).path.rsplit("/", 1)[1]
    _, called = api(live_server, "POST", f"/api/v1/desks/{desks[1]['id']}/call-next", officer)
    assert api(live_server, "POST", f"/api/v1/steps/{called['step_id']}/finish", officer,
               {"outcome": "done"})[0] == 200

    phone = new_page(*PHONE)
    problems: dict[str, str] = {}
    pages = walk(phone, base, [f"/status/{token}", f"/survey/{token}", "/login"], problems)
    assert {_kind(p) for p in pages} >= {"public.status", "survey.answer", "auth.login"}, pages
    answer = requests.post(f"{base}/api/v1/visits/{token}/survey", json={"scores": {k: 4 for k in UNSUR_KEYS}},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    pages += walk(phone, base, [f"/survey/{token}/terima-kasih"], problems)
    # the status page of a ticket still waiting says other things than a served one's
    _, waiting = api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
                     {"services": [desks[1]["services"][0]["id"]]})
    check(phone, base, urlsplit(waiting["status_url"]).path, problems)
    print(f"phone: {len(pages) + 1} pages: {pages}")
    assert not problems, _report(problems)


def test_projector_board_has_no_serious_violation(live_server, new_page):
    base = live_server.url
    event_id, _ = demo_ids(live_server)
    problems: dict[str, str] = {}
    check(new_page(*PROJECTOR), base, f"/board/{event_id}", problems)
    assert not problems, _report(problems)
