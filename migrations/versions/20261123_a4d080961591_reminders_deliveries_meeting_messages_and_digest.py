"""Reminders and what each invitation received of them, messages to a segment of invitees,
and the organisers' daily digest

Revision ID: a4d080961591
Revises: 8c1ddab47fd1
Create Date: 2026-11-23 20:29:58.495060
"""

import sqlalchemy as sa
from alembic import op

revision = 'a4d080961591'
down_revision = '8c1ddab47fd1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('segment', sa.Enum('all', 'coming', 'not_coming', 'no_answer', 'waiting', name='segment', native_enum=False, length=32), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_message_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_meeting_message_sent_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_message'))
    )
    with op.batch_alter_table('meeting_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_message_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('anchor', sa.Enum('start', 'deadline', name='reminderanchor', native_enum=False, length=32), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.Enum('hours', 'days', 'weeks', name='reminderunit', native_enum=False, length=32), nullable=False),
    sa.Column('audience', sa.Enum('coming', 'unanswered', name='reminderaudience', native_enum=False, length=32), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_reminder_amount_positive')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_reminder_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_send_at'), ['send_at'], unique=False)

    op.create_table('reminder_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'skipped', name='deliverystatus', native_enum=False, length=32), nullable=False),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_reminder_delivery_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_message.id'], name=op.f('fk_reminder_delivery_outbox_message_id_outbox_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminder.id'], name=op.f('fk_reminder_delivery_reminder_id_reminder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_delivery')),
    sa.UniqueConstraint('reminder_id', 'round', 'invitation_id', name=op.f('uq_reminder_delivery_reminder_id_round_invitation_id'))
    )
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_delivery_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_delivery_outbox_message_id'), ['outbox_message_id'], unique=False)

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reminder_message', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('followup_subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('followup_message', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_meeting_message_id'), ['meeting_message_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_meeting_message_id_meeting_message'), 'meeting_message', ['meeting_message_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_digest', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('digest_sent_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('digest_sent_at')
        batch_op.drop_column('wants_digest')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_meeting_message_id_meeting_message'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_meeting_message_id'))
        batch_op.drop_column('meeting_message_id')

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('followup_message')
        batch_op.drop_column('followup_subject')
        batch_op.drop_column('reminder_message')
        batch_op.drop_column('reminder_subject')

    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_outbox_message_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_invitation_id'))
    op.drop_table('reminder_delivery')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_send_at'))
        batch_op.drop_index(batch_op.f('ix_reminder_meeting_id'))

    op.drop_table('reminder')
    with op.batch_alter_table('meeting_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_message_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_message_created_at'))

    op.drop_table('meeting_message')
