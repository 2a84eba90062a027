"""WCAG 2 A/AA with axe-core on every page each demo role reaches, the projector board and a ticket status
page: no serious or critical violation. Pages are found by walking the navigation and the links one step
from it (one page per kind of address), so a new page is checked without touching this file."""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from .axe import describe, violations
from .conftest import login

pytestmark = pytest.mark.drawing


ROLES = ["admin", "koordinator", "resepsionis", "petugas1", "keuangan"]
SKIP = re.compile(r"/logout|\.xlsx|\.csv|/export|/letters?/|/print|/stream|/api/|/static/|/survei-kertas$")
PER_ROLE = 28


def _links(page, base: str, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(a => a.href)")
    out = []
    for href in hrefs:
        parts = urlsplit(href)
        if href.startswith(base) and not SKIP.search(parts.path):
            out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def _kind(path: str) -> str:
    """Addresses that differ only in ids are one kind of page."""
    return re.sub(r"\d+", "N", path.split("?")[0])


def check(page, base: str, path: str, problems: dict) -> list[str]:
    """Open the page, run axe, note what fails; return the links in its main content."""
    response = page.goto(base + path)
    assert response is not None and response.status < 500, path
    if "text/html" not in response.headers.get("content-type", ""):
        return []
    page.wait_for_load_state("networkidle")
    found = violations(page)
    if found:
        problems[path] = describe(found)
    return _links(page, base, "main a[href]")


def walk(page, base: str, problems: dict) -> list[str]:
    """Breadth first from the home page and the navigation, one page of every kind, up to PER_ROLE pages."""
    page.goto(base + "/")
    queue, seen, visited = [], set(), []
    for path in ["/"] + _links(page, base, "nav a[href], header a[href]"):
        if _kind(path) not in seen:
            seen.add(_kind(path))
            queue.append(path)
    while queue and len(visited) < PER_ROLE:
        path = queue.pop(0)
        visited.append(path)
        for link in check(page, base, path, problems):
            if _kind(link) not in seen:
                seen.add(_kind(link))
                queue.append(link)
    return visited


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_has_no_serious_violation(page, live_server, username):
    login(page, live_server.url, username)
    problems: dict[str, str] = {}
    pages = walk(page, live_server.url, problems)
    assert len(pages) >= 3, pages
    assert not problems, "\n".join(f"{path}:\n{text}" for path, text in problems.items())


def test_board_status_page_and_login_have_no_serious_violation(page, live_server):
    base = live_server.url
    problems: dict[str, str] = {}
    check(page, base, "/login", problems)
    login(page, base, "resepsionis")
    event = next(e for e in page.request.get(base + "/api/v1/events").json() if e["status"] == "open")
    services = page.request.get(base + f"/api/v1/events/{event['id']}/services").json()
    token = json.loads(page.evaluate("() => document.body.getAttribute('hx-headers')"))["X-CSRFToken"]
    visit = page.request.post(base + f"/api/v1/events/{event['id']}/visits", headers={"X-CSRFToken": token},
                              data={"services": [services[0]["id"]], "priority": "lansia"})
    assert visit.status == 201, visit.text()
    check(page, base, urlsplit(visit.json()["status_url"]).path, problems)
    check(page, base, f"/board/{event['id']}", problems)
    assert not problems, "\n".join(f"{path}:\n{text}" for path, text in problems.items())
