"""Finding the forms to fuzz by walking the pages each role reaches, the way a person would.

`walk(client, start)` follows the links of every page a signed-in user can open (one page per URL shape, so
at most a few pages of one shape such as `/funding/sponsors/N`) and collects every <form> rendered on them: its
method, the URL it posts to, and its fields with the values the page put in them. Nothing here knows which
forms exist: a new page or a new field is fuzzed without a change to the tests.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

SKIP_LINKS = re.compile(r"^/(static|api|board/\d+/stream)|\.(xlsx|csv|png|svg|js|css)(\?|$)|/export|/logout")
TEXT_INPUTS = {"text", "search", "email", "tel", "url", "number", "date", "time", "datetime-local", "color",
               "password", "hidden", "month", "week", "range"}


@dataclass
class FormField:
    name: str
    kind: str                       # input type, "select", "select-multiple" or "textarea"
    value: str = ""                 # what the page put in it (value attribute, selected option, text)
    options: list[str] = field(default_factory=list)   # select options / radio or checkbox values
    checked: list[str] = field(default_factory=list)   # checked radios/checkboxes, selected options
    required: bool = False


@dataclass
class Form:
    method: str
    action: str
    page: str
    fields: dict[str, FormField] = field(default_factory=dict)
    htmx: bool = False
    plain_submit: bool = False  # an unnamed submit button: the usual way to send the form

    @property
    def shape(self) -> tuple:
        return self.method, url_shape(self.action), tuple(sorted(self.fields))

    def default_data(self) -> dict[str, list[str]]:
        """What a browser submits when the person changes nothing."""
        data: dict[str, list[str]] = {}
        for f in self.fields.values():
            if f.kind in ("checkbox", "radio", "select-multiple"):
                if f.checked:
                    data[f.name] = list(f.checked)
            elif f.kind == "select":
                # a person picks something: the selected option, else the first real one
                chosen = f.checked[:1] or [o for o in f.options if o][:1] or f.options[:1] or [""]
                data[f.name] = chosen
            elif f.kind == "submit":
                if not self.plain_submit:
                    data[f.name] = [f.options[0]]  # only named buttons: the first is the one pressed
            else:
                data[f.name] = [f.value]
        return data


def url_shape(url: str) -> str:
    """`/funding/sponsors/12/edit?x=1` → `/funding/sponsors/N/edit`: one page per shape is walked."""
    path = urlsplit(url).path
    return re.sub(r"/\d+(?=/|$)", "/N", re.sub(r"/[A-Za-z0-9_-]{20,}(?=/|$)", "/T", path))


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: FormField | None = None
        self._option: dict | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        if tag == "form":
            method = (a.get("method") or "get").upper()
            action = a.get("hx-post") or a.get("action") or self.page
            if a.get("hx-post"):
                method = "POST"
            self._form = Form(method=method, action=urljoin(self.page, action), page=self.page,
                              htmx="hx-post" in a or "hx-get" in a)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            existing = form.fields.get(name)
            if kind in ("checkbox", "radio"):
                f = existing or form.fields.setdefault(name, FormField(name, kind))
                f.options.append(a.get("value", "on"))
                if "checked" in a:
                    f.checked.append(a.get("value", "on"))
                f.required = f.required or "required" in a
            elif kind in ("submit", "image"):
                self._button(form, name, a)
            elif kind in ("button", "reset", "file"):
                return
            else:
                form.fields[name] = FormField(name, kind, a.get("value", ""), required="required" in a)
        elif tag == "input" and (a.get("type") or "").lower() == "submit":
            form.plain_submit = True
        elif tag == "button" and (a.get("type") or "submit").lower() == "submit":
            if name:
                self._button(form, name, a)
            else:
                form.plain_submit = True
        elif tag == "select" and name:
            kind = "select-multiple" if "multiple" in a else "select"
            self._select = form.fields.setdefault(name, FormField(name, kind, required="required" in a))
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
        elif tag == "textarea" and name:
            self._textarea = form.fields.setdefault(name, FormField(name, "textarea", required="required" in a))

    @staticmethod
    def _button(form: Form, name: str, a: dict) -> None:
        """A named submit button sends its value when pressed: a field like any other (the desk's outcome)."""
        f = form.fields.setdefault(name, FormField(name, "submit"))
        f.options.append(a.get("value", ""))

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            self._select.options.append(value)
            if self._option["selected"]:
                self._select.checked.append(value)
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # the HTML parser keeps the newline browsers drop right after <textarea>
            self._textarea.value = re.sub(r"^\r?\n", "", self._textarea.value)
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def parse(html: str, page: str) -> tuple[list[Form], list[str]]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms, parser.links


def walk(client, start: list[str], *, max_pages: int = 150, per_shape: int = 3) -> tuple[list[Form], list[str]]:
    """Every distinct form on the pages reachable from `start` by links, and the pages opened.

    At most `per_shape` pages of one URL shape are opened (three sponsors, not three hundred): enough to meet
    the variants of a page (a desk whose service records an amount shows one more field)."""
    queue = list(start)
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    pages: list[str] = []
    forms: dict[tuple, Form] = {}
    while queue and len(pages) < max_pages:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or SKIP_LINKS.search(parts.path):
            continue
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        shape = url_shape(target) + ("?" + "&".join(sorted(k for k, _ in parse_qsl(parts.query))) if parts.query
                                     else "")
        if target in seen or shapes.get(shape, 0) >= per_shape:
            continue
        seen.add(target)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(target)
        assert response.status_code < 500, (target, response.status_code)
        if response.status_code in (301, 302, 303, 307, 308):
            queue.insert(0, urljoin("http://localhost" + target, response.headers["Location"]))
            continue
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        pages.append(target)
        found, links = parse(response.get_data(as_text=True), "http://localhost" + target)
        for form in found:
            form.action = _local(form.action)
            form.page = target
            forms.setdefault(form.shape, form)
        queue.extend(links)
    return list(forms.values()), pages


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
