"""Cases with their history, and the team's labels; every complaint alerted so far becomes an open case.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("mention_id", Id, nullable=False),
        sa.Column("brand", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", When, nullable=False),
        sa.Column("claimed_by", sa.String(256)),
        sa.Column("claimed_at", When),
        sa.Column("first_response_at", When),
        sa.Column("first_response_by", sa.String(256)),
        sa.Column("closed_by", sa.String(256)),
        sa.Column("closed_at", When),
        sa.Column("updated_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], name="fk_cases_mention_id_mentions",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("mention_id", name="uq_cases_mention_id"),
    )
    op.create_index("ix_cases_status_opened_at", "cases", ["status", "opened_at"])
    op.create_index("ix_cases_brand_opened_at", "cases", ["brand", "opened_at"])
    op.create_table(
        "case_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_events_case_id_cases", ondelete="CASCADE"),
    )
    op.create_index("ix_case_events_case_id_at", "case_events", ["case_id", "at"])
    op.create_table(
        "labels",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("mention_id", Id, nullable=False),
        sa.Column("is_complaint", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_labels"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], name="fk_labels_mention_id_mentions",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_labels_mention_id_at", "labels", ["mention_id", "at"])
    # Complaints alerted before cases existed are open cases from the time their first alert was queued.
    op.execute(
        "INSERT INTO cases (mention_id, brand, status, opened_at, updated_at) "
        "SELECT m.id, m.brand, 'open', MIN(o.created_at), MIN(o.created_at) "
        "FROM mentions m JOIN outbox o ON o.mention_id = m.id GROUP BY m.id, m.brand"
    )


def downgrade() -> None:
    op.drop_table("labels")
    op.drop_table("case_events")
    op.drop_table("cases")
