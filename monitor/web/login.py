"""Signing in and out. The login form has its own CSRF token (a cookie and a hidden field that must match),
since no session exists yet; failed attempts lock the name (database) and slow the address (memory)."""
from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from monitor.ops import metrics
from monitor.web.guard import local_path, page, signed_in
from monitor.web.render import span
from monitor.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, new_token, same_token

log = logging.getLogger(__name__)


def _login_form(request: Request, status: int = 200, error: str | None = None, name: str = "") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response = page(request, "login.html", status, csrf_token=token, error=error, name=name,
                    next=local_path(request.query_params.get("next")))
    web = request.app.state.inbox.web
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
                        secure=web.secure_cookies, path="/login")
    return response


async def login(request: Request) -> Response:
    if request.method == "GET":
        return _login_form(request)
    form = await request.form(max_fields=10, max_files=0)
    name, password = str(form.get("username", "")).strip()[:64], str(form.get("password", ""))[:1024]
    if not same_token(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_form(request, 403, "The sign-in form expired: try again.", name)
    brake, address = request.app.state.brake, request.client.host if request.client else "?"
    if (wait := brake.blocked(address)) > 0:
        metrics.WEB_SIGN_INS.labels("throttled").inc()
        return _login_form(request, 429, f"Too many failed sign-ins from this address: wait {span(wait)}.", name)
    inbox = request.app.state.inbox
    web = inbox.web
    outcome = await run_in_threadpool(inbox.store.users.sign_in, name, password, web.session_lifetime,
                                      web.max_failed_logins, web.lockout)
    if outcome.token is None:
        brake.failed(address)
        if outcome.locked_for:
            metrics.WEB_SIGN_INS.labels("locked").inc()
            log.warning("web sign-in: %r is locked after failed attempts (from %s)", name, address)
            return _login_form(request, 429, f"Too many failed sign-ins for this name: it is locked for "
                                             f"{span(outcome.locked_for.total_seconds())}.", name)
        metrics.WEB_SIGN_INS.labels("wrong").inc()
        log.info("web sign-in failed for %r from %s", name, address)
        return _login_form(request, 401, "Wrong user name or password.", name)
    metrics.WEB_SIGN_INS.labels("ok").inc()
    log.info("web sign-in: %s (%s) from %s", outcome.session.user.name, outcome.session.user.role, address)
    response = RedirectResponse(local_path(str(form.get("next", ""))), 303)
    response.set_cookie(SESSION_COOKIE, outcome.token, max_age=int(web.session_lifetime), httponly=True,
                        samesite="lax", secure=web.secure_cookies, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@signed_in()
async def logout(request: Request) -> Response:
    await run_in_threadpool(request.app.state.inbox.store.users.sign_out, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [Route("/login", login, methods=["GET", "POST"]), Route("/logout", logout, methods=["POST"])]
