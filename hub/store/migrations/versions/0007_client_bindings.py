"""clients bound to a connection (issue 6, access control)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("connection_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rate_limit", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_clients_connection_id"), ["connection_id"], unique=False
        )
        # No ON DELETE: a connection with bound clients cannot be deleted (409), since
        # unbinding them silently would widen what their keys can reach.
        batch_op.create_foreign_key(
            batch_op.f("fk_clients_connection_id_connections"),
            "connections",
            ["connection_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_clients_connection_id_connections"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_clients_connection_id"))
        batch_op.drop_column("rate_limit")
        batch_op.drop_column("connection_id")
