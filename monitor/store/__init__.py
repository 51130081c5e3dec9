"""Storage: one database, a repository per family of tables, and the schema's migrations.

Components take the repository they need; ``Store`` only wires them to one database.
"""
from __future__ import annotations

from monitor.store.bursts import BurstRepository
from monitor.store.cases import CaseRepository
from monitor.store.database import Database, StoreError, make_url_safe
from monitor.store.digest_runs import DigestRunRepository
from monitor.store.labels import LabelRepository
from monitor.store.leases import LeaseRepository
from monitor.store.mentions import MentionRepository, StoredBatch
from monitor.store.migrate import SchemaMigrator
from monitor.store.models import ModelRepository
from monitor.store.outbox import OutboxRepository
from monitor.store.privacy import PrivacyRepository
from monitor.store.replies import ReplyRepository
from monitor.store.sources import SourceRepository
from monitor.store.stats import StatsReader
from monitor.store.usage import SourceMeter, UsageRepository
from monitor.store.users import UserRepository

__all__ = ["Store", "StoreError", "make_url_safe", "StoredBatch", "SourceMeter"]


class Store:
    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.schema = SchemaMigrator(self.db)
        self.sources = SourceRepository(self.db)
        self.usage = UsageRepository(self.db)
        self.leases = LeaseRepository(self.db)
        self.mentions = MentionRepository(self.db, self.sources)
        self.outbox = OutboxRepository(self.db)
        self.bursts = BurstRepository(self.db)
        self.cases = CaseRepository(self.db)
        self.labels = LabelRepository(self.db)
        self.replies = ReplyRepository(self.db)
        self.privacy = PrivacyRepository(self.db)
        self.models = ModelRepository(self.db)
        self.digest_runs = DigestRunRepository(self.db)
        self.users = UserRepository(self.db)
        self.stats = StatsReader(self.db, self.sources, self.usage, self.outbox, self.cases)

    @property
    def url(self) -> str:
        return self.db.url

    def close(self) -> None:
        self.db.close()
