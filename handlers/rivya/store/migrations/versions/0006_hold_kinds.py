"""holds.kind: what a hold pays for (generation or chat), indexed with its status, so that the
maintenance sweep finds the pending holds of a kind without reading every hold

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
    # Chat turns' holds were told apart by their reference, a completion id.
    op.execute(
        "UPDATE holds SET kind = CASE WHEN reference LIKE 'chatcmpl-%' THEN 'chat'"
        " ELSE 'generation' END"
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_holds_kind_known"), "kind IN ('generation', 'chat')"
        )
        batch_op.create_index(
            "ix_holds_kind_status_created_at", ["kind", "status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index("ix_holds_kind_status_created_at")
        batch_op.drop_constraint(op.f("ck_holds_kind_known"), type_="check")
        batch_op.drop_column("kind")
