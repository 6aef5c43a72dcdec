"""Generation jobs belong to the account of their task, so that the generation lane caps and
takes turns between accounts as the delivery lane does

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE jobs SET group_key = (SELECT account_id FROM tasks WHERE tasks.id = jobs.ref)"
        " WHERE kind = 'generation'"
    )


def downgrade() -> None:
    op.execute("UPDATE jobs SET group_key = NULL WHERE kind = 'generation'")
