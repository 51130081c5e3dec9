"""Who may see and do what: every page needs a signed-in session; every POST carries the session's CSRF token;
changing a case or a label needs the agent role. Also the page rendering every handler shares."""
from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from monitor.store.users import Session, token_hash
from monitor.web.security import SESSION_COOKIE, same_token

MAX_FORM_FIELDS = 20


def signed_in(write: bool = False, api: bool = False):
    """Wraps an async handler: it runs only for a signed-in user (a page redirects to /login, a JSON call gets
    401); a POST must carry the session's csrf_token, and a ``write`` needs the agent role."""
    def wrap(handler):
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            inbox = request.app.state.inbox
            token = request.cookies.get(SESSION_COOKIE, "")
            session = await run_in_threadpool(inbox.store.users.session, token) if token else None
            if session is None:
                if api or request.method != "GET":
                    return JSONResponse({"error": "sign in first"}, 401)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
            request.state.session = session
            request.state.session_key = token_hash(token)
            if request.method == "POST":
                form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
                if not same_token(form.get("csrf_token"), session.csrf_token):
                    return PlainTextResponse("This form has expired or did not come from the inbox: reload the page "
                                             "and try again.", 403)
                if write and not session.user.can_act:
                    return PlainTextResponse("Viewers can read the inbox but not change cases or labels.", 403)
                request.state.form = form
            return await handler(request)
        return endpoint
    return wrap


def session_of(request: Request) -> Session:
    return request.state.session


def page(request: Request, template: str, status: int = 200, **context) -> Response:
    """A page with what every page shows: the user, the CSRF token for its forms, one-time messages."""
    session = getattr(request.state, "session", None)
    flashes = request.app.state.flashes.take(request.state.session_key) if session else []
    return request.app.state.templates.TemplateResponse(
        request, template, {"user": session.user if session else None,
                            "csrf_token": session.csrf_token if session else context.pop("csrf_token", ""),
                            "flashes": flashes, "refresh": request.app.state.inbox.web.refresh, **context},
        status_code=status)


def flash(request: Request, ok: bool, text: str) -> None:
    request.app.state.flashes.add(request.state.session_key, ok, text)


def back_to(path: str) -> RedirectResponse:
    return RedirectResponse(path, 303)


def local_path(target: str | None, default: str = "/cases") -> str:
    """A redirect target only within the inbox: a path, never //host or a scheme."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or \
            any(ord(c) < 32 for c in target):
        return default
    return target
