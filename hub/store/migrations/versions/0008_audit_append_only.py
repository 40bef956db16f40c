"""the audit log is append-only, enforced by the database (issue 6, audit)

Triggers refuse every UPDATE and DELETE on ``audit_log`` (and TRUNCATE on PostgreSQL, which
row triggers do not see), whoever issues it: the hub, a script, a person with ``psql``.
An index on ``action`` serves the audit list's action filter and the policy-load look-up.

On SQLite, a later migration that rebuilds ``audit_log`` (``batch_alter_table`` copies the
table and drops the old one, triggers included) must create these triggers again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = "audit_log is append-only"

_POSTGRESQL_UP = (
    f"""
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
)
_POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_update_or_delete ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
)
_SQLITE_UP = tuple(
    f"""
    CREATE TRIGGER audit_log_no_{operation.lower()} BEFORE {operation} ON audit_log
    BEGIN
        SELECT RAISE(ABORT, '{_MESSAGE}: {operation} refused');
    END
    """
    for operation in ("UPDATE", "DELETE")
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRESQL_UP if postgresql else _SQLITE_UP:
        op.execute(statement)
    op.create_index("ix_audit_log_action", "audit_log", ["action"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRESQL_DOWN if postgresql else _SQLITE_DOWN:
        op.execute(statement)
