"""Small server-rendered SVG charts: no JavaScript, no library, readable when printed.

`stacked_bars` draws categories (usually periods) on the x axis and stacks one colour per
series; `lines` draws one or more series as lines (burn-down, cumulative hours). Both
return markup safe to put in a template; every bar carries a <title> for a tooltip and the
caller shows the same figures in a table beside it, so nothing depends on the picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = (
    "#2563eb",
    "#16a34a",
    "#f59e0b",
    "#db2777",
    "#7c3aed",
    "#0891b2",
    "#dc2626",
    "#65a30d",
    "#9ca3af",
)
Number = int | float | Decimal


@dataclass
class Series:
    label: str
    values: Sequence[Number]
    color: str | None = None


def nice_ceiling(value: float, ticks: int = 4) -> float:
    """A round axis maximum at or above value whose `ticks` steps are 1, 2 or 5 × 10^n."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if raw <= step * power:
            return step * power * ticks
    return 10 * power * ticks  # pragma: no cover


def axis(value: float) -> tuple[float, int]:
    """The axis top and its number of steps (3 to 5) that leaves the least empty room.

    With four steps always, 430 h got an 800 h axis and 99 h a 200 h one: half the plot empty.
    """
    return min((nice_ceiling(value, ticks), ticks) for ticks in (3, 4, 5))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _exact(value: Number) -> Decimal:
    """A value as Decimal, so sums of hours or money stay exact (floats only place pixels)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def _total(values: Sequence[Number]) -> Decimal:
    # Whole numbers (seconds, before they become hours) add up as integers: a chart of a
    # month by project ranks some two hundred series of thirty-one days each.
    if all(type(v) is int for v in values):
        return Decimal(sum(values))
    return sum((_exact(v) for v in values), Decimal(0))


def in_hours(series: Sequence[Series]) -> list[Series]:
    """Series of whole seconds as the exact hours a chart draws. Charts of time add up,
    rank and fold their series in seconds, as integers, and turn only the drawn ones into
    hours."""
    return [replace(item, values=[Decimal(v) / 3600 for v in item.values]) for item in series]


def top_series(series: list[Series], limit: int = 8, other: str = "Other") -> list[Series]:
    """The largest `limit` series by total, the rest summed (exactly) into one grey series."""
    ranked = sorted(series, key=lambda s: -_total(s.values))
    if len(ranked) <= limit + 1:
        return ranked
    kept, rest = ranked[:limit], ranked[limit:]
    summed = [_total([s.values[i] for s in rest]) for i in range(len(rest[0].values))]
    return [*kept, Series(other, summed, "#9ca3af")]


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "h",
    width: int = 760,
    height: int = 260,
    legend_columns: int = 4,
    css: str = "chart",
) -> SafeString:
    """Bars per category, stacked by series, with a y axis, labels and a legend of
    `legend_columns` columns; `css`: the svg's class."""
    left, right, top, bottom = 48, 12, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(categories), 1)
    totals = [_total([s.values[i] for s in series]) for i in range(len(categories))]
    maximum, steps = axis(float(max(totals, default=Decimal(0))))
    slot = plot_w / count
    bar = max(min(slot * 0.7, 48), 1.5)
    legend_rows = math.ceil(len(series) / legend_columns) if len(series) > 1 else 0
    # Each legend row is 20 high; the last one needs only its text's depth below it.
    full_h = height + legend_rows * 20 - (12 if legend_rows else 0)
    out = [
        f'<svg class="{escape(css)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {full_h}" '
        f'role="img" aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(steps + 1):
        value = maximum * tick / steps
        y = top + plot_h - plot_h * tick / steps
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#9ca3af" if tick == 0 else "#e5e7eb"}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6b7280">{_fmt(value)}{escape(unit) if tick == steps else ""}</text>'
        )
    every = max(1, math.ceil(count / 16))  # at most ~16 x labels, whatever the period
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        base = float(top + plot_h)
        for index, item in enumerate(series):
            amount = _exact(item.values[i])
            if amount <= 0:
                continue
            h = plot_h * float(amount) / maximum
            base -= h
            color = item.color or PALETTE[index % len(PALETTE)]
            out.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{color}"><title>{escape(category)} · {escape(item.label)}: '
                f"{amount:,.2f} {escape(unit)}</title></rect>"
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="#374151">{escape(category)}</text>'
            )
    if legend_rows:
        for index, item in enumerate(series):
            col, row = index % legend_columns, index // legend_columns
            x, y = left + col * (plot_w / legend_columns), height + row * 20 - 8
            color = item.color or PALETTE[index % len(PALETTE)]
            # About 6.2 units a character at font size 11.
            room = max(int(plot_w / legend_columns / 6.2), 4)
            label = item.label if len(item.label) <= room else item.label[: room - 1] + "…"
            out.append(
                f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}" rx="2"/>'
                f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="11" fill="#374151">'
                f"{escape(label)}</text>"
            )
    out.append("</svg>")
    return mark_safe("".join(out))


def fitted_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "h",
    height: int = 260,
) -> SafeString:
    """stacked_bars() for a few categories (a week's days), twice: at full width, and
    narrow with a legend of two columns, which phones show instead (reports.css), so
    that the chart fits a phone's screen at a readable size rather than scroll."""
    wide = stacked_bars(
        categories, series, title=title, unit=unit, height=height, css="chart chart-wide"
    )
    narrow = stacked_bars(
        categories,
        series,
        title=title,
        unit=unit,
        width=400,
        height=height,
        legend_columns=2,
        css="chart chart-narrow",
    )
    return mark_safe(wide + narrow)


def lines(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "h",
    width: int = 760,
    height: int = 240,
) -> SafeString:
    """One polyline per series over the categories (burn-down, cumulative sums)."""
    left, right, top, bottom = 48, 12, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum, steps = axis(max((float(v) for s in series for v in s.values), default=0.0))
    step = plot_w / max(len(categories) - 1, 1)
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for tick in range(steps + 1):
        y = top + plot_h - plot_h * tick / steps
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6b7280">{_fmt(maximum * tick / steps)}{escape(unit) if tick == steps else ""}'
            "</text>"
        )
    for index, item in enumerate(series):
        color = item.color or PALETTE[index % len(PALETTE)]
        points = " ".join(
            f"{left + step * i:.1f},{top + plot_h - plot_h * float(v) / maximum:.1f}"
            for i, v in enumerate(item.values)
        )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2">'
            f"<title>{escape(item.label)}</title></polyline>"
        )
    every = max(1, math.ceil(len(categories) / 12))
    last = len(categories) - 1
    for i, category in enumerate(categories):
        if i % every == 0:
            # The last label ends at the plot's edge: centred there it would be cut off.
            anchor = "end" if i == last and last > 0 else "middle"
            out.append(
                f'<text x="{left + step * i:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}" '
                f'font-size="11" fill="#374151">{escape(category)}</text>'
            )
    out.append("</svg>")
    return mark_safe("".join(out))
