"""/search: full-text search over the stored mentions, filtered by brand, source, verdict and dates (days in
the team's timezone), newest first, paged on the id of the last row shown."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.digest.figures import day_bounds
from monitor.model import MAX_ROW_ID
from monitor.store.search import COUNT_CAP, SearchFilters, parse_query
from monitor.web.guard import page, signed_in

FIELDS = ("q", "brand", "source", "complaint", "since", "until")


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def filters_of(params: dict[str, str], timezone: str) -> tuple[SearchFilters, list[str]]:
    """The filters the form asked for, and what in it could not be used (shown, never a server error)."""
    problems = []
    since, until = _day(params.get("since", "")), _day(params.get("until", ""))
    for name, value, parsed in (("from", params.get("since"), since), ("to", params.get("until"), until)):
        if value and parsed is None:
            problems.append(f"'{name}' must be a date like 2026-11-30; ignored")
    complaint = {"yes": True, "no": False}.get(params.get("complaint", ""))
    return SearchFilters(
        brand=params.get("brand") or None, source=params.get("source") or None, complaint=complaint,
        since=day_bounds(since, timezone)[0] if since else None,
        until=day_bounds(until + timedelta(days=1), timezone)[0] if until else None), problems


@signed_in()
async def search(request: Request) -> Response:
    inbox = request.app.state.inbox
    params = {name: request.query_params.get(name, "")[:500] for name in FIELDS}
    raw_before = request.query_params.get("before", "")
    before = int(raw_before) if raw_before.isdigit() and 0 < int(raw_before) <= MAX_ROW_ID else None
    filters, problems = filters_of(params, inbox.timezone)
    result = None
    if params["q"].strip():
        if not parse_query(params["q"]):
            problems.append("the search has no words to look for")
        else:
            result = await run_in_threadpool(inbox.search.search, params["q"], filters, inbox.web.page_size, before)
    kept = {k: v for k, v in params.items() if v}
    return page(request, "search.html", params=params, result=result, problems=problems, cap=COUNT_CAP,
                scan=inbox.search.scan_cap,
                brands=inbox.brands, sources=sorted(inbox.config.sources), paged=before is not None,
                older=("/search?" + urlencode({**kept, "before": result.next_before}))
                if result and result.next_before else None)


ROUTES = [Route("/search", search)]
