"""Public replies written in the monitor, stored before the network is called.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("author", sa.String(256), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("approved_by", sa.String(256)),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("sent_at", When),
        sa.Column("external_id", sa.String(256)),
        sa.Column("url", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("message_ref", sa.String(256)),
        sa.PrimaryKeyConstraint("id", name="pk_replies"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_replies_case_id_cases", ondelete="CASCADE"),
        sa.UniqueConstraint("fingerprint", name="uq_replies_fingerprint"),
        sa.UniqueConstraint("key", name="uq_replies_key"),
    )
    op.create_index("ix_replies_case_id", "replies", ["case_id"])
    op.create_index("ix_replies_status", "replies", ["status"])


def downgrade() -> None:
    op.drop_index("ix_replies_status", "replies")
    op.drop_index("ix_replies_case_id", "replies")
    op.drop_table("replies")
