"""contract usage (issue 6, usage)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Who produced and consumed which contract version, and when last: flushed from memory
    # every few seconds by each hub process (hub/usage), never written per message.
    op.create_table(
        "contract_usage",
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("first_seen", hub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", hub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "family", "version", "role", "actor_kind", "actor_id", name=op.f("pk_contract_usage")
        ),
    )


def downgrade() -> None:
    op.drop_table("contract_usage")
