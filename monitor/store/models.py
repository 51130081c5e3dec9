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

    def labels_since(self, label_id: int) -> int:
        """Label rows added after ``label_id``."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(labels).where(labels.c.id > label_id)).scalar_one()

    def active_figures(self) -> dict | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(models.c.id, models.c.labels, models.c.model_f1, models.c.rules_f1)
                               .where(models.c.active.is_(True)).order_by(models.c.id.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    def rollback(self) -> tuple[int | None, int | None]:
        """Reactivates the model that was active before the current one (the newest earlier model that beat
        the rules); with none, the rules alone. Returns (deactivated, reactivated)."""
        with self.db.engine.begin() as conn:
            current = conn.execute(select(models.c.id).where(models.c.active.is_(True))
                                   .order_by(models.c.id.desc()).limit(1)).scalar()
            if current is None:
                return None, None
            earlier = conn.execute(select(models.c.id, models.c.figures, models.c.model_f1, models.c.rules_f1)
                                   .where(models.c.id < current).order_by(models.c.id.desc()))
            # Models stored before activations were recorded were activated when they beat the rules.
            previous = next((r.id for r in earlier if (r.figures or {}).get("activated",
                                                                             r.model_f1 > r.rules_f1)), None)
            conn.execute(update(models).where(models.c.active.is_(True)).values(active=False))
            if previous is not None:
                conn.execute(update(models).where(models.c.id == previous).values(active=True))
        return current, previous

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
                model_f1=model_f1, figures={**figures, "activated": activate}, active=activate, data=data)
                .returning(models.c.id)).scalar_one()

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
                       models.c.active, models.c.figures).order_by(models.c.id))]
