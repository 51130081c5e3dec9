"""Everything the inbox's pages work with, built once per server: the store's readers, the same case desk as
Slack and the CLI (so the same race rules hold), and the settings the pages show."""
from __future__ import annotations

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

    @property
    def web(self):
        return self.config.root.web

    @property
    def timezone(self) -> str:
        return self.config.root.digest.timezone

    @property
    def brands(self) -> list[str]:
        return [b.name for b in self.config.brands]
