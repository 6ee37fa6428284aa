"""open meetings: visibility and public address, registrations, questions, site settings

A meeting is invitation-only or open, with a stable public address and optional moderation;
registrations typed in the public form wait in their own table until confirmed; questions per
meeting and the answers to them; contacts and organisations created by self-registration are
marked; one row of settings an administrator edits (consent sentence, sites that may frame
the agenda).

Revision ID: f864f99f3715
Revises: ef754ae90f1a
Create Date: 2026-11-24 01:49:39.069207
"""

import sqlalchemy as sa
from alembic import op

revision = 'f864f99f3715'
down_revision = 'ef754ae90f1a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_name', sa.String(length=200), nullable=False),
    sa.Column('registration_consent', sa.Text(), nullable=False),
    sa.Column('embed_origins', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_settings'))
    )
    op.create_table('meeting_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('short_text', 'long_text', 'single_choice', 'multiple_choice', 'yes_no', name='questionkind', native_enum=False, length=32), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('help_text', sa.Text(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_question_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_question'))
    )
    with op.batch_alter_table('meeting_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_question_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('question_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_question_answer_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['meeting_question.id'], name=op.f('fk_question_answer_question_id_meeting_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_answer')),
    sa.UniqueConstraint('question_id', 'invitation_id', name=op.f('uq_question_answer_question_id_invitation_id'))
    )
    with op.batch_alter_table('question_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_answer_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_answer_question_id'), ['question_id'], unique=False)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('unconfirmed', 'awaiting_approval', 'accepted', 'refused', 'expired', name='registrationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('civility', sa.Enum('mme', 'm', name='civility', native_enum=False, length=32), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('function', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_registration_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_registration_invitation_id_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_registration_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_registration_organisation_id_organisation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_registration_token_hash'))
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_status'), ['status'], unique=False)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_registered', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.Enum('invitation_only', 'open', name='meetingvisibility', native_enum=False, length=32), nullable=False, server_default='invitation_only'))
        batch_op.add_column(sa.Column('slug', sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column('registrations_moderated', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint(batch_op.f('uq_meeting_slug'), ['slug'])

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_review', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_organisation_pending_review'), ['pending_review'], unique=False)



def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_pending_review'))
        batch_op.drop_column('pending_review')

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_meeting_slug'), type_='unique')
        batch_op.drop_column('registrations_moderated')
        batch_op.drop_column('slug')
        batch_op.drop_column('visibility')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('self_registered')

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_status'))
        batch_op.drop_index(batch_op.f('ix_registration_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_registration_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_registration_expires_at'))
        batch_op.drop_index(batch_op.f('ix_registration_email'))

    op.drop_table('registration')
    with op.batch_alter_table('question_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_answer_question_id'))
        batch_op.drop_index(batch_op.f('ix_question_answer_invitation_id'))

    op.drop_table('question_answer')
    with op.batch_alter_table('meeting_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_question_meeting_id'))

    op.drop_table('meeting_question')
    op.drop_table('site_settings')
