"""Every chart of the app, drawn as inline SVG on the server: no script, no CDN, they print and work offline.

One module for all of them (reports: arrivals per hour, visits per month; funding: APBD and sponsors per
event, APBD share per event, the year's share bar), so the scale, the colours and the way an SVG is written
are decided once:

- `Svg` writes the elements and escapes every text and attribute itself. A chart is one `Markup` built from
  strings that are already safe; nothing is ever concatenated as `str + Markup`, which is what escaped the
  whole hours and trend charts into visible text before.
- Every chart is `role="img"` with a `<title>` and a `<desc>` that says the data in words (screen readers,
  axe's svg-img-alt rule), and every bar or point carries its own `<title>` tooltip.
- Numbers go through the current locale (`45,7%` / `45.7%`); rupiah stays `Rp 1.500.000` in every language
  (botram.i18n.rupiah).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, gettext as _, ngettext
from markupsafe import Markup, escape

from ...domain.funding import EventMix, Mix
from ...domain.hours import HoursReport
from ...domain.regency import MonthRow
from ...i18n import bp_percent, percent, rupiah

# Palette. Report charts in the brand colours; funding in Okabe–Ito (colour-blind safe), each series also
# named in the legend and in every tooltip.
BRAND, GOLD, GOLD_TEXT, DANGER, INK, SOFT, LINE = "#0f4c5c", "#e0a100", "#8a5a00", "#b3261e", "#14212b", "#4a5a66", "#d5dde3"
APBD_COLOUR, CASH_COLOUR, IN_KIND_COLOUR, TARGET_COLOUR = "#0072B2", "#009E73", "#E69F00", "#B3261E"
FONT = "Inter, system-ui, sans-serif"


# ---------------------------------------------------------------------------------------------- writing

def _attr_name(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


class Svg:
    """An SVG document built element by element; text and attribute values are always escaped."""

    def __init__(self, key: str, width: int, height: int, title: str, desc: str, css_class: str = "chart"):
        self.parts: list[Markup] = [Markup(
            '<svg class="{cls}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{k}-title {k}-desc" '
            'xmlns="http://www.w3.org/2000/svg" font-family="{font}" data-chart="{k}">'
            '<title id="{k}-title">{title}</title><desc id="{k}-desc">{desc}</desc>').format(
                cls=css_class, w=width, h=height, k=key, font=FONT, title=title, desc=desc)]

    @staticmethod
    def element(tag: str, text: str | None = None, tooltip: str | None = None, **attrs) -> Markup:
        rendered = Markup(" ").join(Markup('{}="{}"').format(_attr_name(k), _fmt(v))
                                    for k, v in attrs.items() if v is not None)
        inner = Markup("")
        if tooltip:
            inner += Markup("<title>{}</title>").format(tooltip)
        if text is not None:
            inner += escape(text)
        if not inner:
            return Markup("<{} {}/>").format(Markup(tag), rendered)
        return Markup("<{0} {1}>{2}</{0}>").format(Markup(tag), rendered, inner)

    def add(self, tag: str, text: str | None = None, tooltip: str | None = None, **attrs) -> None:
        self.parts.append(self.element(tag, text, tooltip, **attrs))

    def markup(self) -> Markup:
        return Markup("").join(self.parts) + Markup("</svg>")

    __html__ = markup


def _fmt(value) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------------------------- scales

def nice_step(maximum: int, ticks: int = 4) -> int:
    """A round axis step (1, 2 or 5 × 10^k) giving about `ticks` gridlines up to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return int(10 * power)


def axis_max(peak: int, ticks: int = 4) -> tuple[int, int]:
    """(top of the axis, step): the smallest multiple of a round step at or above `peak`, never 0."""
    step = nice_step(peak, ticks)
    return step * max(1, math.ceil(peak / step)), step


def slots(count: int, left: float, right: float, fill: float, widest: float) -> tuple[float, float]:
    """Equal slots across the plot: (slot width, bar width)."""
    slot = (right - left) / max(1, count)
    return slot, min(widest, slot * fill)


