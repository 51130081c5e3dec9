"""connector -> normalize -> dedup -> score -> store (mentions + outbox, one transaction)."""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Optional

from monitor import metrics
from monitor.components import Connector, SourceError
from monitor.config import Config, RouteConfig, ScoringConfig
from monitor.model import Batch, Mention, Score
from monitor.normalize import BrandFilter, Rejected, normalize
from monitor.schema import utcnow
from monitor.storage import MentionStore, Route

log = logging.getLogger(__name__)

# Below this many posts a batch is scored in-process: the pool's round trip costs more.
POOL_MIN_BATCH = 256
MAX_FAILURE_BACKOFF = 900.0

_worker_scorer = None


def _init_worker(scoring: dict, topics: dict) -> None:
    global _worker_scorer
    # Ctrl-C and systemd signal the whole process group; the parent finishes the batch and shuts us down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from monitor.scoring import ComplaintScorer

    _worker_scorer = ComplaintScorer(ScoringConfig.model_validate(scoring), topics)


def _score_chunk(items: list[tuple[str, int]]) -> list[Score]:
    return _worker_scorer.score_many(items)


class ScoringEngine:
    """Scores batches in this process, or across a process pool for large batches."""

    def __init__(self, scoring: ScoringConfig, topics: dict[str, list[str]]) -> None:
        from monitor.scoring import ComplaintScorer

        self.scorer = ComplaintScorer(scoring, topics)
        self._scoring, self._topics = scoring, topics
        self.workers = scoring.workers or (os.cpu_count() or 1)
        self._pool: Optional[ProcessPoolExecutor] = None
        self._lock = threading.Lock()

    def score(self, items: list[tuple[str, int]]) -> list[Score]:
        return self.submit(items).result()

    def submit(self, items: list[tuple[str, int]]) -> "ScoringJob":
        """Starts scoring; the caller can prepare or store other batches while the workers run."""
        if self.workers <= 1 or len(items) < POOL_MIN_BATCH:
            return ScoringJob(self, done=self.scorer.score_many(items))
        pool = self._get_pool()
        size = -(-len(items) // (self.workers * 2))
        return ScoringJob(self, futures=[pool.submit(_score_chunk, items[i:i + size])
                                         for i in range(0, len(items), size)])

    def _discard_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # forkserver: forking a process that runs scheduler threads is unsafe.
                method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context(method),
                    initializer=_init_worker, initargs=(self._scoring.model_dump(), self._topics))
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


class ScoringJob:
    def __init__(self, engine: ScoringEngine, done: Optional[list[Score]] = None, futures: Optional[list] = None):
        self._engine, self._done, self._futures = engine, done, futures or []

    def result(self) -> list[Score]:
        if self._done is None:
            try:
                self._done = [score for f in self._futures for score in f.result()]
            except BrokenProcessPool:
                self._engine._discard_pool()  # a worker died (OOM killer?): start fresh next time
                raise
        return self._done


class Router:
    """Which alert routes a complaint takes: matching routes, else the fallback ones."""

    def __init__(self, routes: list[RouteConfig]) -> None:
        self._routes = routes

    def routes_for(self, brand: str, topic: str, priority: float) -> list[Route]:
        def matches(r: RouteConfig) -> bool:
            return ((not r.brands or brand in r.brands) and (not r.topics or topic in r.topics)
                    and priority >= r.min_priority)

        chosen = [r for r in self._routes if not r.fallback and matches(r)]
        if not chosen:
            chosen = [r for r in self._routes if r.fallback and matches(r)]
        return [Route(r.name, r.sink, r.channel) for r in chosen]


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
    batches: int = 0
    error: Optional[str] = None
    skipped: Optional[str] = None
    seconds: float = 0.0
    drop_reasons: dict[str, int] = field(default_factory=dict)
    held_from: Optional[float] = None   # when this instance held the source's lease (Unix time)
    held_until: Optional[float] = None


@dataclass
class Prepared:
    """A batch after normalizing, filtering and dedup: what is left to score and store."""

    batch: Batch
    todo: list[Mention]
    rejected: int


