"""The daily deletion check of polled sources: the complaints stored in the last days are looked up at the
network in batches, and those it no longer shows (deleted, removed, their author suspended or protected) lose
their text, author and link at once, their open cases closing as gone. Streams push deletions instead.
Lookups are metered like reads; one instance runs the check (a lease)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from monitor.clock import utcnow
from monitor.components import Connector, SourceError

log = logging.getLogger(__name__)
LEASE = "deletion-check"


class DeletionCheck:
    def __init__(self, mentions, leases, connectors: dict[str, Connector], days: int, owner: str,
                 on_gone: Callable[[list[int]], None] | None = None) -> None:
        self.mentions, self.leases, self.connectors = mentions, leases, connectors
        self.days, self.owner, self.on_gone = days, owner, on_gone

    def checkable(self) -> dict[str, Connector]:
        return {name: c for name, c in self.connectors.items() if c.lookup_batch}

    def run(self) -> dict[str, int]:
        """How many posts each source forgot (sources without lookups are left out)."""
        if not self.days or not self.leases.acquire(LEASE, self.owner, 3600):
            return {}
        try:
            return {name: self._check(name, c) for name, c in self.checkable().items()}
        finally:
            self.leases.release(LEASE, self.owner)

    def _check(self, name: str, connector: Connector) -> int:
        ids = self.mentions.recent_complaints(name, utcnow() - timedelta(days=self.days))
        gone: set[str] = set()
        try:
            for start in range(0, len(ids), connector.lookup_batch):
                gone |= connector.gone(ids[start:start + connector.lookup_batch])
        except SourceError as exc:
            log.warning("source=%s deletion check stopped after %d of %d posts: %s", name, start, len(ids), exc)
        forgotten, closed = self.mentions.forget(name, sorted(gone))
        if closed and self.on_gone:
            self.on_gone(closed)
        log.info("source=%s deletion check: %d stored complaint(s) looked up, %d gone", name, len(ids), forgotten,
                 extra={"event": "deletion_check", "source": name, "checked": len(ids), "gone": forgotten})
        return forgotten
