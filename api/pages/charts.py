"""Small charts drawn as SVG on the server: readable without JavaScript, nothing third-party."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 160, 28
COLOURS = ("#3b5bdb", "#2f9e44", "#e8590c", "#c92a2a", "#7048e8", "#0c8599")


def line_chart(series: dict[str, Sequence[tuple[float, float]]], title: str) -> Markup:
    """One line per series of (seconds since 1970, value) points, with the time range and the
    largest value labelled; an empty chart says there is nothing to draw yet."""
    points = [point for values in series.values() for point in values]
    if not points:
        return Markup('<p class="hint">No samples yet: the scheduler records one a minute.</p>')
    first, last = min(x for x, _ in points), max(x for x, _ in points)
    top = max(1.0, max(y for _, y in points))
    span = max(1.0, last - first)

    def place(x: float, y: float) -> str:
        across = PAD + (x - first) / span * (WIDTH - 2 * PAD)
        up = HEIGHT - PAD - y / top * (HEIGHT - 2 * PAD)
        return f"{across:.1f},{up:.1f}"

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
        f'<text x="{PAD}" y="{PAD - 10}" class="label">{escape(title)} (max {top:g})</text>',
        f'<text x="{PAD}" y="{HEIGHT - 8}" class="label">{_clock(first)}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="label" text-anchor="end">{_clock(last)}</text>',
    ]
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        drawn = " ".join(place(x, y) for x, y in sorted(values))
        parts.append(
            f'<polyline data-series="{escape(name)}" points="{drawn}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{PAD + 12 * index}" class="label" text-anchor="end" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%m-%d %H:%M UTC")


def bar_chart(bars: Sequence[tuple[str, float]], title: str) -> Markup:
    """Horizontal bars, one per (label, value), labelled with their values."""
    if not bars or not any(value for _, value in bars):
        return Markup(f'<p class="hint">{escape(title)}: nothing to count yet.</p>')
    row, label_width = 18, 150
    top = max(value for _, value in bars)
    height = PAD + row * len(bars) + 6
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" class="label">{escape(title)}</text>',
    ]
    for index, (name, value) in enumerate(bars):
        y = PAD + index * row
        length = (WIDTH - label_width - 60) * value / top if top else 0
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 12}" class="label" text-anchor="end">{escape(name)}</text>'
        )
        parts.append(
            f'<rect data-bar="{escape(name)}" x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{row - 5}" fill="{COLOURS[0]}"/>'
        )
        parts.append(f'<text x="{label_width + length + 4:.1f}" y="{y + 12}" class="label">{value:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
