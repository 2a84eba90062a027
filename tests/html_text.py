"""Reading a page the way a person does: the text of its elements with whitespace collapsed, and the
attributes of its elements in any order. Tests assert on these, never on how the template happens to indent
or order its markup (stdlib HTMLParser; no dependency)."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Collector(HTMLParser):
    def __init__(self, tag: str, cls: str | None):
        super().__init__(convert_charrefs=True)
        self.tag, self.cls = tag, cls
        self.found: list[tuple[dict, list[str]]] = []
        self._open: list[tuple[str, list[str] | None]] = []  # every open element; text parts for the wanted ones

    def _wanted(self, tag: str, attrs: dict) -> bool:
        return tag == self.tag and (self.cls is None or self.cls in (attrs.get("class") or "").split())

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        parts = None
        if self._wanted(tag, attributes):
            parts = []
            self.found.append((attributes, parts))
        if tag not in VOID:
            self._open.append((tag, parts))

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data):
        for _tag, parts in self._open:
            if parts is not None:
                parts.append(data)


def _collect(html: str, tag: str, cls: str | None) -> list[tuple[dict, list[str]]]:
    parser = _Collector(tag, cls)
    parser.feed(html)
    parser.close()
    return parser.found


def texts(html: str, tag: str, cls: str | None = None) -> list[str]:
    """The text of every `<tag>` (with `cls` among its classes, if given), whitespace collapsed."""
    return [" ".join("".join(parts).split()) for _attrs, parts in _collect(html, tag, cls)]


def elements(html: str, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
    """The attributes of every `<tag>` (a bare attribute such as `selected` maps to None)."""
    return [attrs for attrs, _parts in _collect(html, tag, cls)]
