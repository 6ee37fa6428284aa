"""outbox messages keep their MIME bytes

Composed when a message is queued, so the worker only sends them. Nullable: messages queued
before this revision have none, and are composed when delivered.

Revision ID: 8c1ddab47fd1
Revises: 35cd00a74364
Create Date: 2026-11-23 18:46:29.166114
"""

import sqlalchemy as sa
from alembic import op

revision = '8c1ddab47fd1'
down_revision = '35cd00a74364'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mime', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('mime')
