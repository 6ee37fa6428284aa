"""series e-mail text and the invitations an e-mail covers

The organiser's own subject and text of the e-mail inviting to a whole series, and the
invitations an e-mail is about when it covers several dates, so its delivery shows on each.

Revision ID: ef754ae90f1a
Revises: fe2c946350ed
Create Date: 2026-11-24 01:48:47.727021
"""

import sqlalchemy as sa
from alembic import op

revision = 'ef754ae90f1a'
down_revision = 'fe2c946350ed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_message_invitation',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_outbox_message_invitation_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_outbox_message_invitation_message_id_outbox_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'invitation_id', name=op.f('pk_outbox_message_invitation'))
    )
    with op.batch_alter_table('outbox_message_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_invitation_invitation_id'), ['invitation_id'], unique=False)

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('invitation_message', sa.Text(), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_column('invitation_message')
        batch_op.drop_column('invitation_subject')

    with op.batch_alter_table('outbox_message_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_invitation_invitation_id'))

    op.drop_table('outbox_message_invitation')