def short_rupiah(amount: int) -> str:
    """Axis labels: `Rp 50 jt`, `Rp 1,5 M`, `Rp 500 rb` — the Indonesian way in every UI language, like
    every rupiah amount in the app (botram.i18n.rupiah)."""
    for size, suffix in ((1_000_000_000, "M"), (1_000_000, "jt"), (1_000, "rb")):
        if amount >= size:
            value = amount / size
            text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"Rp {text} {suffix}"
    return f"Rp {amount}"


def _short_title(title: str) -> str:
    title = title.removeprefix("BOTRAM ").strip()
    return title if len(title) <= 20 else title[:19] + "…"


def _month(row: MonthRow) -> str:
    """`Okt 2026` / `Oct 2026` in the UI language."""
    return format_date(date(row.year, row.month, 1), "MMM y")


def _y_grid(svg: Svg, left: float, right: float, top: float, plot_h: float, top_value: int, step: int,
            label=str) -> None:
    """Horizontal gridlines from 0 to `top_value`, the base line solid, the others dashed, labelled left."""
    for value in range(0, top_value + 1, step):
        y = top + plot_h - plot_h * value / top_value
        svg.add("line", x1=left, x2=right, y1=y, y2=y, stroke=LINE, stroke_width=1,
                stroke_dasharray=None if value == 0 else "3 4")
        svg.add("text", label(value), x=left - 8, y=y + 4, text_anchor="end", font_size=11, fill=SOFT)


# ---------------------------------------------------------------------------------------------- reports

def hours_chart(report: HoursReport, width: int = 880, height: int = 300) -> Markup:
    """Bars: arrivals per hour (left axis). Gold line with dots: open desks (right axis). Red band: an hour in
    which some agency's demand exceeded its capacity."""
    rows = report.hours
    if not rows:
        return Markup("")
    left, right, top, bottom = 44, 44, 30, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    max_a, step = axis_max(max(report.max_arrivals, 1))
    max_d = max(2, report.max_desks + 1)
    slot, bar_w = slots(len(rows), left, left + plot_w, 0.58, 46)
    svg = Svg("hours", width, height, _("Kedatangan per jam dan jumlah loket buka"), "; ".join(
        _("%(hour)s: %(arrivals)d kedatangan, %(desks)d loket", hour=r.label, arrivals=r.arrivals, desks=r.open_desks)
        for r in rows))
    _y_grid(svg, left, width - right, top, plot_h, max_a, step)
    for d in range(0, max_d + 1):
        y = top + plot_h - plot_h * d / max_d
        svg.add("text", str(d), x=width - right + 8, y=y + 4, font_size=11, fill=GOLD_TEXT)
    points = []
    for i, row in enumerate(rows):
        x0 = left + slot * i
        cx = x0 + slot / 2
        if row.exceeded:
            svg.add("rect", x=x0 + 1, y=top - 24, width=slot - 2, height=plot_h + 24, fill=DANGER,
                    fill_opacity="0.08", class_="over")
            svg.add("text", "!", x=cx, y=top - 10, text_anchor="middle", font_size=13, font_weight=800, fill=DANGER)
        h = plot_h * row.arrivals / max_a
        svg.add("rect", tooltip=_("%(hour)s: %(n)d kedatangan", hour=row.label, n=row.arrivals), class_="bar",
                x=cx - bar_w / 2, y=top + plot_h - h, width=bar_w, height=h, rx=3, fill=BRAND,
                data_value=row.arrivals)
        if row.arrivals:
            svg.add("text", str(row.arrivals), x=cx, y=top + plot_h - h - 5, text_anchor="middle", font_size=12,
                    font_weight=700, fill=INK)
        svg.add("text", row.label, x=cx, y=top + plot_h + 18, text_anchor="middle", font_size=12, fill=SOFT)
        points.append((cx, top + plot_h - plot_h * row.open_desks / max_d, row))
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _r) in enumerate(points))
    svg.add("path", d=path, fill="none", stroke=GOLD, stroke_width=3, stroke_linejoin="round")
    for x, y, row in points:
        svg.add("circle", tooltip=_("%(hour)s: %(n)d loket buka", hour=row.label, n=row.open_desks), class_="point",
                cx=x, cy=y, r=5, fill="#fff", stroke=GOLD, stroke_width=3, data_value=row.open_desks)
    svg.add("text", _("Kedatangan (orang)"), x=left, y=height - 8, font_size=11, fill=SOFT)
    svg.add("text", _("Loket buka"), x=width - right, y=height - 8, text_anchor="end", font_size=11, fill=GOLD_TEXT)
    return svg.markup()


