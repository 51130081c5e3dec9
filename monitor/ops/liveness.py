"""Whether the scheduler is still firing its jobs. A scheduler whose thread died keeps saying it is running;
only the jobs that stop firing tell."""
from __future__ import annotations

import threading
import time

STALL_INTERVALS = 3      # a job that missed this many of its intervals has stalled
STALL_GRACE = 30.0       # seconds on top, so a busy machine is not declared dead


class JobWatch:
    def __init__(self, intervals: int = STALL_INTERVALS, grace: float = STALL_GRACE) -> None:
        self.intervals, self.grace = intervals, grace
        self._periods: dict[str, float] = {}
        self._fired: dict[str, float] = {}
        self._since = time.monotonic()
        self._lock = threading.Lock()

    def attach(self, scheduler) -> None:
        """Listen to the scheduler: a job counts as fired when submitted to its executor, or skipped because
        its previous run is still going (a long poll is alive, not stalled)."""
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED

        scheduler.add_listener(self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
        self._since = time.monotonic()

    def expect(self, job_id: str, every: float) -> None:
        self._periods[job_id] = every

    def _on_event(self, event) -> None:
        with self._lock:
            self._fired[event.job_id] = time.monotonic()

    def stalled(self) -> str | None:
        """Why the scheduler looks dead, or None while every watched job fires on time."""
        now = time.monotonic()
        with self._lock:
            fired = dict(self._fired)
        for job_id, every in sorted(self._periods.items()):
            quiet = now - fired.get(job_id, self._since)
            if quiet > self.intervals * every + self.grace:
                return (f"job {job_id} has not run for {quiet:.0f}s (due every {every:g}s): "
                        "the scheduler has stopped firing jobs")
        return None
