"""English as a second UI language: the catalogue is complete and every role's main pages render in English.

Indonesian is the source language: every msgid is the Indonesian text, and `botram/translations/en` holds the
English. When you add or change a `_()` / `_l()` / `ngettext` / `pgettext` string, update the catalogue:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/messages.pot .
    .venv/bin/pybabel update -i /tmp/messages.pot -d botram/translations -l en
    # translate the new entries in botram/translations/en/LC_MESSAGES/messages.po, remove their `fuzzy` flags
    .venv/bin/pybabel -q compile -d botram/translations

Commit only the .po (the .mo is git-ignored; `make install` / `make test` compile it).
`test_catalogue_covers_every_string_in_the_code` fails until the new strings are in the .po, and
`test_english_catalogue_is_complete` until they are translated.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from botram.domain import queue

from .factories import make_desk, make_event, make_user
from .html_text import texts

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "botram" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|%[sdif]")


def _catalogue():
    with PO.open("rb") as fh:
        return read_po(fh)


def _forms(message) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs, singular and plural."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if len(ids) == 2 and len(strings) == 2:
        return list(zip(ids, strings))
    return [(ids[0], s) for s in strings]


@pytest.fixture(scope="module", autouse=True)
def _compiled_catalogue():
    """`make test` compiles the catalogue; a bare `pytest` after editing the .po gets a fresh .mo too."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        fd, tmp = tempfile.mkstemp(dir=MO.parent, suffix=".mo")
        with os.fdopen(fd, "wb") as fh:
            write_mo(fh, _catalogue())
        os.replace(tmp, MO)


# (a) the catalogue itself ---------------------------------------------------------------------------------

@pytest.mark.db_independent
def test_english_catalogue_is_complete():
    catalogue = _catalogue()
    entries = [m for m in catalogue if m.id]
    assert len(entries) > 900
    untranslated = [m.id for m in entries if not all(s.strip() for _, s in _forms(m))]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalogue.fuzzy, "the header is still marked fuzzy"
    assert list(catalogue.obsolete) == [], "obsolete (#~) entries: remove them"


@pytest.mark.db_independent
def test_every_translation_keeps_the_placeholders():
    wrong = []
    for message in _catalogue():
        if not message.id:
            continue
        for msgid, msgstr in _forms(message):
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr)):
                wrong.append((msgid, msgstr))
            if msgid != msgid.strip() and (msgid[:1].isspace(), msgid[-1:].isspace()) != \
                    (msgstr[:1].isspace(), msgstr[-1:].isspace()):
                wrong.append((msgid, msgstr))  # " atau " → " or ": joining pieces keeps its spaces
    assert wrong == []


@pytest.mark.db_independent
def test_english_is_really_english():
    """Spot checks that the msgstr is a translation, not the Indonesian copied over."""
    english = {(m.context, m.id): m.string for m in _catalogue() if m.id and not isinstance(m.id, tuple)}
    assert english[(None, "Keluar")] == "Sign out"
    assert english[(None, "Panggil berikutnya")] == "Call next"
    assert english[("singular", "Loket")] == "Desk"
    assert english[(None, "Loket")] == "Desks"
    kept_identical = [key[1] for key, text in english.items() if key[1] == text]
    # Proper names and codes officials use in English too.
    assert set(kept_identical) <= {
        "BOTRAM", "Berkolaborasi Terus Melayani", "BOTRAM — Berkolaborasi Terus Melayani", "Bekasi,",
        "Bekasi, %(date)s", "Administrator", "Status", "Sponsor", "Target", "target", "Info", "Email", "Format",
        "No.", "NIK", "NIP.", "NPWP", "IKM", "APBD"}, kept_identical


# (b) nothing in the code is missing from the catalogue -----------------------------------------------------

@pytest.mark.db_independent
def test_catalogue_covers_every_string_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k",
                                    "lazy_gettext", "-o", str(pot), "."])
    finally:
        os.chdir(cwd)
    with pot.open("rb") as fh:
        extracted = {(m.context, m.id) for m in read_po(fh) if m.id}
    in_po = {(m.context, m.id) for m in _catalogue() if m.id}
    assert len(extracted) > 900
    missing = sorted(str(key) for key in extracted - in_po)
    assert missing == [], "run pybabel extract/update and translate (see this module's docstring)"


# (c) every role's main pages in English ---------------------------------------------------------------------

