"""/cases (the queue by deadline, filtered and counted), /cases/<id> (one case: post, author's other posts,
history, actions) and the actions themselves, through the same desk as Slack and the CLI."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from monitor.cases.machine import ACTIONS, buttons_for
from monitor.cases.queue import FILTERS, priority_band
from monitor.clock import utcnow
from monitor.model import MAX_ROW_ID, CaseAction, LabelAction, ReplyRequest
from monitor.store.inbox import WORKING, WorkingCase
from monitor.web.guard import back_to, flash, page, session_of, signed_in


def _case_id(request: Request) -> int | None:
    raw = request.path_params["case_id"]
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None


def case_deadline(inbox, found: dict):
    """The case's first-response deadline from the SLAs of the routes its alerts took, as the queue has it."""
    if found["status"] not in WORKING:
        return None
    routes = tuple(found.get("routes") or ()) or ((found["spike_route"],) if found.get("spike_route") else ())
    return inbox.queue.deadline(WorkingCase(found["id"], found["status"], found["brand"], found["opened_at"],
                                            found["claimed_by"], found["first_response_at"] is not None,
                                            found["post_source"],
                                            found["post_topic"], found["post_priority"] or 0.0, routes))


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return min(int(raw), 10_000_000) if raw.isdigit() else 0


@signed_in()
async def queue(request: Request) -> Response:
    inbox = request.app.state.inbox
    chosen = {name: request.query_params.get(name, "") for name in FILTERS}
    offset, limit = _offset(request), inbox.web.page_size

    def read():
        working, version = inbox.working()
        found = inbox.queue.page(working, chosen, utcnow(), offset, limit)
        return found, inbox.reader.posts([q.case.id for q in found.cases]), version

    found, posts, version = await run_in_threadpool(read)
    kept = {k: v for k, v in chosen.items() if v}
    return page(request, "cases.html", found=found, posts=posts, chosen=kept, filters=FILTERS, version=version,
                offset=offset, limit=limit, band=priority_band,
                link=lambda **changes: "/cases?" + urlencode({k: v for k, v in {**kept, **changes}.items() if v}))


@signed_in()
async def one_case(request: Request) -> Response:
    inbox = request.app.state.inbox
    case_id = _case_id(request)
    if case_id is None:
        return page(request, "missing.html", 404, what="case")

    def read():
        found = inbox.reader.case(case_id)
        if found is None:
            return None
        history = inbox.store.cases.history(case_id)
        labels = inbox.store.cases.labels_of(found["mention_id"]) if found["mention_id"] else []
        earlier = inbox.reader.author_posts(found["post_source"], found["post_author"], found["mention_id"]) \
            if found["mention_id"] else []
        replies = inbox.store.replies.of_case(case_id)
        form = inbox.replies.form(case_id) if inbox.replies is not None else None
        return found, history, labels, earlier, replies, form, inbox.reader.version(case_id)

    read_out = await run_in_threadpool(read)
    if read_out is None:
        return page(request, "missing.html", 404, what="case")
    found, history, labels, earlier, replies, form, version = read_out
    due = case_deadline(inbox, found)
    return page(request, "case.html", case=found, history=history, labels=labels, earlier=earlier,
                replies=replies, reply_form=form if form is not None and not isinstance(form, str) else None,
                reply_refusal=form if isinstance(form, str) else None, buttons=buttons_for(found["status"]),
                due=due, late=due is not None and utcnow() > due, version=version, band=priority_band)


@signed_in(write=True)
async def act(request: Request) -> Response:
    case_id, action = _case_id(request), request.path_params["action"]
    if case_id is None or action not in ACTIONS:
        return PlainTextResponse("no such case or action", 404)
    inbox, user = request.app.state.inbox, session_of(request).user
    result = await run_in_threadpool(inbox.desk.act, CaseAction(case_id, action, user.name, "web"))
    flash(request, result.changed, result.message[:1].upper() + result.message[1:])
    return back_to(f"/cases/{case_id}")


@signed_in(write=True)
async def label(request: Request) -> Response:
    case_id = _case_id(request)
    inbox, user, verdict = request.app.state.inbox, session_of(request).user, request.state.form.get("verdict")
    case = await run_in_threadpool(inbox.store.cases.get, case_id) if case_id else None
    if case is None or not case.mention_id or verdict not in ("complaint", "not"):
        return PlainTextResponse("no such post or verdict", 404)
    result = await run_in_threadpool(inbox.desk.act, LabelAction(case.mention_id, verdict == "complaint",
                                                                 user.name, "web"))
    flash(request, result.changed, result.message)
    return back_to(f"/cases/{case_id}")


@signed_in(write=True)
async def reply(request: Request) -> Response:
    case_id = _case_id(request)
    inbox, user, form = request.app.state.inbox, session_of(request).user, request.state.form
    if case_id is None or inbox.replies is None:
        return PlainTextResponse("replies are not set up", 404)
    action = "off_platform" if form.get("off_platform") else "send"
    text = str(form.get("text", ""))[:10_000]
    result = await run_in_threadpool(inbox.replies.handle, ReplyRequest(case_id, user.name, "web", action, text))
    message = result.message + (f" {result.url}" if result.url else "")
    flash(request, result.ok, message)
    return back_to(f"/cases/{case_id}")


@signed_in(api=True)
async def version(request: Request) -> Response:
    """What open pages poll: a new value means a case changed, wherever it was changed."""
    inbox = request.app.state.inbox
    raw = request.query_params.get("case", "")
    case_id = int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None
    return JSONResponse({"version": await run_in_threadpool(inbox.reader.version, case_id)})


ROUTES = [
    Route("/cases", queue),
    Route("/cases/version", version),
    Route("/cases/{case_id}", one_case),
    Route("/cases/{case_id}/label", label, methods=["POST"]),
    Route("/cases/{case_id}/reply", reply, methods=["POST"]),
    Route("/cases/{case_id}/{action}", act, methods=["POST"]),
]
