"""Server-rendered inline SVG charts: no script, no CDN, they print and work offline."""
from __future__ import annotations

from datetime import date

from flask_babel import format_date, gettext as _, ngettext
from markupsafe import Markup, escape

from ...domain.hours import HoursReport
from ...domain.regency import MonthRow

DASH = ' stroke-dasharray="3 4"'
BRAND, GOLD, DANGER, INK, SOFT, LINE = "#0f4c5c", "#e0a100", "#b3261e", "#14212b", "#4a5a66", "#d5dde3"


def _month(row: MonthRow) -> str:
    """`Okt 2026` / `Oct 2026` in the UI language."""
    return format_date(date(row.year, row.month, 1), "MMM y")


def _nice_max(value: int, step: int = 5) -> int:
    return max(step, ((value + step - 1) // step) * step)


def hours_chart(report: HoursReport, width: int = 880, height: int = 300) -> Markup:
    """Bars: arrivals per hour (left axis). Gold line with dots: open desks (right axis). Red band: an hour in
    which some agency's demand exceeded its capacity."""
    rows = report.hours
    if not rows:
        return Markup("")
    left, right, top, bottom = 44, 44, 30, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    max_a = _nice_max(report.max_arrivals)
    max_d = max(2, report.max_desks + 1)
    slot = plot_w / len(rows)
    bar_w = min(46, slot * 0.58)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="hours-title hours-desc" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="Inter, system-ui, sans-serif">',
             '<title id="hours-title">' + escape(_("Kedatangan per jam dan jumlah loket buka")) + '</title>',
             '<desc id="hours-desc">' + escape("; ".join(
                 _("%(hour)s: %(arrivals)d kedatangan, %(desks)d loket", hour=r.label, arrivals=r.arrivals, desks=r.open_desks)
                 for r in rows)) + '</desc>']
    for i in range(0, 5):
        y = top + plot_h - plot_h * i / 4
        value = round(max_a * i / 4)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}" '
                     f'stroke-width="1"{"" if i == 0 else DASH}/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{SOFT}">{value}</text>')
    for d in range(0, max_d + 1):
        y = top + plot_h - plot_h * d / max_d
        parts.append(f'<text x="{width - right + 8}" y="{y + 4:.1f}" font-size="11" fill="#8a5a00">{d}</text>')
    points = []
    for i, row in enumerate(rows):
        x0 = left + slot * i
        cx = x0 + slot / 2
        if row.exceeded:
            parts.append(f'<rect x="{x0 + 1:.1f}" y="{top - 24}" width="{slot - 2:.1f}" height="{plot_h + 24}" fill="{DANGER}" '
                         f'fill-opacity="0.08"/>')
            parts.append(f'<text x="{cx:.1f}" y="{top - 10}" text-anchor="middle" font-size="13" font-weight="800" '
                         f'fill="{DANGER}">!</text>')
        h = plot_h * row.arrivals / max_a
        parts.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'rx="3" fill="{BRAND}"><title>' + escape(_("%(hour)s: %(n)d kedatangan", hour=row.label, n=row.arrivals))
                     + '</title></rect>')
        if row.arrivals:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h - h - 5:.1f}" text-anchor="middle" font-size="12" '
                         f'font-weight="700" fill="{INK}">{row.arrivals}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="12" '
                     f'fill="{SOFT}">{row.label}</text>')
        points.append((cx, top + plot_h - plot_h * row.open_desks / max_d, row))
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _r) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="{GOLD}" stroke-width="3" stroke-linejoin="round"/>')
    for x, y, row in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#fff" stroke="{GOLD}" stroke-width="3">'
                     '<title>' + escape(_("%(hour)s: %(n)d loket buka", hour=row.label, n=row.open_desks)) + '</title></circle>')
    parts.append(f'<text x="{left}" y="{height - 8}" font-size="11" fill="{SOFT}">' + escape(_("Kedatangan (orang)")) + '</text>')
    parts.append(f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="11" fill="#8a5a00">'
                 + escape(_("Loket buka")) + '</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(months: list[MonthRow], width: int = 880, height: int = 240) -> Markup:
    """Visits per month as bars, with the number of events under each month."""
    if not months:
        return Markup("")
    left, right, top, bottom = 44, 12, 18, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    max_v = _nice_max(max(m.visits for m in months), 10)
    slot = plot_w / len(months)
    bar_w = min(56, slot * 0.6)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="trend-title trend-desc" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="Inter, system-ui, sans-serif">',
             '<title id="trend-title">' + escape(_("Kunjungan per bulan")) + '</title>',
             '<desc id="trend-desc">' + escape("; ".join(
                 _("%(month)s: %(visits)d kunjungan, %(events)d kegiatan", month=_month(m), visits=m.visits, events=m.events)
                 for m in months)) + '</desc>']
    for i in range(0, 5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}" '
                     f'stroke-width="1"{"" if i == 0 else DASH}/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{SOFT}">'
                     f'{round(max_v * i / 4)}</text>')
    for i, month in enumerate(months):
        cx = left + slot * i + slot / 2
        h = plot_h * month.visits / max_v
        parts.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'rx="3" fill="{BRAND}"><title>' + escape(_("%(month)s: %(n)d kunjungan", month=_month(month), n=month.visits))
                     + '</title></rect>')
        if month.visits:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h - h - 5:.1f}" text-anchor="middle" font-size="12" '
                         f'font-weight="700" fill="{INK}">{month.visits}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 17}" text-anchor="middle" font-size="12" '
                     f'fill="{INK}">' + escape(_month(month)) + '</text>')
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 33}" text-anchor="middle" font-size="11" '
                     f'fill="{SOFT}">' + escape(ngettext("%(num)d kegiatan", "%(num)d kegiatan", month.events)) + '</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
