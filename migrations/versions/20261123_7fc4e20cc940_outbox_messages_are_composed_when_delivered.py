"""outbox messages are composed when delivered

The worker composes each message from its fields when it sends it (0.1 ms a message): the
stored bytes doubled the outbox's size and the reminder job's writes. Queued messages lose
nothing, their fields are all there.

Revision ID: 7fc4e20cc940
Revises: 73041783fd4d
Create Date: 2026-11-23 23:11:13.888807
"""

import sqlalchemy as sa
from alembic import op

revision = '7fc4e20cc940'
down_revision = '73041783fd4d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('mime')


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mime', sa.LargeBinary(), nullable=True))