class Pipeline:
    def __init__(self, config: Config, store: MentionStore, engine: ScoringEngine,
                 stop: Optional[threading.Event] = None,
                 on_stored: Optional[Callable[[], None]] = None,
                 ops: Optional[Callable[[str], None]] = None, owner: str = "") -> None:
        self.config = config
        self.store = store
        self.engine = engine
        self.stop = stop or threading.Event()
        self.on_stored = on_stored
        self.ops = ops  # posts a notice to the ops channel; raises when it could not
        self.owner = owner or f"pipeline-{id(self):x}"
        self.lease_ttl = config.root.service.lease_ttl
        self.ops_after = config.root.alerts.ops.after_failures if config.root.alerts.ops else 0
        self.brand_filter = BrandFilter(config.brands)
        self.router = Router(config.routes())
        self._paused_until: dict[str, datetime] = {}
        self._pauses_loaded = False

    def poll(self, connector: Connector) -> PollResult:
        """One poll of one source. Never raises: a failing source must not stop the others."""
        result = PollResult(connector.name)
        started = time.monotonic()
        paused = self._paused_until.get(connector.name)
        if paused and utcnow() < paused:
            result.skipped = f"paused until {paused:%Y-%m-%d %H:%M:%S} UTC"
            log.debug("source=%s skipped: %s", connector.name, result.skipped)
            return result
        try:
            if not self._pauses_loaded:  # a restart honours rate limits, budgets and backoff
                self._paused_until.update(self.store.paused_sources())
                self._pauses_loaded = True
                if connector.name in self._paused_until:
                    return self.poll(connector)
            lease = f"poll:{connector.name}"
            if not self.store.acquire_lease(lease, self.owner, self.lease_ttl):
                result.skipped = "being polled by another instance"
                log.debug("source=%s skipped: %s", connector.name, result.skipped)
                return result
            result.held_from = time.time()
            try:
                self._read_source(connector, result, lease)
            finally:
                result.held_until = time.time()
                self.store.release_lease(lease, self.owner)
            self._paused_until.pop(connector.name, None)
            if self.store.record_success(connector.name):
                log.warning("source=%s recovered", connector.name)
                if self.ops and self.store.ops_notified(connector.name):
                    self._tell_ops(connector.name, f"Source {connector.name} recovered and is polling again.", False)
        except Exception as exc:  # noqa: BLE001 - any failure is contained to this source
            self._fail(connector, exc, result)
        result.seconds = time.monotonic() - started
        self._log_result(result)
        return result

    def _read_source(self, connector: Connector, result: PollResult, lease: str) -> None:
        """Batch k is scored by the workers while batch k+1 is read and batch k-1 stored."""
        cursor = self.store.load_cursor(connector.name)
        in_flight: Optional[tuple[Prepared, ScoringJob]] = None
        batches = iter(connector.fetch(cursor))
        fetch_error: Optional[Exception] = None
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - keep what was read before the failure
                fetch_error = exc
                break
            prepared = self._prepare(connector.name, batch, result)
            job = self.engine.submit([(m.text, m.author_reach) for m in prepared.todo])
            if in_flight:
                self._store(connector.name, *in_flight, result)
                self.store.acquire_lease(lease, self.owner, self.lease_ttl)  # renew while the poll runs
            in_flight = (prepared, job)
            if self.stop.is_set():
                log.info("source=%s stopping after the batch in flight", connector.name)
                break
        if in_flight:
            self._store(connector.name, *in_flight, result)
        if fetch_error is not None:
            raise fetch_error

    def _fail(self, connector: Connector, exc: Exception, result: PollResult) -> None:
        source = connector.name
        result.error = f"{type(exc).__name__}: {exc}"
        retry_after, unhealthy, notice, pause_reason = None, False, False, "rate_limit"
        if isinstance(exc, SourceError):
            result.error = str(exc)
            retry_after, unhealthy, notice, pause_reason = exc.retry_after, exc.unhealthy, exc.notice, exc.pause_reason
        log.error("source=%s poll failed: %s", source, result.error,
                  exc_info=not isinstance(exc, SourceError) and log.isEnabledFor(logging.DEBUG),
                  extra={"event": "poll_failed", "source": source})
        metrics.SOURCE_ERRORS.labels(source).inc()
        if retry_after:
            metrics.SOURCE_PAUSES.labels(source, pause_reason).inc()
        try:
            failures = self.store.record_failure(source, result.error, unhealthy=unhealthy)
        except Exception as db_exc:  # noqa: BLE001 - the database may be the thing that failed
            log.error("source=%s could not record the failure: %s", source, db_exc)
            failures = 1
        if self.ops and (failures >= self.ops_after or notice):
            try:
                told = self.store.ops_notified(source)
            except Exception:  # noqa: BLE001 - the database is down: the notice waits for the next failure
                told = True
            if not told:
                self._tell_ops(source, f"Source {source} is failing ({failures} poll(s) in a row): "
                                       f"{result.error}", True)
        if retry_after is None:
            # Repeated failures back off: next run, then 1, 3, 7... intervals skipped, at most 15 minutes.
            # (the exponent is capped: a source failing for weeks must not overflow the float)
            retry_after = min(MAX_FAILURE_BACKOFF, connector.config.interval * (2 ** min(failures - 1, 30) - 1))
        if retry_after > 0:
            self._paused_until[source] = utcnow() + timedelta(seconds=retry_after)
            try:
                self.store.set_paused(source, self._paused_until[source])
            except Exception as db_exc:  # noqa: BLE001 - the pause still holds in this process
                log.error("source=%s could not record the pause: %s", source, db_exc)

    def _tell_ops(self, source: str, text: str, failing: bool) -> None:
        """One notice when a source starts failing and one when it recovers, never one per failed run."""
        try:
            self.ops(text)
            self.store.set_ops_notified(source, failing)
        except Exception as exc:  # noqa: BLE001 - a failing ops channel must not fail the poll
            log.error("source=%s could not notify the ops channel: %s", source, exc)

    def _prepare(self, source: str, batch: Batch, result: PollResult) -> "Prepared":
        now = utcnow()
        result.batches += 1
        result.read += len(batch.posts) + batch.rejected
        result.rejected += batch.rejected
        fresh: dict[str, Mention] = {}
        rejected = batch.rejected
        for raw in batch.posts:
            try:
                mention = self.brand_filter.assign(normalize(raw, source, now))
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
            if mention.external_id in fresh:
                result.duplicates += 1
                continue
            fresh[mention.external_id] = mention
        known = self.store.known_ids(source, fresh) if fresh else set()
        result.duplicates += len(known)
        todo = [m for ext, m in fresh.items() if ext not in known]
        return Prepared(batch, todo, rejected)

    def _store(self, source: str, prepared: "Prepared", job: ScoringJob, result: PollResult) -> None:
        batch, rows, routes = prepared.batch, [], []
        for mention, score in zip(prepared.todo, job.result()):
            rows.append(_row(mention, score))
            routes.append(self.router.routes_for(mention.brand, score.topic, score.priority)
                          if score.is_complaint else [])
            result.complaints += score.is_complaint
        saved = self.store.store_batch(source, rows, routes, batch.cursor,
                                       read=len(batch.posts) + batch.rejected,
                                       rejected=prepared.rejected)
        for row in rows:
            if row["external_id"] in saved.inserted:
                metrics.MENTIONS.labels(source, row["brand"]).inc()
                if row["is_complaint"]:
                    metrics.COMPLAINTS.labels(source, row["brand"]).inc()
        result.stored += saved.stored
        result.duplicates += saved.duplicates
        result.alerts += saved.alerts
        if saved.alerts and self.on_stored:
            self.on_stored()

    @staticmethod
    def _log_result(r: PollResult) -> None:
        if r.skipped:
            return
        # An idle poll every few seconds would drown the log: it is DEBUG unless something happened.
        level = logging.WARNING if r.error else logging.INFO if r.read else logging.DEBUG
        log.log(level, "source=%s read=%d stored=%d complaints=%d alerts=%d duplicates=%d filtered=%d "
                "rejected=%d batches=%d seconds=%.2f%s", r.source, r.read, r.stored, r.complaints, r.alerts,
                r.duplicates, r.filtered, r.rejected, r.batches, r.seconds, " (failed)" if r.error else "",
                extra={"event": "poll", "source": r.source, "read": r.read, "stored": r.stored,
                       "complaints": r.complaints, "alerts": r.alerts, "duplicates": r.duplicates,
                       "filtered": r.filtered, "rejected": r.rejected, "seconds": round(r.seconds, 3),
                       "error": r.error, "held_from": r.held_from, "held_until": r.held_until})


def _row(m: Mention, s: Score) -> dict:
    return {
        "source": m.source, "external_id": m.external_id, "brand": m.brand, "author": m.author,
        "author_reach": m.author_reach, "url": m.url, "text": m.text, "language": m.language,
        "created_at": m.created_at, "fetched_at": m.fetched_at, "compound": s.compound, "positive": s.positive,
        "neutral": s.neutral, "negative": s.negative, "is_complaint": s.is_complaint,
        "confidence": s.confidence, "reasons": s.reasons, "topic": s.topic, "priority": s.priority,
    }
