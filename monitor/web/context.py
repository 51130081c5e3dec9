"""Everything the inbox's pages work with, built once per server: the store's readers, the same case desk as
Slack and the CLI (so the same race rules hold), and the settings the pages show."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from monitor.cases.desk import CaseDesk
from monitor.cases.queue import WorkQueue
from monitor.config import Config
from monitor.store import Store
from monitor.store.inbox import InboxReader
from monitor.store.search import MentionSearch

FULL_READ = 60.0                       # seconds between whole reads of the queue
CLOCK_MARGIN = timedelta(minutes=5)    # cases changed this long before the newest change seen are read again


@dataclass
class Inbox:
    config: Config
    store: Store
    desk: CaseDesk
    replies: object | None = None             # a ReplyDesk when reply accounts are configured
    reader: InboxReader = field(init=False)
    search: MentionSearch = field(init=False)
    queue: WorkQueue = field(init=False)

    def __post_init__(self) -> None:
        self.reader = InboxReader(self.store.db)
        self.search = MentionSearch(self.store.db)
        self.queue = WorkQueue(self.config.routes())
        self._cases: dict[int, object] = {}   # case id -> WorkingCase
        self._version, self._newest, self._full_at = "", None, 0.0
        self._lock = threading.Lock()

    def working(self) -> tuple[list, str]:
        """The open and claimed cases and the version they are at. Nothing is read while no case changed (the
        version is one small query); after a change only the cases changed since the last read are, with a
        margin for instances whose clocks differ, and the whole queue once every FULL_READ seconds."""
        version = self.reader.version()
        with self._lock:
            if version != self._version:
                self._refresh()
                self._version = version
            return list(self._cases.values()), version

    def _refresh(self) -> None:
        full = self._newest is None or time.monotonic() - self._full_at > FULL_READ
        since = None if full else self._newest - CLOCK_MARGIN
        worked, left, newest = self.reader.working(since)
        if full:
            self._cases, self._full_at = {}, time.monotonic()
        for case_id in left:
            self._cases.pop(case_id, None)
        self._cases.update((case.id, case) for case in worked)
        self._newest = max(filter(None, (self._newest if not full else None, newest)), default=None)

    @property
    def web(self):
        return self.config.root.web

    @property
    def timezone(self) -> str:
        return self.config.root.digest.timezone

    @property
    def brands(self) -> list[str]:
        return [b.name for b in self.config.brands]
