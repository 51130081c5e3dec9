"""Storage: migrations match the model, the schema works on SQLite and PostgreSQL, bad URLs fail clearly."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from monitor.model import Route
from monitor.store import Store, StoreError, make_url_safe
from monitor.store.schema import declared, metadata


def test_migrations_build_exactly_the_declared_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": declared}), metadata)
    assert diff == []
    assert store.schema.revision() == store.schema.head_revision()


def test_upgrade_is_idempotent(store):
    store.schema.upgrade()
    assert store.schema.revision() == store.schema.head_revision()


def test_store_batch_is_atomic_and_deduplicates(store):
    row = {"source": "s", "external_id": "1", "brand": "B", "author": "a", "author_reach": 1, "url": None,
           "text": "t", "language": None, "created_at": sa.func.now(), "fetched_at": sa.func.now(),
           "compound": -0.5, "positive": 0, "neutral": 0.5, "negative": 0.5, "is_complaint": True,
           "confidence": 0.9, "reasons": [{"rule": "waiting"}], "topic": "delivery", "priority": 50}
    from monitor.clock import utcnow
    row["created_at"] = row["fetched_at"] = utcnow()
    saved = store.mentions.store_batch("s", [row], [[Route("r", "console", None)]], {"k": "v1"}, read=1, rejected=0)
    assert (saved.stored, saved.alerts) == (1, 1)
    again = store.mentions.store_batch("s", [row], [[Route("r", "console", None)]], {"k": "v2"}, read=1, rejected=0)
    assert (again.stored, again.duplicates, again.alerts) == (0, 1, 0)
    assert store.sources.load_cursor("s") == {"k": "v2"}
    assert store.mentions.known_ids("s", ["1", "2"]) == {"1"}
    alert = store.outbox.claim_next("test")
    assert store.outbox.claim_next("other") is None
    assert alert.reasons == [{"rule": "waiting"}] and alert.created_at.tzinfo is not None
    # A broken row rolls back the whole batch, cursor included.
    bad = dict(row, external_id="2", text=None)
    with pytest.raises(sa.exc.IntegrityError):
        store.mentions.store_batch("s", [bad], [[]], {"k": "v3"}, read=1, rejected=0)
    assert store.sources.load_cursor("s") == {"k": "v2"}


def test_digest_runs_are_reserved_once(store):
    import datetime as dt

    day = dt.date(2026, 11, 20)
    assert store.digest_runs.claim("B", day, "file")
    assert not store.digest_runs.claim("B", day, "file")  # another instance reserved it
    store.digest_runs.finish("B", day, "file", None)       # that send failed: free again
    assert store.digest_runs.claim("B", day, "file")
    store.digest_runs.finish("B", day, "file", "sent")
    assert not store.digest_runs.claim("B", day, "file")
    assert store.digest_runs.claim("B", day, "file", force=True)


def test_unsupported_url_is_a_clear_error():
    with pytest.raises(StoreError):
        Store("notadb://nowhere")


def test_password_is_hidden_in_urls():
    assert "hunter2" not in make_url_safe("postgresql+psycopg://u:hunter2@db/monitor")


def test_sqlite_uses_wal(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()
