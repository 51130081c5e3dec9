"""Digest charts as PNG bytes: the 14-day trend and the complaint-topic ranking.

matplotlib runs headless (Agg). Colours are from the Okabe-Ito palette, which stays
distinguishable with the common forms of colour blindness.
"""
from __future__ import annotations

import functools
import io
import re

from monitor.digest.figures import BrandDay

BLUE, ORANGE, VERMILION, GREY = "#0072B2", "#E69F00", "#D55E00", "#555555"
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 100  # 800 x 400 pixels


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import (
        Figure,  # a Figure without pyplot: no global state, thread-safe enough
    )

    return Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[tuple[str, frozenset], ...]:
    """(family, code points) of the chart font and of every installed font matplotlib knows, chart font first."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    first = font_manager.findfont(matplotlib.rcParams["font.sans-serif"][0])
    paths = [first] + sorted({f.fname for f in font_manager.fontManager.ttflist} - {first})
    found = []
    for path in paths:
        try:
            font = FT2Font(path)
        except (OSError, RuntimeError):
            continue
        if not font.family_name.startswith("Last Resort"):  # its "glyphs" are boxes naming the missing script
            found.append((font.family_name, frozenset(font.get_charmap())))
    return tuple(found)


def chart_text(text: str) -> tuple[str, list[str]]:
    """The text as a chart can draw it, and the font families to draw it with: the chart font plus installed
    fonts that cover its other scripts (matplotlib falls back glyph by glyph). Characters no installed font
    has are left out, with "[…]" where they were, rather than drawn as empty boxes."""
    fonts = _fonts()
    families, missing = [fonts[0][0]] if fonts else [], set()
    for char in {c for c in text if not c.isspace()}:
        family = next((name for name, points in fonts if ord(char) in points), None)
        if family is None:
            missing.add(char)
        elif family not in families:
            families.append(family)
    if not missing:
        return text, families
    kept = re.sub(r"\[…\](\s*\[…\])+", "[…]", "".join("[…]" if c in missing else c for c in text))
    return kept, families


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _title(ax, text: str) -> None:
    drawable, families = chart_text(text)
    ax.set_title(drawable, fontfamily=families or None)


def trend_png(d: BrandDay) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    days = [p.day for p in d.trend]
    xs = list(range(len(days)))
    ax.bar(xs, [p.volume for p in d.trend], color=BLUE, label="mentions")
    ax.set_xticks(xs, [f"{x:%d %b}" for x in days])
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mentions per day" if d.days == 1 else "mentions per week")
    ax.set_xlabel(f"{'day' if d.days == 1 else 'week starting'} ({d.timezone})")
    ax.tick_params(axis="x", labelrotation=45)
    share = ax.twinx()
    values = [p.negative_share * 100 if p.negative_share is not None else float("nan") for p in d.trend]
    share.plot(xs, values, color=VERMILION, marker="o", linewidth=2, label="negative tone share")
    rates = [p.complaints / p.volume * 100 if p.volume else float("nan") for p in d.trend]
    share.plot(xs, rates, color=ORANGE, marker="s", linewidth=2, label="complaint rate")
    share.set_ylabel("share of mentions (%)")
    share.set_ylim(0, 100)
    _title(ax, f"{d.brand}: mentions, complaint rate and negative share, {days[0]:%d %b} – {days[-1]:%d %b %Y}")
    handles = ax.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False)
    return _png(fig)


def topic_rows(d: BrandDay, top: int = 10) -> list[tuple[str, int, float, float]]:
    """(topic, complaints, usual level, cumulative share) as the topic chart draws them, largest first."""
    usual = {m.topic: m.average for m in (d.movement.topics if d.movement else [])}
    return [(topic, count, usual.get(topic, 0.0), cumulative) for topic, count, cumulative in d.pareto()[:top]]


def topics_png(d: BrandDay) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    rows = topic_rows(d)
    if not rows:
        ax.text(0.5, 0.5, "no complaints this day", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        names = [chart_text(t)[0] for t, _, _, _ in rows][::-1]
        bars = ax.barh(names, [c for _, c, _, _ in rows][::-1], color=ORANGE,
                       label="complaints " + ("today" if d.days == 1 else "this week"))
        ax.scatter([u for _, _, u, _ in rows][::-1], names, marker="D", color=GREY, zorder=3,
                   label="7-day average" if d.days == 1 else "last week")
        ax.legend(loc="lower right", frameon=False)
        for bar, (_, _, _, cumulative) in zip(bars, rows[::-1], strict=True):
            ax.annotate(f"{cumulative:.0%} cumulative", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, color=GREY)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("complaints")
        ax.set_ylabel("topic")
        ax.margins(x=0.25)
    period = f"{d.day:%a %d %b %Y}" if d.days == 1 else f"week {d.first_day:%d %b} – {d.day:%d %b %Y}"
    _title(ax, f"{d.brand}: complaint topics, {period}, against their usual level")
    return _png(fig)
