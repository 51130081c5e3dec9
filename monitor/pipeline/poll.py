"""One poll of one source: connector -> normalize -> dedup -> score -> store (mentions, outbox rows and the
cursor in one transaction)."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from monitor import clock
from monitor.clock import utcnow
from monitor.components import Connector
from monitor.config import Config
from monitor.model import Batch, Mention, PublicReply, Score
from monitor.ops import metrics
from monitor.pipeline.brands import BrandFilter
from monitor.pipeline.health import SourceHealth
from monitor.pipeline.normalize import Rejected, normalize
from monitor.pipeline.routing import Router
from monitor.scoring.pool import ScoringEngine, ScoringJob
from monitor.store.leases import LeaseRepository
from monitor.store.mentions import MentionRepository
from monitor.store.sources import SourceRepository

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    source: str
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    filtered: int = 0
    rejected: int = 0
    complaints: int = 0
    alerts: int = 0
    held_back: int = 0  # complaints too old to alert (alerts.max_age)
    deleted: int = 0    # stored posts their authors deleted, forgotten
    batches: int = 0
    error: str | None = None
    skipped: str | None = None
    seconds: float = 0.0
    drop_reasons: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=dict)  # posts kept with a field replaced, by reason
    held_from: float | None = None   # when this instance held the source's lease (Unix time)
    held_until: float | None = None


@dataclass
class Prepared:
    """A batch after normalizing, filtering and dedup: what is left to score and store."""

    batch: Batch
    todo: list[Mention]
    rejected: int
    replies: list[PublicReply] = field(default_factory=list)  # the brand answering posts publicly


class Pipeline:
    def __init__(self, config: Config, engine: ScoringEngine, *, mentions: MentionRepository,
                 sources: SourceRepository, leases: LeaseRepository,
                 stop: threading.Event | None = None,
                 on_stored: Callable[[], None] | None = None,
                 ops: Callable[[str], None] | None = None, owner: str = "",
                 on_public_reply: Callable[[list[PublicReply]], None] | None = None,
                 on_gone: Callable[[list[int]], None] | None = None) -> None:
        self.config = config
        self.engine = engine
        self.mentions, self.sources, self.leases = mentions, sources, leases
        self.stop = stop or threading.Event()
        self.on_stored = on_stored
        self.on_public_reply = on_public_reply
        self.on_gone = on_gone  # cases closed because their post was deleted: their messages show it
        self.owner = owner or f"pipeline-{id(self):x}"
        self.lease_ttl = config.root.service.lease_ttl
        ops_after = config.root.alerts.ops.after_failures if config.root.alerts.ops else 0
        self.health = SourceHealth(sources, ops, ops_after)
        self.brand_filter = BrandFilter(config.brands)
        self.router = Router(config.routes())
        self.max_age = timedelta(seconds=config.root.alerts.max_age) if config.root.alerts.max_age else None

    def poll(self, connector: Connector) -> PollResult:
        """One poll of one source. Never raises: a failing source must not stop the others."""
        result = PollResult(connector.name)
        started = time.monotonic()
        try:
            paused = self.health.paused_until(connector.name)
            if paused:
                result.skipped = f"paused until {paused:%Y-%m-%d %H:%M:%S} UTC"
                log.debug("source=%s skipped: %s", connector.name, result.skipped)
                return result
            lease = f"poll:{connector.name}"
            if not self.leases.acquire(lease, self.owner, self.lease_ttl):
                result.skipped = "being polled by another instance"
                log.debug("source=%s skipped: %s", connector.name, result.skipped)
                return result
            result.held_from = clock.timestamp()
            try:
                self._read_source(connector, result, lease)
            finally:
                result.held_until = clock.timestamp()
                if not getattr(connector, "streaming", False):  # a stream stays with its instance until it dies
                    self.leases.release(lease, self.owner)
            self.health.succeeded(connector.name)
        except Exception as exc:  # noqa: BLE001 - any failure is contained to this source
            result.error = self.health.failed(connector, exc)
        result.seconds = time.monotonic() - started
        self._log_result(result)
        return result

    def let_go(self, connectors) -> None:
        """Releases the streams this instance held, so another can take them over at once."""
        for connector in connectors:
            if getattr(connector, "streaming", False):
                try:
                    self.leases.release(f"poll:{connector.name}", self.owner)
                except Exception as exc:  # noqa: BLE001 - the lease expires by itself
                    log.warning("source=%s: could not release its lease: %s", connector.name, exc)

    def _read_source(self, connector: Connector, result: PollResult, lease: str) -> None:
        """Batch k is scored by the workers while batch k+1 is read and batch k-1 stored."""
        cursor = self.sources.load_cursor(connector.name)
        in_flight: tuple[Prepared, ScoringJob] | None = None
        batches = iter(connector.fetch(cursor))
        fetch_error: Exception | None = None
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - keep what was read before the failure
                fetch_error = exc
                break
            prepared = self._prepare(connector.name, batch, result)
            job = self.engine.submit([(m.text, m.author_reach, m.rating) for m in prepared.todo])
            if in_flight:
                self._store(connector.name, *in_flight, result)
                self.leases.acquire(lease, self.owner, self.lease_ttl)  # renew while the poll runs
            in_flight = (prepared, job)
            if self.stop.is_set():
                log.info("source=%s stopping after the batch in flight", connector.name)
                break
        if in_flight:
            self._store(connector.name, *in_flight, result)
        if fetch_error is not None:
            raise fetch_error

    def _prepare(self, source: str, batch: Batch, result: PollResult) -> Prepared:
        now = utcnow()
        result.batches += 1
        result.read += len(batch.posts) + batch.rejected
        result.rejected += batch.rejected
        fresh: dict[str, Mention] = {}
        rejected = batch.rejected
        replies: list[PublicReply] = []
        for raw in batch.posts:
            try:
                mention = normalize(raw, source, now)
                brands = self.brand_filter.own_account(mention) if mention.in_reply_to else ()
                if brands:
                    # Never an alert or a sentiment figure: the first response to the post it answers.
                    replies.append(PublicReply(source, mention.in_reply_to, "@" + mention.author,
                                               mention.created_at, mention.url, brands))
                    raise Rejected("a public reply by the brand's own account")
                mention = self.brand_filter.assign(mention)
            except Rejected as why:
                reason = str(why)
                if reason == "empty text" or reason.startswith(("text is", "mentions no")):
                    rejected += 1
                    result.rejected += 1
                    log.info("source=%s rejected %s: %s", source, raw.ref or raw.external_id, reason)
                else:
                    result.filtered += 1
                    log.debug("source=%s dropped %s: %s", source, raw.ref or raw.external_id, reason)
                key = reason.split("'")[0].strip()
                result.drop_reasons[key] = result.drop_reasons.get(key, 0) + 1
                continue
            self._count_repairs(source, raw.ref or raw.external_id, mention.repairs, result)
            if mention.external_id in fresh:
                result.duplicates += 1
                continue
            fresh[mention.external_id] = mention
        known = self.mentions.known_ids(source, fresh) if fresh else set()
        result.duplicates += len(known)
        todo = [m for ext, m in fresh.items() if ext not in known]
        return Prepared(batch, todo, rejected, replies)

    def _store(self, source: str, prepared: Prepared, job: ScoringJob, result: PollResult) -> None:
        batch, rows, routes = prepared.batch, [], []
        oldest = utcnow() - self.max_age if self.max_age else None
        for mention, score in zip(prepared.todo, job.result(), strict=True):
            row = _row(mention, score)
            mention_routes = self.router.routes_for(mention.brand, score.topic, score.priority) \
                if score.is_complaint else []
            if mention_routes and oldest and mention.created_at < oldest:
                row["held_back"], mention_routes = True, []  # history, not something to page anyone about
                result.held_back += 1
            rows.append(row)
            routes.append(mention_routes)
            result.complaints += score.is_complaint
        saved = self.mentions.store_batch(source, rows, routes, batch.cursor,
                                          read=len(batch.posts) + batch.rejected,
                                          rejected=prepared.rejected)
        stored, complaints = Counter(), Counter()  # counted per brand, then one metric update each
        for row in rows:
            if row["external_id"] in saved.inserted:
                stored[row["brand"]] += 1
                complaints[row["brand"]] += bool(row["is_complaint"])
        for brand, count in stored.items():
            metrics.MENTIONS.labels(source, brand).inc(count)
            if complaints[brand]:
                metrics.COMPLAINTS.labels(source, brand).inc(complaints[brand])
        result.stored += saved.stored
        result.duplicates += saved.duplicates
        result.alerts += saved.alerts
        if saved.alerts and self.on_stored:
            self.on_stored()
        if prepared.replies and self.on_public_reply:
            self.on_public_reply(prepared.replies)  # after the store: the answered post may be in this batch
        if batch.deleted:  # after the store too: a post may be created and deleted within one batch
            forgotten, closed = self.mentions.forget(source, batch.deleted)
            result.deleted += forgotten
            if closed and self.on_gone:
                self.on_gone(closed)

    @staticmethod
    def _count_repairs(source: str, ref: str, repairs: list[str], result: PollResult) -> None:
        for why in repairs:
            result.repairs[why] = result.repairs.get(why, 0) + 1
            metrics.POSTS_REPAIRED.labels(source, why).inc()
            log.info("source=%s repaired %s: %s", source, ref, why)

    @staticmethod
    def _log_result(r: PollResult) -> None:
        if r.skipped:
            return
        # An idle poll every few seconds would drown the log: it is DEBUG unless something happened.
        level = logging.WARNING if r.error else logging.INFO if r.read else logging.DEBUG
        log.log(level, "source=%s read=%d stored=%d complaints=%d alerts=%d held_back=%d duplicates=%d "
                "filtered=%d rejected=%d repaired=%d batches=%d seconds=%.2f%s", r.source, r.read, r.stored,
                r.complaints, r.alerts, r.held_back, r.duplicates, r.filtered, r.rejected, sum(r.repairs.values()),
                r.batches, r.seconds, " (failed)" if r.error else "",
                extra={"event": "poll", "source": r.source, "read": r.read, "stored": r.stored,
                       "complaints": r.complaints, "alerts": r.alerts, "held_back": r.held_back,
                       "duplicates": r.duplicates,
                       "filtered": r.filtered, "rejected": r.rejected, "repairs": r.repairs,
                       "seconds": round(r.seconds, 3),
                       "error": r.error, "held_from": r.held_from, "held_until": r.held_until})


def _row(m: Mention, s: Score) -> dict:
    return {
        "source": m.source, "external_id": m.external_id, "brand": m.brand, "author": m.author,
        "author_reach": m.author_reach, "url": m.url, "text": m.text, "language": m.language,
        "created_at": m.created_at, "fetched_at": m.fetched_at, "compound": s.compound, "positive": s.positive,
        "neutral": s.neutral, "negative": s.negative, "is_complaint": s.is_complaint,
        "confidence": s.confidence, "reasons": s.reasons, "topic": s.topic, "priority": s.priority,
        "rating": m.rating, "held_back": False,
    }