@pytest.fixture
def world(app):
    event = make_event("BOTRAM Uji Bahasa")
    desk = make_desk(event, 1, "DISDUKCAPIL")
    make_desk(event, 3, "BAPENDA")
    users = {role: make_user(role) for role in ("admin", "koordinator", "resepsionis", "petugas", "keuangan")}
    queue.issue_visit(event.id, [desk.services[0].id], by_user_id=users["resepsionis"].id)
    return {"event": event.id, "desk": desk.id}


def _pages(world) -> dict[str, list[tuple[str, list[str]]]]:
    """role -> (path, English words that must appear)."""
    home = ("/", ["Welcome,", "Sign out", "Events in progress"])
    events = ("/events/", ["BOTRAM events", "Schedule of outreach services", "All months"])
    reception = (f"/reception/{world['event']}", ["Reception", "Create ticket", "Priority group"])
    desk = (f"/desk/{world['desk']}", ["Call next", "Current visitor", "Keyboard shortcuts"])
    users = ("/admin/users", ["Add user", "Search name or username", "All roles"])
    funding = ("/funding/", ["BOTRAM funding", "Budget year", "APBD share"])
    reports = ("/reports/", ["BOTRAM report, Bekasi Regency", "Events held", "Citizen visits"])
    return {
        "admin": [home, events, reception, desk, users, funding, reports],
        "koordinator": [home, events, reception, desk, funding, reports],
        "resepsionis": [home, reception],
        "petugas": [home, ("/desk/", desk[1]), desk],  # /desk/ opens the only desk of the agency
        "keuangan": [home, events, funding, reports],
    }


