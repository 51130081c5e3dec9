"""Everything the inbox's pages work with, built once per server: the store's readers, the same case desk as
Slack and the CLI (so the same race rules hold), and the settings the pages show."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from monitor.cases.desk import CaseDesk
from monitor.cases.queue import WorkQueue
from monitor.config import Config
from monitor.store import Store
from monitor.store.inbox import InboxReader
from monitor.store.search import MentionSearch


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
        self._working: tuple[str, list] = ("", [])
        self._lock = threading.Lock()

    def working(self) -> tuple[list, str]:
        """The open and claimed cases and the version they are at: read again only when a case changed since
        (the version is one small query; every agent's refresh of an unchanged queue costs no more)."""
        version = self.reader.version()
        with self._lock:
            seen, cases = self._working
        if seen != version:
            cases = self.reader.working()
            with self._lock:
                self._working = (version, cases)
        return cases, version

    @property
    def web(self):
        return self.config.root.web

    @property
    def timezone(self) -> str:
        return self.config.root.digest.timezone

    @property
    def brands(self) -> list[str]:
        return [b.name for b in self.config.brands]
