"""The running service: APScheduler jobs for each source, outbox delivery and the daily digest."""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from datetime import date

from monitor.cases.desk import CaseDesk
from monitor.cases.replying import ReplyDesk
from monitor.cases.sla import SlaWatch
from monitor.components import Connector, Sink
from monitor.config import Config
from monitor.delivery.outbox import OutboxDelivery
from monitor.ops.liveness import JobWatch
from monitor.ops.stopping import stop_within
from monitor.pipeline.poll import Pipeline, PollResult
from monitor.scoring.pool import ScoringEngine
from monitor.store import SourceMeter, Store

log = logging.getLogger(__name__)


class MonitorService:
    def __init__(self, config: Config, store: Store | None = None) -> None:
        self.config = config
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self.store = store or Store(config.database_url)
        self.engine = ScoringEngine(config.root.scoring, config.root.topics)
        self.connectors: dict[str, Connector] = {
            name: c.cls(name, c.config, config.brands) for name, c in config.enabled_sources().items()}
        self.sinks: dict[str, Sink] = {name: c.cls(name, c.config) for name, c in config.enabled_sinks().items()}
        for name, connector in self.connectors.items():
            connector.meter = SourceMeter(self.store.usage, name, connector.config.monthly_post_budget)
        self.delivery = OutboxDelivery(self.store.outbox, self.store.bursts, self.sinks, config.root.delivery,
                                       self.stop, owner=self.instance, cases=self.store.cases)
        self.desk = CaseDesk(self.store.cases, self.store.outbox, self.sinks, self.store.bursts, self.store.labels)
        self.replies = ReplyDesk(config.root.replies, config.reply_accounts,
                                 config.sources, self.store.replies, self.desk,
                                 self.sinks)
        for sink in self.sinks.values():
            sink.take_actions(self.desk.act)
            sink.link_cases(config.root.web.case_link)
            if config.reply_accounts:  # a Reply button only where a brand account can answer
                sink.take_replies(self.replies)
        self.sla = SlaWatch(config.routes(), self.store.cases, self.store.outbox, self.sinks)
        self.pipeline = Pipeline(config, self.engine, mentions=self.store.mentions, sources=self.store.sources,
                                 leases=self.store.leases, stop=self.stop, ops=ops_notifier(config, self.sinks),
                                 owner=self.instance, on_public_reply=self.desk.answered_publicly,
                                 on_gone=self.desk.show_cases)
        self._scheduler = self.ops_server = self.web_server = None
        self.job_watch = JobWatch()
        self.model_version: int | None = None  # the learned model scoring now (None: the rules alone)

    def prepare(self) -> None:
        self.store.schema.upgrade()
        self.load_model()
        self.settle_replies()

    def settle_replies(self) -> None:
        """Replies a crash left between the network's call and their record: looked for, never resent."""
        try:
            settled = self.replies.reconcile()
        except Exception as exc:  # noqa: BLE001 - the service starts; the replies are settled at the next start
            log.error("could not settle interrupted replies: %s: %s", type(exc).__name__, exc)
            return
        if settled:
            log.info("settled %d interrupted repl%s", settled, "y" if settled == 1 else "ies")

    def load_model(self) -> None:
        """Score with the model every instance shares: the active one in the database, or the rules alone."""
        active = self.store.models.active()
        version = active[0] if active else None
        if version != self.model_version:
            self.engine.use_model(active[1] if active else None)
            self.model_version = version
            log.info("scoring with %s", f"learned model {version}" if version else "the rules alone")

    def retrain(self, at_least: int | None = None) -> None:
        """A scheduled learning run: only when ``at_least`` labels came in since the last model."""
        from monitor.scoring.learning_run import retrain_if_new_labels

        try:
            retrain_if_new_labels(self.store.labels, self.store.models, self.config.root.scoring,
                                  self.config.root.topics, at_least)
            self.load_model()
        except Exception as exc:  # noqa: BLE001 - scoring goes on with the model it has
            log.error("retraining failed: %s: %s", type(exc).__name__, exc)

    def run_once(self) -> list[PollResult]:
        """Poll every enabled source once, then deliver everything that is due."""
        results = [self.pipeline.poll(c) for c in self.connectors.values()]
        self.delivery.kick()
        self.check_sla()
        return results

    def purge(self) -> None:
        """Nightly: clears what outlived the retention, then what the networks deleted; the next night tries
        again if the database or a network is away."""
        from monitor.pipeline.deletions import DeletionCheck

        try:
            report = self.store.privacy.purge(self.config.root.retention)
            log.info("retention purge: %s", ", ".join(f"{k}={v}" for k, v in report.counts.items()),
                     extra={"event": "purge", **report.counts})
            DeletionCheck(self.store.mentions, self.store.leases, self.connectors,
                          self.config.root.retention.deletion_check_days, self.instance, self.desk.show_cases).run()
        except Exception as exc:  # noqa: BLE001 - a failed purge must not stop the service
            log.error("retention purge failed: %s: %s", type(exc).__name__, exc)

    def check_sla(self) -> None:
        """Reminders for cases past their route's SLA, then any escalation alerts they queued."""
        try:
            if self.sla.sweep():
                self.delivery.kick()
        except Exception as exc:  # noqa: BLE001 - the database may be away: the next sweep retries
            log.error("SLA sweep failed: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")

    # -- foreground service ---------------------------------------------------

    def build_scheduler(self):
        """The jobs: one poll per source, the outbox sweep, the digest at its local time (not started)."""
        from monitor.ops.jobs import schedule

        return schedule(self)

    def run_forever(self, install_signals: bool = True) -> bool:
        """Runs until stopped; True when every job finished in time."""
        scheduler = self._scheduler = self.build_scheduler()
        if install_signals:
            self._install_signal_handlers()
        ops = self.start_ops_server()
        self.start_web()
        self.listen()
        scheduler.start()
        log.info("service started: instance=%s sources=%s sinks=%s", self.instance,
                 ",".join(self.connectors) or "none", ",".join(self.sinks) or "none")
        self.stop.wait()
        return stop_within(scheduler, ops, self.config.root.service.stop_grace)

    def listen(self) -> None:
        """Sinks that receive agents' clicks on a connection of their own (Slack Socket Mode) open it."""
        for sink in self.sinks.values():
            try:
                sink.listen()
            except Exception as exc:  # noqa: BLE001 - alerts still go out without buttons working
                log.error("%s: cannot receive case actions: %s: %s", sink.name, type(exc).__name__, exc)

    def start_ops_server(self):
        """The /healthz, /readyz, /metrics endpoint when service.http.enabled; None otherwise."""
        http = self.config.root.service.http
        if not http.enabled:
            return None
        from monitor.ops.metrics import watch_store
        from monitor.ops.server import Limits, OpsServer

        watch_store(self.store.stats, {n: c.config.monthly_post_budget for n, c in self.connectors.items()})
        posts = {path: route for sink in self.sinks.values() for path, route in sink.http_routes().items()}
        self.ops_server = OpsServer(http.host, http.port, self.healthy, self.ready, posts=posts,
                                    limits=Limits.of(http))
        self.ops_server.start()
        return self.ops_server

    def start_web(self) -> None:
        """The web inbox, when web.enabled: the same desk as Slack's buttons, so the same race rules hold."""
        if self.config.root.web.enabled:
            from monitor.web.context import Inbox
            from monitor.web.server import WebServer

            replies = self.replies if self.config.reply_accounts else None
            self.web_server = WebServer(Inbox(self.config, self.store, self.desk, replies))
            self.web_server.start()

    def healthy(self) -> tuple[bool, str]:
        return database_health(self.store)

    def ready(self) -> tuple[bool, str]:
        ok, reason = self.healthy()
        if not ok:
            return ok, reason
        if self._scheduler is None or not self._scheduler.running:
            return False, "scheduler not running"
        if self.stop.is_set():
            return False, "stopping"
        stalled = self.job_watch.stalled()
        if stalled:
            return False, stalled
        return True, "ok"

    def _install_signal_handlers(self) -> None:
        def handle(signum, _frame):
            log.info("received %s", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    # -- digest -----------------------------------------------------------------

    def run_digest(self, day: date | None = None, force: bool = False, out=None, weekly: bool = False) -> int:
        """The scheduled digest: yesterday (digest timezone), or the 7 days up to yesterday when ``weekly``, every
        configured target, once per brand and period."""
        return digest_runner(self.config, self.store, self.sinks).run(day=day, force=force, out=out, weekly=weekly)

    def close(self) -> None:
        for server in (self.ops_server, self.web_server):
            if server is not None:
                server.stop()  # no request may reach a closed store
        for component in list(self.connectors.values()) + list(self.sinks.values()):
            try:
                component.close()
            except Exception as exc:  # noqa: BLE001 - closing must not mask the real exit status
                log.warning("closing %s: %s", component.name, exc)
        self.pipeline.let_go(self.connectors.values())
        self.replies.close()
        self.engine.close()
        self.store.close()


def database_health(store) -> tuple[bool, str]:
    """Whether the database answers, for /healthz and /readyz: (ok, reason)."""
    try:
        store.db.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return False, f"database unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return True, "ok"


def ops_notifier(config, sinks):
    """Where failing and recovered sources are reported (alerts.ops), or None."""
    ops = config.root.alerts.ops
    if ops is None or ops.sink not in sinks:
        return None
    sink = sinks[ops.sink]
    return lambda text: sink.notify(text, ops.channel)


def digest_runner(config, store, sinks):
    """The digest over this store, its "worth a label" items from the labelling queue."""
    from monitor.digest.runner import DigestRunner
    from monitor.pipeline.labelling import LabellingQueue

    queue = LabellingQueue(store, config.root.scoring, config.root.topics)
    return DigestRunner(config, sinks, db=store.db, mentions=store.mentions, runs=store.digest_runs,
                        worth_a_label=queue.for_digest)