def _switch_to_english(client):
    response = client.post("/lang/en", data={"next": "/"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/")


@pytest.mark.parametrize("role", ["admin", "koordinator", "resepsionis", "petugas", "keuangan"])
def test_main_pages_in_english(client, auth, world, role):
    auth.login(role)
    _switch_to_english(client)
    for path, words in _pages(world)[role]:
        response = client.get(path, follow_redirects=True)  # /desk/ goes straight to the only desk
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert '<html lang="en">' in html, path
        for word in words:
            assert word in html, f"{path}: {word!r} missing"
        # Navigation and chrome are English too, not the Indonesian msgids.
        for indonesian in (">Keluar<", ">Beranda<", "Langsung ke isi"):
            assert indonesian not in html, f"{path}: {indonesian!r} left in Indonesian"


def test_indonesian_is_the_default(client, auth, world):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="id">' in html and "Masuk petugas" in html
    auth.login("koordinator")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in html and "Keluar" in html and "Sign out" not in html
    html = client.get("/events/").get_data(as_text=True)
    assert "Kegiatan BOTRAM" in html and "BOTRAM events" not in html


def test_language_picked_before_sign_in_is_kept_and_can_be_switched_back(client, auth, world):
    _switch_to_english(client)
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Staff sign-in" in html
    auth.login("koordinator")
    html = client.get("/events/").get_data(as_text=True)
    assert '<html lang="en">' in html and "BOTRAM events" in html

    response = client.post("/lang/id", data={"next": "/events/"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/events/")
    html = client.get("/events/").get_data(as_text=True)
    assert '<html lang="id">' in html and "Kegiatan BOTRAM" in html


def test_unknown_language_is_ignored(client, auth, world):
    auth.login("admin")
    response = client.post("/lang/fr", data={"next": "/"})
    assert response.status_code == 303
    assert '<html lang="id">' in client.get("/").get_data(as_text=True)


def test_language_switch_needs_the_form_token(client, auth, world):
    auth.login("admin")
    client.post("/lang/en", data={"next": "/"}, no_csrf=True)
    assert '<html lang="id">' in client.get("/").get_data(as_text=True)


def test_singular_context_reads_as_a_column_header(client, auth, world):
    """`Loket`/`Kegiatan`/`Instansi`/`Layanan` are nav items (plural) and column headers (singular)."""
    auth.login("admin")
    _switch_to_english(client)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "Agency" in texts(html, "th") and "Agencies" in texts(html, "a")
    html = client.get("/events/").get_data(as_text=True)
    assert "Event" in texts(html, "th") and "Events" in texts(html, "a")


# (d) no Indonesian left on the English pages of reports, funding and domain messages --------------------------

# Indonesian UI text that once leaked into English pages: domain labels (sponsor kinds, contribution states,
# SKM questions and answers, grades, profile answers), chart text, the report's recommendations, domain errors.
LEAKS = ("Dijanjikan", "Diterima", "Perusahaan (CSR)", "Uang tunai", "Barang/jasa", "Perlengkapan kesehatan",
         "Apakah persyaratan", "Seberapa", "Sangat sesuai", "Sangat Baik", "Kurang Baik", "Laki-laki", "Perempuan",
         "tahun ke atas", "Pegawai swasta", " perlu ", "warga", "Kapasitas loket", "kedatangan", "kunjungan",
         "loket buka", "Lebih Rp", "Porsi APBD", "wajib diisi", "Teks berjalan", "Kelebihan", "dikurangi",
         "Kedatangan per jam", "Kunjungan per bulan", "Tunai sponsor")
DECIMAL_COMMA = re.compile(r"\d,\d+\s*%|data-testid=\"(?:ikm|ikm-big)\">\d+,\d")


def _visible(html: str) -> str:
    """What a person reads or hears: text, the SVG titles, and tooltips; not scripts, styles or CSS classes."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    attributes = " ".join(re.findall(r'(?:title|aria-label|placeholder)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + attributes


@pytest.fixture
def demo(app):
    import sqlalchemy as sa

    from botram.domain.demo import seed_demo
    from botram.extensions import db
    from botram.models import Event, SurveyResponse

    from .conftest import PASSWORD

    seed_demo(PASSWORD)
    db.session.commit()
    surveyed = db.session.scalar(sa.select(SurveyResponse.event_id).group_by(SurveyResponse.event_id)
                                 .order_by(sa.func.count().desc()).limit(1))
    today = db.session.scalar(sa.select(Event.id).where(Event.status == "open").limit(1))
    return {"surveyed": surveyed, "open": today}


def test_reports_and_funding_leave_no_indonesian_on_english_pages(client, auth, demo):
    auth.login("koordinator")
    _switch_to_english(client)
    pages = ["/reports/", f"/reports/events/{demo['surveyed']}", "/funding/", "/funding/contributions",
             f"/reports/events/{demo['surveyed']}/survei-kertas"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        text = _visible(html)
        leaked = [word for word in LEAKS if word in text]
        assert not leaked, f"{path}: Indonesian left in English: {leaked}"
        assert not DECIMAL_COMMA.search(html), f"{path}: {DECIMAL_COMMA.search(html).group(0)!r}"
    report = client.get(f"/reports/events/{demo['surveyed']}").get_data(as_text=True)
    assert re.search(r'data-testid="ikm">\d{2}\.\d{2}<', report) and "Arrivals per hour" in report
    assert "Requirements" in report and "Staff conduct" in report
    funding = client.get("/funding/contributions").get_data(as_text=True)
    assert "Received" in funding and "Company (CSR)" in funding
    paper = client.get(f"/reports/events/{demo['surveyed']}/survei-kertas").get_data(as_text=True)
    assert "How quickly were you served?" in paper and "Very polite and friendly" in paper


def test_domain_errors_follow_the_language(client, auth, demo):
    auth.login("koordinator")
    running = f"/events/{demo['open']}/running-text"
    html = client.post(running, data={"running_text": "Hubungi 0812-3456-7890"}).get_data(as_text=True)
    assert "hapus nomor yang mirip NIK" in html
    _switch_to_english(client)
    html = client.post(running, data={"running_text": "Hubungi 0812-3456-7890"}).get_data(as_text=True)
    assert "remove the number that looks like a NIK or a phone number" in html and "Teks berjalan" not in html
    html = client.post(running, data={"running_text": "x" * 501}).get_data(as_text=True)
    assert "Scrolling text may be at most 500 characters." in html
    # a rule only the domain knows, with words filled in (the states) that are translated too
    html = client.post(f"/events/{demo['open']}/status", data={"status": "open"}, follow_redirects=True).get_data(
        as_text=True)
    assert "The event status cannot change from open to open." in html and "tidak dapat diubah" not in html


def test_script_sentences_come_from_the_page_in_the_ui_language(client, auth, world):
    import json

    from botram.i18n import js_strings

    auth.login("admin")
    _switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    from html import unescape

    block = json.loads(unescape(re.search(r'<meta name="botram-text" content="([^"]*)">', html).group(1)))
    assert block["server_error"] == "Something went wrong on the server. Please try again."
    assert block["copied"] == "Token copied."
    from flask_babel import force_locale

    with client.application.test_request_context(), force_locale("id"):
        indonesian = js_strings()  # the Indonesian source sentences
    assert indonesian["copied"] == "Token disalin."
    scripts = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "botram" / "static" / "js").glob("*.js"))
    left = [sentence for sentence in indonesian.values() if sentence in scripts]
    assert not left, f"sentences written into a script instead of coming from the page: {left}"
