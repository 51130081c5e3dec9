"""/labels: posts to label one after another, the ones most worth a label first (the labelling queue's order:
posts the detector is unsure about, and random ones that keep the labelled set fair). Each agent works through
a batch picked once; a post someone else labelled meanwhile drops out of it."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from monitor.model import MAX_ROW_ID, LabelAction
from monitor.web.guard import back_to, flash, page, session_of, signed_in
from monitor.web.recent import Recent

BATCH = 20


class Batches:
    """Each session's batch of picks, by session and brand filter; bounded, oldest sessions forgotten first."""

    def __init__(self, remembered: int = 1000) -> None:
        self._batches = Recent(remembered)

    def take(self, key: tuple, pick, still_unlabelled) -> list:
        batch = self._batches.get(key, [])
        batch = [p for p in batch if p.mention_id in still_unlabelled([p.mention_id for p in batch])]
        if not batch:
            batch = pick()
        self._batches.put(key, batch)
        return batch

    def drop(self, key: tuple, mention_id: int) -> None:
        self._batches.put(key, [p for p in self._batches.get(key, []) if p.mention_id != mention_id])


@signed_in()
async def labels_page(request: Request) -> Response:
    inbox, batches = request.app.state.inbox, request.app.state.label_batches
    brand = request.query_params.get("brand") or None
    queue = request.app.state.labelling

    batch = await run_in_threadpool(batches.take, (request.state.session_key, brand),
                                    lambda: queue.next(BATCH, brand), inbox.store.labels.still_unlabelled)
    return page(request, "labels.html", picks=batch, brand=brand or "", brands=inbox.brands)


@signed_in(write=True)
async def label(request: Request) -> Response:
    inbox, form = request.app.state.inbox, request.state.form
    raw, verdict, brand = str(form.get("mention_id", "")), form.get("verdict"), str(form.get("brand", ""))
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ROW_ID or verdict not in ("complaint", "not", "skip"):
        return PlainTextResponse("no such post or verdict", 400)
    mention_id = int(raw)
    request.app.state.label_batches.drop((request.state.session_key, brand or None), mention_id)
    if verdict != "skip":
        result = await run_in_threadpool(inbox.desk.act, LabelAction(mention_id, verdict == "complaint",
                                                                     session_of(request).user.name, "web"))
        flash(request, result.changed, result.message)
    return back_to("/labels" + (f"?{urlencode({'brand': brand})}" if brand in inbox.brands else ""))


ROUTES = [Route("/labels", labels_page), Route("/labels", label, methods=["POST"])]
