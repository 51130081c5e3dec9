"""A bounded stop: what SIGTERM sets in motion once the service's stop event is set."""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


def stop_within(scheduler, ops, grace: float) -> bool:
    """Requests waiting on the network end at once, the endpoint closes, and jobs in flight get ``grace``
    seconds to finish. False when some did not: the caller exits anyway."""
    from monitor.http_deadline import abort_all

    log.info("stopping: finishing the work in flight")
    abort_all("the service is stopping")
    done = threading.Event()

    def wait_for_jobs() -> None:
        scheduler.shutdown(wait=True)
        done.set()

    threading.Thread(target=wait_for_jobs, name="stopping", daemon=True).start()
    if ops:
        ops.stop()
    deadline = time.monotonic() + grace
    while not done.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)  # short sleeps: a timed wait never ends under clock-shifting test tools
    finished = done.is_set()
    log.info("stopped" if finished else "stopped: jobs still running after service.stop_grace were left "
             "unfinished (what they had stored is kept; the rest is read again at the next start)")
    return finished
