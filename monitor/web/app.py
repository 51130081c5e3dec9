"""The inbox as an ASGI application (Starlette): its pages, static files, security headers, and request
metrics and logs in the service's own registry and logger."""
from __future__ import annotations

import logging
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.ops import metrics
from monitor.web import cases, digest, labels, login, search
from monitor.web.context import Inbox
from monitor.web.render import HERE, templates
from monitor.web.security import AddressBrake, Flashes, SecurityHeaders

log = logging.getLogger("monitor.web")


class RequestMetrics:
    """ASGI middleware: each request counted and timed by the page (route) that answered it, and logged."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def note_status(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, note_status)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or ("static" if scope["path"].startswith("/static/") else "other")
            took = time.perf_counter() - started
            metrics.WEB_REQUESTS.labels(name, str(status[0])).inc()
            metrics.WEB_SECONDS.labels(name).observe(took)
            log.log(logging.WARNING if status[0] >= 500 else logging.DEBUG, "%s %s -> %d in %.0f ms",
                    scope["method"], scope["path"], status[0], took * 1000)


async def home(request: Request) -> Response:
    return RedirectResponse("/cases", 303)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def not_found(request: Request, exc) -> Response:
    return PlainTextResponse("There is no such page in the inbox.\n", 404)


async def failed(request: Request, exc) -> Response:
    log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc,
              exc_info=exc)
    return PlainTextResponse("The inbox could not answer that (the error is logged). If the database is away, "
                             "try again in a moment.\n", 500)


def build_app(inbox: Inbox) -> Starlette:
    from monitor.pipeline.labelling import LabellingQueue

    routes = [Route("/", home), Route("/healthz", healthz), *login.ROUTES, *cases.ROUTES, *search.ROUTES,
              *labels.ROUTES, *digest.ROUTES, Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 500: failed})
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)
    app.state.inbox = inbox
    app.state.templates = templates(inbox.timezone)
    app.state.flashes = Flashes()
    app.state.brake = AddressBrake()
    app.state.label_batches = labels.Batches()
    app.state.labelling = LabellingQueue(inbox.store, inbox.config.root.scoring, inbox.config.root.topics)
    app.state.reports = digest.Reports()
    return app
