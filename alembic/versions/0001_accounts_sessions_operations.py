"""Retail Link accounts, per-user sessions and the operation audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ids() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "retail_link_accounts",
        *_ids(),
        sa.Column("use_default", sa.Boolean(), nullable=False),
        sa.Column("username_encrypted", sa.Text(), nullable=True),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("credential_id_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "use_default OR (username_encrypted IS NOT NULL AND password_encrypted IS NOT NULL"
            " AND credential_id_encrypted IS NOT NULL)",
            name=op.f("ck_retail_link_accounts_has_credentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retail_link_accounts")),
        sa.UniqueConstraint("team_id", "user_id",
                            name=op.f("uq_retail_link_accounts_team_id_user_id")),
    )

    op.create_table(
        "retail_link_sessions",
        *_ids(),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("client_state_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrong_code_count", sa.Integer(), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("end_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending_code', 'signed_in', 'ended')",
                           name=op.f("ck_retail_link_sessions_state")),
        sa.CheckConstraint("state != 'signed_in' OR expires_at IS NOT NULL",
                           name=op.f("ck_retail_link_sessions_signed_in_expires")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retail_link_sessions")),
        sa.UniqueConstraint("team_id", "user_id",
                            name=op.f("uq_retail_link_sessions_team_id_user_id")),
    )
    op.create_index(op.f("ix_retail_link_sessions_state_expires_at"), "retail_link_sessions",
                    ["state", "expires_at"])

    op.create_table(
        "retail_link_operations",
        *_ids(),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retail_link_operations")),
    )
    op.create_index(op.f("ix_retail_link_operations_team_id_user_id_occurred_at"),
                    "retail_link_operations", ["team_id", "user_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_retail_link_operations_team_id_user_id_occurred_at"),
                  table_name="retail_link_operations")
    op.drop_table("retail_link_operations")
    op.drop_index(op.f("ix_retail_link_sessions_state_expires_at"),
                  table_name="retail_link_sessions")
    op.drop_table("retail_link_sessions")
    op.drop_table("retail_link_accounts")
