"""partial indexes over open deliveries (issue 3: claims that do not grow with history)

A claim looks for the oldest due delivery and checks that no earlier delivery of its
ordering key is still open. Over the full table both walks pass every delivered row
first: a claim cost grew with the number of deliveries ever made (2 ms at 2,500 delivered,
most of the database's CPU per delivery). Partial indexes hold only open rows, so both
look-ups stay as small as the backlog. The index on ``status`` + ``next_attempt_at`` goes:
with it, PostgreSQL read every pending row and sorted them for each claim.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLAIMABLE = "status IN ('pending', 'in_flight')"
_BLOCKING = "status IN ('pending', 'in_flight', 'dead')"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.drop_index("ix_deliveries_key_order")
        batch_op.create_index(
            "ix_deliveries_open_key_order",
            ["route_id", "ordering_key", "id"],
            unique=False,
            postgresql_where=sa.text(_BLOCKING),
            sqlite_where=sa.text(_BLOCKING),
        )
        batch_op.create_index(
            "ix_deliveries_claimable",
            ["id"],
            unique=False,
            postgresql_where=sa.text(_CLAIMABLE),
            sqlite_where=sa.text(_CLAIMABLE),
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_claimable")
        batch_op.drop_index("ix_deliveries_open_key_order")
        batch_op.create_index(
            "ix_deliveries_key_order", ["route_id", "ordering_key", "id"], unique=False
        )
        batch_op.create_index("ix_deliveries_due", ["status", "next_attempt_at"], unique=False)
