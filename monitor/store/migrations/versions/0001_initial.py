"""Initial schema: mentions, cursors, outbox, digest runs, source health.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mentions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("brand", sa.String(128), nullable=False),
        sa.Column("author", sa.String(256), nullable=False),
        sa.Column("author_reach", sa.BigInteger, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("created_at", When, nullable=False),
        sa.Column("fetched_at", When, nullable=False),
        sa.Column("compound", sa.Float, nullable=False),
        sa.Column("positive", sa.Float, nullable=False),
        sa.Column("neutral", sa.Float, nullable=False),
        sa.Column("negative", sa.Float, nullable=False),
        sa.Column("is_complaint", sa.Boolean, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mentions"),
        sa.UniqueConstraint("source", "external_id", name="uq_mentions_source_external_id"),
    )
    op.create_index("ix_mentions_brand_created_at", "mentions", ["brand", "created_at"])
    op.create_index("ix_mentions_is_complaint_created_at", "mentions", ["is_complaint", "created_at"])

    op.create_table(
        "cursors",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.PrimaryKeyConstraint("source", "key", name="pk_cursors"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("mention_id", Id, nullable=False),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("sink", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(256)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", When, nullable=False),
        sa.Column("delivered_at", When),
        sa.Column("message_ref", sa.String(256)),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE",
                                name="fk_outbox_mention_id_mentions"),
        sa.UniqueConstraint("mention_id", "route", name="uq_outbox_mention_id_route"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "digest_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("brand", sa.String(128), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_digest_runs"),
        sa.UniqueConstraint("brand", "day", "target", name="uq_digest_runs_brand_day_target"),
    )

    op.create_table(
        "source_health",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("last_success_at", When),
        sa.Column("last_error_at", When),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("posts_read", sa.BigInteger, nullable=False),
        sa.Column("posts_stored", sa.BigInteger, nullable=False),
        sa.Column("posts_rejected", sa.BigInteger, nullable=False),
        sa.Column("paused_until", When),
        sa.Column("unhealthy", sa.Boolean, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_source_health"),
    )


def downgrade() -> None:
    for table in ("source_health", "digest_runs", "outbox", "cursors", "mentions"):
        op.drop_table(table)
