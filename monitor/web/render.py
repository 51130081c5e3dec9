"""The pages' templates (Jinja2, autoescaped) and the filters that make other people's text safe to show:
control and bidi characters removed, links only when they are http(s), times in the team's timezone."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from starlette.templating import Jinja2Templates

from monitor.clock import utcnow
from monitor.markup import strip_controls
from monitor.model import reasons_text

HERE = Path(__file__).resolve().parent


def clean(text: object) -> str:
    """Text as shown: no control characters, no bidi overrides that could make it read as something else."""
    return strip_controls(str(text)) if text is not None else ""


def safe_href(url: object) -> str | None:
    """The link target when it is a plain http(s) URL; None otherwise (javascript:, data:, relative...)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    lowered = url.lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")) or any(c.isspace() for c in url):
        return None
    return strip_controls(url)


def span(seconds: float) -> str:
    """A duration as an agent reads it at a glance: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def templates(timezone: str) -> Jinja2Templates:
    zone = ZoneInfo(timezone)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else ""

    def until(value: datetime | None) -> str:
        """'in 12 min' or '3 h 05 min overdue'."""
        if value is None:
            return ""
        left = (value - utcnow()).total_seconds()
        return f"in {span(left)}" if left >= 0 else f"{span(left)} overdue"

    def ago(value: datetime | None) -> str:
        return f"{span((utcnow() - value).total_seconds())} ago" if value else ""

    env.filters.update(clean=clean, href=safe_href, local=local, until=until, ago=ago, span=span)
    env.globals.update(timezone=timezone, reasons=reasons_text)
    return Jinja2Templates(env=env)
