"""The web inbox: its users and their sessions, full-text search over the mentions' text, and an index for an
author's other posts.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# SQLite: an external-content FTS5 table (the index only; the text stays in mentions), kept in step by triggers,
# so a post cleared by the retention purge or an erasure leaves the index too.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE mentions_fts USING fts5(text, content='mentions', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN "
    "INSERT INTO mentions_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN "
    "INSERT INTO mentions_fts(mentions_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text ON mentions BEGIN "
    "INSERT INTO mentions_fts(mentions_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO mentions_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild')",
]
# PostgreSQL: the words kept beside the text in a generated column (a redacted text clears them with it), so a
# phrase is checked against the stored vector instead of parsing each candidate post again.
POSTGRES_SEARCH = [
    "ALTER TABLE mentions ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
    "CREATE INDEX ix_mentions_text_search ON mentions USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_web_sessions_user_id_users",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_mentions_source_author", "mentions", ["source", "author"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_SEARCH if dialect == "sqlite" else POSTGRES_SEARCH if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS mentions_fts_{name}")
        op.execute("DROP TABLE IF EXISTS mentions_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_mentions_text_search")
        op.execute("ALTER TABLE mentions DROP COLUMN IF EXISTS search_vector")
    op.drop_index("ix_mentions_source_author", "mentions")
    op.drop_index("ix_web_sessions_user_id", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("users")
