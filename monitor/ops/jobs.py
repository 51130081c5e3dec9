"""The service's APScheduler jobs: one poll per source on its own interval, the outbox sweep, SLA reminders,
retraining, the active model, and the digests at their local time."""
from __future__ import annotations

from monitor import clock


def schedule(svc):
    """The jobs of a MonitorService ``svc`` on a background scheduler (not started)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    # One thread per source plus delivery and digest, so a slow source never delays another.
    scheduler = BackgroundScheduler(
        executors={"default": {"type": "threadpool", "max_workers": len(svc.connectors) + 3}},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    now = clock.SYSTEM.utcnow()  # APScheduler keeps time by the machine's clock, not ours
    svc.job_watch.attach(scheduler)
    for name, connector in svc.connectors.items():
        cfg = connector.config
        scheduler.add_job(svc.pipeline.poll, IntervalTrigger(seconds=cfg.interval, jitter=cfg.jitter or None),
                          args=[connector], id=f"poll:{name}", name=f"poll {name}", next_run_time=now,
                          misfire_grace_time=max(1, int(cfg.interval)))
        svc.job_watch.expect(f"poll:{name}", cfg.interval + cfg.jitter)
    scheduler.add_job(svc.delivery.kick, IntervalTrigger(seconds=svc.config.root.delivery.interval),
                      id="deliver", name="deliver outbox", next_run_time=now)
    svc.job_watch.expect("deliver", svc.config.root.delivery.interval)
    if svc.sla.routes:
        scheduler.add_job(svc.check_sla, IntervalTrigger(seconds=svc.config.root.delivery.interval),
                          id="sla", name="SLA reminders", next_run_time=now)
        svc.job_watch.expect("sla", svc.config.root.delivery.interval)
    scheduler.add_job(svc.retrain, CronTrigger(hour=3, minute=30, timezone=svc.config.root.digest.timezone),
                      id="learn", name="retrain on new labels", kwargs={"at_least": 1}, misfire_grace_time=3600)
    scheduler.add_job(svc.retrain, IntervalTrigger(minutes=10), id="learn-soon", name="retrain on a batch")
    scheduler.add_job(svc.load_model, IntervalTrigger(minutes=5), id="model", name="use the active model")
    retention = svc.config.root.retention
    hour, minute = (int(x) for x in retention.time.split(":"))
    scheduler.add_job(svc.purge, CronTrigger(hour=hour, minute=minute, timezone=svc.config.root.digest.timezone),
                      id="purge", name="retention purge", misfire_grace_time=3600)
    digest = svc.config.root.digest
    hour, minute = (int(x) for x in digest.time.split(":"))
    for weekly in (False, True) if digest.enabled else ():
        if not weekly or digest.weekly:  # the weekly one on its day, at the daily one's time
            scheduler.add_job(svc.run_digest, CronTrigger(day_of_week=digest.weekly[:3] if weekly else None,
                                                           hour=hour, minute=minute, timezone=digest.timezone),
                              kwargs={"weekly": weekly}, id="weekly-digest" if weekly else "digest",
                              name="weekly digest" if weekly else "daily digest", misfire_grace_time=3600)
    svc.pipeline.on_stored = lambda: scheduler.add_job(
        svc.delivery.kick, id="deliver-now", replace_existing=True, misfire_grace_time=None)
    return scheduler
