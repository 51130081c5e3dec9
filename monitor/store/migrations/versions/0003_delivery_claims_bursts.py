"""Delivery claims (no duplicate after a crash mid-send), bursts, ops-notice state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bursts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("brand", sa.String(128), nullable=False),
        sa.Column("started_at", When, nullable=False),
        sa.Column("last_at", When, nullable=False),
        sa.Column("message_ref", sa.String(256)),
        sa.PrimaryKeyConstraint("id", name="pk_bursts"),
    )
    op.create_index("ix_bursts_route_brand_last_at", "bursts", ["route", "brand", "last_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_at", When))
        batch.add_column(sa.Column("burst_id", Id))
        batch.create_foreign_key("fk_outbox_burst_id_bursts", "bursts", ["burst_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("source_health") as batch:
        batch.add_column(sa.Column("ops_notified", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("source_health") as batch:
        batch.drop_column("ops_notified")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_burst_id_bursts", type_="foreignkey")
        batch.drop_column("burst_id")
        batch.drop_column("claimed_at")
    op.drop_index("ix_bursts_route_brand_last_at", "bursts")
    op.drop_table("bursts")
