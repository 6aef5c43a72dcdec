"""jobs.group_key: whose job it is, for lanes that cap the jobs one group runs at once

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=64), nullable=True))
        # Workers claim per lane, that is per kind.
        batch_op.drop_index("ix_jobs_status_run_at")
        batch_op.create_index(
            "ix_jobs_kind_status_run_at", ["kind", "status", "run_at"], unique=False
        )
    # Webhook deliveries waiting in the queue belong to the account of their delivery.
    op.execute(
        "UPDATE jobs SET group_key = (SELECT account_id FROM webhook_deliveries"
        " WHERE webhook_deliveries.id = jobs.ref) WHERE kind = 'webhook'"
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_kind_status_run_at")
        batch_op.create_index("ix_jobs_status_run_at", ["status", "run_at"], unique=False)
        batch_op.drop_column("group_key")
