"""Preferred stores (per user, per channel) and the EDR batches the Slack app posted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("store", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scope IN ('user', 'channel')", name=op.f("ck_store_preferences_scope")),
        sa.CheckConstraint("store BETWEEN 1 AND 99999",
                           name=op.f("ck_store_preferences_store_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_preferences")),
        sa.UniqueConstraint("team_id", "scope", "scope_id",
                            name=op.f("uq_store_preferences_team_id_scope_scope_id")),
    )

    op.create_table(
        "edr_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("store", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("files_ok", sa.Integer(), nullable=False),
        sa.Column("files_failed", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')",
                           name=op.f("ck_edr_batches_status")),
        sa.CheckConstraint("store BETWEEN 1 AND 99999", name=op.f("ck_edr_batches_store_range")),
        sa.CheckConstraint("files_ok >= 0 AND files_failed >= 0",
                           name=op.f("ck_edr_batches_file_counts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edr_batches")),
    )
    op.create_index(op.f("ix_edr_batches_team_id_user_id_created_at"), "edr_batches",
                    ["team_id", "user_id", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_edr_batches_team_id_user_id_created_at"), table_name="edr_batches")
    op.drop_table("edr_batches")
    op.drop_table("store_preferences")
