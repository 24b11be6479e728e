"""Server-side SVG charts: stacked bars per category, with an optional step line.

No JavaScript and no network: the page works offline. Every text that goes into the SVG
is escaped; colours come from CSS classes (``s0`` … ``s11``, see
``static/planning/planning.css``) so the legend, written in HTML beside the chart, uses
the same ones. The plot runs left to right in every language (time flows that way on the
axis); the page sets ``direction: ltr`` on the plot area only, and the legend and caption
follow the page's direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

__all__ = ["PALETTE_SIZE", "Chart", "Series", "bar_chart", "nice_ticks"]

PALETTE_SIZE = 12


@dataclass(frozen=True)
class Series:
    """One stacked layer (or the line): a label and one value per category."""

    label: str
    values: Sequence[float]


@dataclass(frozen=True)
class Chart:
    """The SVG and the legend entries (label, CSS class) to show beside it."""

    svg: SafeString
    legend: list[dict[str, str]] = field(default_factory=list)


def series_class(index: int) -> str:
    return f"s{index % PALETTE_SIZE}"


def nice_ticks(top: float, integer: bool = False, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``: steps of 1, 2, 2.5 or 5 × 10^k."""
    if not top > 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            step = m * magnitude
            break
    if integer:
        step = max(1.0, float(math.ceil(step)))
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def _label(value: float, step: float) -> str:
    decimals = 0 if float(step).is_integer() else (1 if float(step * 10).is_integer() else 2)
    return number_format(value, decimal_pos=decimals)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    y_label: str,
    x_label: str,
    line: Series | None = None,
    integer: bool = False,
    width: int = 720,
    height: int = 300,
) -> Chart:
    """Stacked bars, one bar per category, one layer per series; ``line`` is drawn as a
    step line across the bars (e.g. the counters the centre has).

    ``chart_id`` makes the ids of the SVG's ``<title>`` and ``<desc>`` unique on the page.
    Each bar segment has a ``<title>`` with its series, category and value (a tooltip).
    """
    left, right, top, bottom = 52, 12, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(categories), 1)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = max(totals + (list(line.values) if line else []) + [0.0])
    ticks = nice_ticks(peak, integer=integer)
    y_max = ticks[-1] or 1.0
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / y_max

    band = plot_w / n
    bar = band * 0.72
    parts: list[str] = [
        format_html(
            '<svg class="chart-svg" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
            'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
            width,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description),
    ]
    for tick in ticks:
        ty = f"{y(tick):.1f}"
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>', left, left + plot_w, ty, ty
            )
        )
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="end" '
                'dominant-baseline="middle">{}</text>',
                left - 6,
                ty,
                _label(tick, step),
            )
        )
    for i, category in enumerate(categories):
        x0 = left + band * i + (band - bar) / 2
        base = 0.0
        for k, s in enumerate(series):
            value = float(s.values[i])
            if value <= 0:
                continue
            y_top, y_bottom = y(base + value), y(base)
            parts.append(
                format_html(
                    '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{} · {}: {}</title></rect>",
                    series_class(k),
                    f"{x0:.1f}",
                    f"{y_top:.1f}",
                    f"{bar:.1f}",
                    f"{max(y_bottom - y_top, 0.5):.1f}",
                    s.label,
                    category,
                    number_format(value, decimal_pos=0 if integer else 1),
                )
            )
            base += value
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                f"{left + band * (i + 0.5):.1f}",
                top + plot_h + 16,
                category,
            )
        )
    if line is not None and categories:
        points = []
        for i, value in enumerate(line.values):
            ly = f"{y(float(value)):.1f}"
            points += [f"{left + band * i:.1f},{ly}", f"{left + band * (i + 1):.1f},{ly}"]
        parts.append(
            format_html(
                '<polyline class="ref-line" points="{}"><title>{}</title></polyline>',
                " ".join(points),
                line.label,
            )
        )
    parts.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
            left,
            left + plot_w,
            top + plot_h,
            top + plot_h,
        )
    )
    parts.append(
        format_html(
            '<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>',
            left + plot_w / 2,
            height - 6,
            x_label,
        )
    )
    parts.append(
        format_html(
            '<text class="axis-label" x="{}" y="{}" text-anchor="middle" '
            'transform="rotate(-90 {} {})">{}</text>',
            14,
            top + plot_h / 2,
            14,
            top + plot_h / 2,
            y_label,
        )
    )
    parts.append("</svg>")
    legend = [{"label": s.label, "css": series_class(k)} for k, s in enumerate(series)]
    if line is not None:
        legend.append({"label": line.label, "css": "ref"})
    return Chart(svg=mark_safe("".join(parts)), legend=legend)  # noqa: S308 - every piece is format_html-escaped
