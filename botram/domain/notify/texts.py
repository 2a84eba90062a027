"""The messages' words: short (one SMS where the event's name allows), in the language the visitor chose,
with the ticket code, the service, the desk and the event; never a name or NIK."""
from __future__ import annotations

from flask_babel import force_locale, gettext as _

EVENT_CHARS = 40  # a long event title would push the message into a second SMS


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def near(locale: str | None, *, code: str, service: str, ahead: int, event: str) -> str:
    with force_locale(locale or "id"):
        if ahead == 0:
            return _("%(event)s: tiket %(code)s (%(service)s) berikutnya dipanggil. Mohon bersiap di dekat loket.",
                     event=_short(event, EVENT_CHARS), code=code, service=service)
        return _("%(event)s: giliran tiket %(code)s (%(service)s) sudah dekat, %(n)d orang lagi. "
                 "Mohon kembali ke ruang tunggu.", event=_short(event, EVENT_CHARS), code=code, service=service,
                 n=ahead)


def called(locale: str | None, *, code: str, service: str, desk: str, event: str) -> str:
    with force_locale(locale or "id"):
        return _("%(event)s: tiket %(code)s dipanggil ke %(desk)s (%(service)s). Silakan menuju loket sekarang.",
                 event=_short(event, EVENT_CHARS), code=code, desk=desk, service=service)


# ------------------------------------------------------------------------------------------ booking messages

LIST_CHARS = 90  # services or what to bring: the rest is on the booking's page


def _date(day) -> str:
    from flask_babel import format_date  # in the forced locale: "Sen 9 Des 2026" or "Mon 9 Dec 2026"

    return format_date(day, "EEE d MMM y")


def booking_confirmed(locale: str | None, *, code: str, event: str, day, window: str, venue: str,
                      services: str, link: str | None) -> str:
    with force_locale(locale or "id"):
        text = _("%(event)s: pemesanan %(code)s tercatat untuk %(date)s, %(window)s WIB, di %(venue)s. "
                 "Layanan: %(services)s.", event=_short(event, EVENT_CHARS), code=code,
                 date=_date(day), window=window, venue=_short(venue, EVENT_CHARS),
                 services=_short(services, LIST_CHARS))
        if link:
            text += " " + _("Lihat, ubah atau batalkan: %(link)s", link=link)
        return text


def booking_reminder(locale: str | None, *, code: str, event: str, day, window: str, venue: str,
                     bring: str) -> str:
    with force_locale(locale or "id"):
        text = _("%(event)s besok, %(date)s, %(window)s WIB, di %(venue)s. Tunjukkan kode pemesanan %(code)s.",
                 event=_short(event, EVENT_CHARS), date=_date(day), window=window,
                 venue=_short(venue, EVENT_CHARS), code=code)
        if bring:
            text += " " + _("Bawa: %(bring)s.", bring=_short(bring, LIST_CHARS))
        return text


def booking_moved(locale: str | None, *, code: str, event: str, day, venue: str) -> str:
    with force_locale(locale or "id"):
        return _("%(event)s pindah: sekarang %(date)s di %(venue)s. Pemesanan %(code)s tetap berlaku; "
                 "bila tidak bisa datang, batalkan lewat tautan pemesanan Anda.", event=_short(event, EVENT_CHARS),
                 date=_date(day), venue=_short(venue, EVENT_CHARS), code=code)


def booking_cancelled(locale: str | None, *, code: str, event: str, day) -> str:
    with force_locale(locale or "id"):
        return _("%(event)s pada %(date)s dibatalkan. Pemesanan %(code)s tidak berlaku. Mohon maaf; "
                 "lihat jadwal BOTRAM untuk hari lain.", event=_short(event, EVENT_CHARS), date=_date(day),
                 code=code)
