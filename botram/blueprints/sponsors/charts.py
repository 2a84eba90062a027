"""Geometry for the funding charts, drawn as inline SVG by templates/sponsors/_charts.html: no CDN, no script,
works offline and prints. Colours from the Okabe–Ito palette, every bar also labelled in words/numbers."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ...domain.funding import EventMix

APBD_COLOUR, CASH_COLOUR, IN_KIND_COLOUR, TARGET_COLOUR = "#0072B2", "#009E73", "#E69F00", "#B3261E"


def nice_step(maximum: int, ticks: int = 4) -> int:
    """A round axis step (1, 2 or 5 × 10^k) giving about `ticks` gridlines up to `maximum`."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def short_rupiah(amount: int) -> str:
    """Axis labels: `Rp 50 jt`, `Rp 1,5 M`, `Rp 500 rb`."""
    for size, suffix in ((1_000_000_000, "M"), (1_000_000, "jt"), (1_000, "rb")):
        if amount >= size:
            value = amount / size
            text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"Rp {text} {suffix}"
    return f"Rp {amount}"


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


def stacked_bars(mixes: list[EventMix], width: int = 760, height: int = 320) -> StackedChart:
    """APBD (bottom), sponsor cash and in kind stacked per event, in rupiah, APBD share above each bar."""
    left, top, right, bottom = 78, 28, width - 12, height - 58
    shown = [m for m in mixes if m.total_cost > 0 or m.sponsors > 0]
    peak = max([max(m.total_cost, m.sponsors + m.apbd_amount) for m in shown] or [0])
    step = nice_step(peak)
    axis_max = step * max(1, math.ceil(peak / step)) if peak else 1
    plot_h = bottom - top
    gridlines = [(bottom - plot_h * (i * step) / axis_max, short_rupiah(i * step))
                 for i in range(0, axis_max // step + 1)] if peak else []
    bars = []
    slot = (right - left) / max(1, len(shown))
    bar_w = min(64.0, slot * 0.56)
    for index, mix in enumerate(shown):
        x = left + slot * index + (slot - bar_w) / 2
        y = float(bottom)
        segments = []
        for amount, colour, label in ((mix.apbd_amount, APBD_COLOUR, "APBD"),
                                      (mix.sponsor_cash, CASH_COLOUR, _("Tunai sponsor")),
                                      (mix.in_kind, IN_KIND_COLOUR, _("Barang/jasa"))):
            if amount <= 0:
                continue
            h = plot_h * amount / axis_max
            y -= h
            segments.append(Segment(y=round(y, 1), height=round(h, 1), colour=colour, label=label, amount=amount))
        title = mix.title.removeprefix("BOTRAM ").strip()
        share = mix.apbd_share
        bars.append(Bar(x=round(x, 1), width=round(bar_w, 1), centre=round(x + bar_w / 2, 1),
                        title=title if len(title) <= 20 else title[:19] + "…",
                        subtitle=mix.date.strftime("%d/%m") if mix.date else "",
                        share_label=f"{round(share * 100)}% APBD" if share is not None else "",
                        top=round(y, 1), segments=segments, event_id=mix.event_id))
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


def share_trend(mixes: list[EventMix], target_bp: int | None, width: int = 760, height: int = 220) -> TrendChart:
    """APBD share per event in date order, against the target as a dashed line."""
    left, top, right, bottom = 48, 16, width - 16, height - 36
    shown = [m for m in mixes if m.apbd_share is not None]
    slot = (right - left) / max(1, len(shown))
    points = []
    for index, mix in enumerate(shown):
        x = left + slot * index + slot / 2
        y = bottom - (bottom - top) * mix.apbd_share
        title = mix.title.removeprefix("BOTRAM ").strip()
        points.append((round(x, 1), round(y, 1), f"{round(mix.apbd_share * 100)}%",
                       title if len(title) <= 20 else title[:19] + "…"))
    path = " ".join(("M" if i == 0 else "L") + f"{x},{y}" for i, (x, y, *_rest) in enumerate(points))
    target_y = None if target_bp is None else round(bottom - (bottom - top) * target_bp / 10_000, 1)
    target_label = "" if target_bp is None else f"Target ≤ {target_bp / 100:g}%".replace(".", ",")
    gridlines = [(round(bottom - (bottom - top) * p / 100, 1), f"{p}%") for p in (0, 25, 50, 75, 100)]
    return TrendChart(width=width, height=height, left=left, top=top, bottom=bottom, right=right, points=points,
                      path=path, target_y=target_y, target_label=target_label, gridlines=gridlines)