def trend_chart(months: list[MonthRow], width: int = 880, height: int = 240) -> Markup:
    """Visits per month as bars, with the number of events under each month."""
    if not months:
        return Markup("")
    left, right, top, bottom = 44, 12, 18, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    max_v, step = axis_max(max(max(m.visits for m in months), 1))
    slot, bar_w = slots(len(months), left, left + plot_w, 0.6, 56)
    svg = Svg("trend", width, height, _("Kunjungan per bulan"), "; ".join(
        _("%(month)s: %(visits)d kunjungan, %(events)d kegiatan", month=_month(m), visits=m.visits, events=m.events)
        for m in months))
    _y_grid(svg, left, width - right, top, plot_h, max_v, step)
    for i, month in enumerate(months):
        cx = left + slot * i + slot / 2
        h = plot_h * month.visits / max_v
        svg.add("rect", tooltip=_("%(month)s: %(n)d kunjungan", month=_month(month), n=month.visits), class_="bar",
                x=cx - bar_w / 2, y=top + plot_h - h, width=bar_w, height=h, rx=3, fill=BRAND, data_value=month.visits)
        if month.visits:
            svg.add("text", str(month.visits), x=cx, y=top + plot_h - h - 5, text_anchor="middle", font_size=12,
                    font_weight=700, fill=INK)
        svg.add("text", _month(month), x=cx, y=top + plot_h + 17, text_anchor="middle", font_size=12, fill=INK)
        svg.add("text", ngettext("%(num)d kegiatan", "%(num)d kegiatan", month.events), x=cx, y=top + plot_h + 33,
                text_anchor="middle", font_size=11, fill=SOFT)
    return svg.markup()


# ---------------------------------------------------------------------------------------------- funding

def _series() -> tuple[tuple[str, str, str], ...]:
    """(attribute of the mix, colour, label) bottom-up: APBD, sponsor cash, in kind."""
    return (("apbd_amount", APBD_COLOUR, _("APBD")), ("sponsor_cash", CASH_COLOUR, _("Tunai sponsor")),
            ("in_kind", IN_KIND_COLOUR, _("Barang/jasa")))


@dataclass
class Segment:
    y: float
    height: float
    colour: str
    label: str
    amount: int


@dataclass
class Bar:
    x: float
    width: float
    centre: float
    title: str
    subtitle: str
    share_label: str
    top: float
    segments: list[Segment] = field(default_factory=list)
    event_id: int = 0
    cost_y: float | None = None  # where the cost ends when sponsors gave more than it (the surplus above)
    surplus: int = 0


