"""Charts as inline SVG, drawn from plain data: no script and no chart library, so that a page
shows its picture offline, in a screenshot and in a mail reader alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

FONT = "font-family='sans-serif'"
# Cell shades from few to many: a light-to-dark blue scale that stays readable in grey.
SHADES = ("#eef4fb", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
ROLE_COLOURS = {
    "征求意见稿": "#e6a700",
    "正式版本": "#2a7d2e",
    "政策解读": "#1f5fa8",
    "新闻报道": "#777777",
    "文件引用": "#8e44ad",
}


def month_grid(counts: Sequence[tuple[str, str, int]], title: str) -> Markup:
    """A table of shaded cells, one row per region and one column per month (YYYY-MM), each
    cell's count written in it: ``counts`` are (region, month, count), regions in the order
    wanted, months sorted."""
    regions = list(dict.fromkeys(region for region, _, _ in counts))
    months = sorted({month for _, month, _ in counts})
    if not regions:
        return Markup("<p>尚无数据。</p>")
    cell, left, top = 34, 96, 64
    width, height = left + cell * len(months) + 60, top + cell * len(regions) + 10
    most = max(n for _, _, n in counts) or 1
    value = {(r, m): n for r, m, n in counts}
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='newsmon-chart' role='img'"
        f" width='{width}' height='{height}' viewBox='0 0 {width} {height}' {FONT}>",
        f"<title>{escape(title)}</title>",
    ]
    for x, month in enumerate(months):
        cx = left + x * cell + cell / 2
        parts.append(
            f"<text x='{cx}' y='{top - 6}' font-size='11' text-anchor='start'"
            f" transform='rotate(-45 {cx} {top - 6})'>{escape(month)}</text>"
        )
    for y, region in enumerate(regions):
        cy = top + y * cell
        parts.append(
            f"<text x='{left - 8}' y='{cy + cell / 2 + 4}' font-size='13'"
            f" text-anchor='end'>{escape(region)}</text>"
        )
        for x, month in enumerate(months):
            n = value.get((region, month), 0)
            shade = SHADES[min(len(SHADES) - 1, round(n / most * (len(SHADES) - 1)))]
            ink = "#fff" if n and n / most > 0.55 else "#222"
            parts.append(
                f"<rect x='{left + x * cell}' y='{cy}' width='{cell - 2}' height='{cell - 2}'"
                f" fill='{shade if n else '#fafafa'}'><title>{escape(region)} {escape(month)}:"
                f" {n}</title></rect>"
            )
            if n:
                parts.append(
                    f"<text x='{left + x * cell + (cell - 2) / 2}' y='{cy + cell / 2 + 3}'"
                    f" font-size='11' text-anchor='middle' fill='{ink}'>{n}</text>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Milestone:
    """One point of a policy's life: its date, its role (征求意见稿, 正式版本, 政策解读 …)."""

    day: str  # YYYY-MM-DD
    role: str
    title: str


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def timeline(milestones: Sequence[Milestone], title: str) -> Markup:
    """A time axis with a marker per milestone, coloured by role, each labelled with its role
    and date; milestones without a date are left off (the list below the chart has them)."""
    dated = sorted(
        ((d, m) for m in milestones if (d := _day(m.day)) is not None), key=lambda p: p[0]
    )
    if not dated:
        return Markup("")
    first, last = dated[0][0], dated[-1][0]
    span = max(1, (last - first).days)
    left, right, width = 40, 40, 860
    axis, row = 40, 34
    height = axis + row * len(dated) + 20
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='newsmon-timeline' role='img'"
        f" width='{width}' height='{height}' viewBox='0 0 {width} {height}' {FONT}>",
        f"<title>{escape(title)}</title>",
        f"<line x1='{left}' y1='{axis}' x2='{width - right}' y2='{axis}' stroke='#999'/>",
        f"<text x='{left}' y='{axis - 10}' font-size='12'>{first.isoformat()}</text>",
        f"<text x='{width - right}' y='{axis - 10}' font-size='12'"
        f" text-anchor='end'>{last.isoformat()}</text>",
    ]
    for n, (day, milestone) in enumerate(dated):
        x = left + (day - first).days / span * (width - left - right)
        y = axis + row * (n + 1)
        colour = ROLE_COLOURS.get(milestone.role, "#444")
        anchor = "end" if x > width / 2 else "start"
        dx = -10 if anchor == "end" else 10
        label = f"{milestone.role} · {day.isoformat()} · {milestone.title[:24]}"
        parts += [
            f"<line x1='{x:.1f}' y1='{axis}' x2='{x:.1f}' y2='{y}' stroke='{colour}'"
            f" stroke-dasharray='2 3'/>",
            f"<circle cx='{x:.1f}' cy='{y}' r='6' fill='{colour}'/>",
            f"<text x='{x + dx:.1f}' y='{y + 4}' font-size='12' text-anchor='{anchor}'"
            f" fill='{colour}'>{escape(label)}</text>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
