"""invitations, personal links and the outbox

Revision ID: 35cd00a74364
Revises: fb5d5918fdf6
Create Date: 2026-11-23 17:38:13.192252
"""

import sqlalchemy as sa
from alembic import op

revision = '35cd00a74364'
down_revision = 'fb5d5918fdf6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Enum('none', 'coming', 'not_coming', 'waiting', name='answer', native_enum=False, length=32), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_recorded_by_id'], ['user.id'], name=op.f('fk_invitation_answer_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_invitation_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_invitation_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_invitation_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('meeting_id', 'contact_id', name=op.f('uq_invitation_meeting_id_contact_id'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_answer'), ['answer'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_contact_id'), ['contact_id'], unique=False)

    op.create_table('invitation_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_invitation_link_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_link_token_hash'))
    )
    with op.batch_alter_table('invitation_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_link_invitation_id'), ['invitation_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('queued', 'claimed', 'sending', 'sent', 'failed', name='messagestatus', native_enum=False, length=32), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('to_name', sa.String(length=200), nullable=False),
    sa.Column('reply_to_address', sa.String(length=254), nullable=False),
    sa.Column('reply_to_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('calendar', sa.Text(), nullable=True),
    sa.Column('calendar_method', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('claim_token', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_outbox_message_invitation_id_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_outbox_message_meeting_id_meeting'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_message_id'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_claim_token'), ['claim_token'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_message_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_meeting_id'), ['meeting_id'], unique=False)

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('invitation_message', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))



def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('sequence')
        batch_op.drop_column('invitation_message')
        batch_op.drop_column('invitation_subject')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_invitation_id'))
        batch_op.drop_index('ix_outbox_message_due')
        batch_op.drop_index(batch_op.f('ix_outbox_message_created_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_claim_token'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('invitation_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_link_invitation_id'))

    op.drop_table('invitation_link')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_contact_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_answer'))

    op.drop_table('invitation')