@dataclass
class StackedChart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int
    gridlines: list[tuple[float, str]]
    bars: list[Bar]
    empty: bool

    def svg(self, caption: str, key: str = "mix") -> Markup:
        """APBD (bottom), sponsor cash and in kind stacked per event; a dashed line marks the cost when the
        sponsors gave more than it, and the label above names the surplus instead of a bare `0% APBD`."""
        if self.empty:
            return Markup("")
        desc = "; ".join(f"{b.title}: " + ", ".join(f"{s.label} {rupiah(s.amount)}" for s in b.segments)
                         + (f" ({b.share_label})" if b.share_label else "") for b in self.bars)
        svg = Svg(key, self.width, self.height, caption, desc, css_class="fund-svg")
        for y, label in self.gridlines:
            svg.add("line", x1=self.plot_left, x2=self.plot_right, y1=y, y2=y, class_="grid")
            svg.add("text", label, x=self.plot_left - 8, y=y + 4, text_anchor="end", class_="axis")
        # A page of a regency year draws 25 bars 27 px apart: labels 70 px wide would write over each other.
        # Then only the dates stay under the bars (every other one when even they would touch); each amount is
        # still in its bar's tooltip, the description and the table below the chart.
        slot = self.bars[1].x - self.bars[0].x if len(self.bars) > 1 else self.plot_right - self.plot_left
        labelled, every = slot >= LABEL_ROOM, max(1, -(-DATE_ROOM // max(slot, 1)))  # a date every n bars
        for index, bar in enumerate(self.bars):
            for s in bar.segments:
                svg.add("rect", tooltip=f"{bar.title} — {s.label}: {rupiah(s.amount)}", class_="bar", x=bar.x,
                        y=s.y, width=bar.width, height=s.height, fill=s.colour, data_value=s.amount)
            if bar.cost_y is not None:
                svg.add("line", x1=bar.x - 6, x2=bar.x + bar.width + 6, y1=bar.cost_y, y2=bar.cost_y,
                        class_="cost-line", stroke=INK, stroke_width=2, stroke_dasharray="4 3")
            if labelled:
                svg.add("text", bar.share_label, x=bar.centre, y=bar.top - 7, text_anchor="middle",
                        class_="bar-label")
                svg.add("text", bar.title, x=bar.centre, y=self.plot_bottom + 18, text_anchor="middle", class_="tick")
            if index % every == 0:
                svg.add("text", bar.subtitle, x=bar.centre, y=self.plot_bottom + (34 if labelled else 18),
                        text_anchor="middle", class_="tick muted")
        svg.add("line", x1=self.plot_left, x2=self.plot_right, y1=self.plot_bottom, y2=self.plot_bottom, class_="base")
        return svg.markup()


LABEL_ROOM = 64  # px of a bar's slot that a label above it ("Lebih Rp 2,1 M") or an event's short name needs
DATE_ROOM = 36   # px for its date (dd/mm at 11 px) and a gap


def share_label(mix: Mix) -> str:
    """What goes above an event's bar: its APBD share, or the surplus when sponsors gave more than the cost."""
    if mix.surplus:
        return _("Lebih %(amount)s", amount=short_rupiah(mix.surplus))
    if mix.apbd_share is None:
        return ""
    return _("APBD %(share)s", share=percent(mix.apbd_share, digits=0))


def stacked_bars(mixes: list[EventMix], width: int = 760, height: int = 320) -> StackedChart:
    """APBD (bottom), sponsor cash and in kind stacked per event, in rupiah, the APBD share above each bar."""
    left, top, right, bottom = 78, 28, width - 12, height - 58
    shown = [m for m in mixes if m.total_cost > 0 or m.sponsors > 0]
    peak = max([max(m.total_cost, m.sponsors + m.apbd_amount) for m in shown] or [0])
    top_value, step = axis_max(peak)
    plot_h = bottom - top
    gridlines = [(round(bottom - plot_h * value / top_value, 1), short_rupiah(value))
                 for value in range(0, top_value + 1, step)] if peak else []
    slot, bar_w = slots(len(shown), left, right, 0.56, 64.0)
    bars = []
    for index, mix in enumerate(shown):
        x = left + slot * index + (slot - bar_w) / 2
        y = float(bottom)
        segments = []
        for attribute, colour, label in _series():
            amount = getattr(mix, attribute)
            if amount <= 0:
                continue
            h = plot_h * amount / top_value
            y -= h
            segments.append(Segment(y=round(y, 1), height=round(h, 1), colour=colour, label=label, amount=amount))
        cost_y = round(bottom - plot_h * mix.total_cost / top_value, 1) if mix.surplus and mix.total_cost else None
        bars.append(Bar(x=round(x, 1), width=round(bar_w, 1), centre=round(x + bar_w / 2, 1),
                        title=_short_title(mix.title), subtitle=mix.date.strftime("%d/%m") if mix.date else "",
                        share_label=share_label(mix), top=round(y, 1), segments=segments, event_id=mix.event_id,
                        cost_y=cost_y, surplus=mix.surplus))
    return StackedChart(width=width, height=height, plot_left=left, plot_top=top, plot_bottom=bottom,
                        plot_right=right, gridlines=gridlines, bars=bars, empty=not bars)


@dataclass
class TrendChart:
    width: int
    height: int
    left: int
    top: int
    bottom: int
    right: int
    points: list[tuple[float, float, str, str]]  # x, y, label, title
    path: str
    target_y: float | None
    target_label: str
    gridlines: list[tuple[float, str]]

    def svg(self, caption: str, key: str = "share-trend") -> Markup:
        """The APBD share per event as a line with dots, against the target as a dashed line."""
        if not self.points:
            return Markup("")
        desc = "; ".join(f"{title}: {label}" for _x, _y, label, title in self.points)
        if self.target_label:
            desc += "; " + self.target_label
        svg = Svg(key, self.width, self.height, caption, desc, css_class="fund-svg")
        for y, label in self.gridlines:
            svg.add("line", x1=self.left, x2=self.right, y1=y, y2=y, class_="grid")
            svg.add("text", label, x=self.left - 8, y=y + 4, text_anchor="end", class_="axis")
        if self.target_y is not None:
            svg.add("line", x1=self.left, x2=self.right, y1=self.target_y, y2=self.target_y, class_="target",
                    stroke=TARGET_COLOUR)
            svg.add("text", self.target_label, x=self.right, y=self.target_y - 6, text_anchor="end",
                    class_="target-label", fill=TARGET_COLOUR)
        svg.add("path", d=self.path, class_="trend-line", stroke=APBD_COLOUR)
        for x, y, label, title in self.points:
            svg.add("circle", tooltip=f"{title}: {label}", class_="point", cx=x, cy=y, r=5, fill=APBD_COLOUR)
            svg.add("text", label, x=x, y=y - 10, text_anchor="middle", class_="bar-label")
            svg.add("text", title, x=x, y=self.bottom + 20, text_anchor="middle", class_="tick")
        return svg.markup()


def share_trend(mixes: list[EventMix], target_bp: int | None, width: int = 760, height: int = 220) -> TrendChart:
    """APBD share per event in date order, against the target as a dashed line."""
    left, top, right, bottom = 48, 16, width - 16, height - 36
    shown = [m for m in mixes if m.apbd_share is not None]
    slot, _bar = slots(len(shown), left, right, 1, width)
    points = []
    for index, mix in enumerate(shown):
        x = left + slot * index + slot / 2
        y = bottom - (bottom - top) * mix.apbd_share
        points.append((round(x, 1), round(y, 1), percent(mix.apbd_share, digits=0), _short_title(mix.title)))
    path = " ".join(("M" if i == 0 else "L") + f"{x},{y}" for i, (x, y, *_rest) in enumerate(points))
    target_y = None if target_bp is None else round(bottom - (bottom - top) * target_bp / 10_000, 1)
    target_label = "" if target_bp is None else _("Target ≤ %(share)s", share=bp_percent(target_bp))
    gridlines = [(round(bottom - (bottom - top) * p / 100, 1), percent(p / 100, digits=0)) for p in (0, 25, 50, 75, 100)]
    return TrendChart(width=width, height=height, left=left, top=top, bottom=bottom, right=right, points=points,
                      path=path, target_y=target_y, target_label=target_label, gridlines=gridlines)


def share_bar(mix: Mix, target_bp: int | None = None, width: int = 600) -> Markup:
    """One 100% bar of a cost: APBD | sponsor cash | in kind, the target marked; when sponsors gave more than
    the cost the bar spans what they gave and a dashed line marks where the cost ends."""
    if mix.total_cost <= 0:
        return Markup("")
    base = max(mix.total_cost, mix.sponsors)
    label = (_("Porsi APBD %(share)s", share=percent(mix.apbd_share)) if not mix.surplus else
             _("Porsi APBD %(share)s; sumbangan melebihi biaya sebesar %(surplus)s", share=percent(mix.apbd_share),
               surplus=rupiah(mix.surplus)))
    svg = Svg("share-bar", width, 44, label, "; ".join(f"{name} {rupiah(getattr(mix, attr))}"
                                                     for attr, _c, name in _series()), css_class="fund-sharebar")
    x = 0.0
    for attribute, colour, name in _series():
        w = width * getattr(mix, attribute) / base
        svg.add("rect", tooltip=f"{name}: {rupiah(getattr(mix, attribute))}", class_="bar", x=x, y=8, width=w,
                height=28, fill=colour, data_value=getattr(mix, attribute))
        x += w
    if mix.surplus:
        cost_x = width * mix.total_cost / base
        svg.add("line", x1=cost_x, x2=cost_x, y1=0, y2=44, stroke=INK, stroke_width=2, stroke_dasharray="2 2",
                class_="cost-line")
    if target_bp is not None:
        t = width * target_bp / 10_000 * mix.total_cost / base
        svg.add("line", x1=t, x2=t, y1=0, y2=44, stroke=TARGET_COLOUR, stroke_width=3, stroke_dasharray="4 3",
                class_="target")
    return svg.markup()
