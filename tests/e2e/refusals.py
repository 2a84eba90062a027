"""The 4xx answers a browser test expects. Chromium logs every answer with an error status as a console
error; the conftest lets such a line pass only when the test declared that refusal here, by status and
address, on the page that receives it. Anything else — an htmx request answered 403 or 404 by mistake, a
form that suddenly answers 400 — fails the test."""
from __future__ import annotations

import re
from urllib.parse import urlsplit


def expect_refusal(page, status: int, path: str) -> None:
    """Let `page` receive `status` (a 4xx) from addresses whose path (with its query) matches the regular
    expression `path` in full, e.g. `expect_refusal(page, 422, r"/reception/register")`."""
    assert 400 <= status < 500, "only a 4xx is a refusal the app means; a 5xx is always a fault"
    if not hasattr(page, "_botram_refusals"):
        page._botram_refusals = []
    page._botram_refusals.append((status, re.compile(path)))


def declared(page, status: int, url: str) -> bool:
    """Whether the test declared `status` from `url` as expected on this page."""
    parts = urlsplit(url)
    address = parts.path + (f"?{parts.query}" if parts.query else "")
    return any(status == s and (p.fullmatch(address) or p.fullmatch(parts.path))
               for s, p in getattr(page, "_botram_refusals", ()))
