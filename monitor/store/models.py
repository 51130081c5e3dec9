"""Learned classifiers: each trained version with its figures; activating one deactivates the others."""
from __future__ import annotations

from sqlalchemy import func, insert, select, update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import labels, models


class ModelRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def newest_label_id(self) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.coalesce(func.max(labels.c.id), 0))).scalar_one()

    def last_trained_on(self) -> int:
        """The newest label the last trained model saw (0 when none was trained)."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.coalesce(func.max(models.c.last_label_id), 0))).scalar_one()

    def save(self, data: bytes, labels_count: int, last_label_id: int, rules_f1: float, model_f1: float,
             figures: dict, activate: bool) -> int:
        with self.db.engine.begin() as conn:
            if activate:
                conn.execute(update(models).where(models.c.active.is_(True)).values(active=False))
            return conn.execute(insert(models).values(
                created_at=utcnow(), labels=labels_count, last_label_id=last_label_id, rules_f1=rules_f1,
                model_f1=model_f1, figures=figures, active=activate, data=data).returning(models.c.id)).scalar_one()

    def active(self) -> tuple[int, bytes] | None:
        """(version, data) of the model every instance scores with, or None: the rules alone."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(models.c.id, models.c.data).where(models.c.active.is_(True))
                               .order_by(models.c.id.desc()).limit(1)).first()
        return (row.id, bytes(row.data)) if row else None

    def history(self) -> list[dict]:
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(models.c.id, models.c.created_at, models.c.labels, models.c.rules_f1, models.c.model_f1,
                       models.c.active).order_by(models.c.id))]
