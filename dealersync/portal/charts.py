"""Server-rendered SVG charts for the portal: a figure over the last periods against its target line."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 420, 200
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 26, 34
LINE, TARGET, MISSED = "#1f5fa8", "#c00000", "#c00000"


def _format(value: float, rate: bool) -> str:
    return f"{value:.1%}" if rate else f"{value:,.0f}"


def value_range(values: Sequence[float | None], target: float | None, rate: bool) -> tuple[float, float]:
    """The y axis: rates from a little below the lowest value or target up to 100%; counts from 0."""
    known = [v for v in values if v is not None]
    if rate:
        lowest = min([*known, *([target] if target is not None else []), 1.0])
        bottom = max(0.0, math.floor(round((lowest - 0.02) * 20, 6)) / 20)
        return bottom, 1.0
    top = max([*known, *([target] if target is not None else []), 1.0])
    return 0.0, float(math.ceil(top * 1.1))


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    rate: bool,
    target: float | None = None,
    target_label: str = "target",
    no_data: str = "no data",
) -> str:
    """An SVG line chart (markup) of `values` over `labels`; a None value leaves a gap.

    A dashed red line marks the target; a point below a rate target is drawn red. Each point carries a
    tooltip with its period and value. Every text is escaped; no inline style (the CSP forbids it).
    """
    if len(labels) != len(values):
        raise ValueError("one value per label")
    low, high = value_range(values, target, rate)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / ((high - low) or 1))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for tick in (low, (low + high) / 2, high):
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" stroke="#e3e3e3"/>'
            f'<text x="{LEFT - 4}" y="{ty + 4:.1f}" text-anchor="end" class="chart-tick">'
            f"{escape(_format(tick, rate))}</text>"
        )
    every = max(1, math.ceil(len(labels) / 6))
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            out.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="chart-tick">'
                f"{escape(label)}</text>"
            )
    if target is not None and low <= target <= high:
        ty = y(target)
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" stroke="{TARGET}" '
            f'stroke-dasharray="5 4" class="chart-target"><title>{escape(target_label)} '
            f"{escape(_format(target, rate))}</title></line>"
        )
    segments: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            segments.append([])
        else:
            segments[-1].append((x(i), y(value)))
    for segment in segments:
        if len(segment) > 1:
            points = " ".join(f"{px:.1f},{py:.1f}" for px, py in segment)
            out.append(f'<polyline points="{points}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for i, value in enumerate(values):
        if value is None:
            continue
        below = rate and target is not None and value < target
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{MISSED if below else LINE}" '
            f'class="chart-point"><title>{escape(labels[i])}: {escape(_format(value, rate))}</title></circle>'
        )
    if not any(v is not None for v in values):
        out.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="chart-empty">'
            f"{escape(no_data)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
