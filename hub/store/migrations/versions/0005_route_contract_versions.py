"""route version pins (issue 6, version conversion)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Routes pin the contract version their target understands, per family (JSON object).
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_versions", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.drop_column("contract_versions")
