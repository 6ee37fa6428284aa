"""Attendance records on invitations and meetings, proxies between invitees, and the history
of changes to closed records

Revision ID: 73041783fd4d
Revises: a4d080961591
Create Date: 2026-11-23 20:34:09.512592
"""

import sqlalchemy as sa
from alembic import op

revision = '73041783fd4d'
down_revision = 'a4d080961591'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('before', sa.String(length=300), nullable=False),
    sa.Column('after', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_attendance_change_invitation_id_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_attendance_change_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_attendance_change_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_change'))
    )
    with op.batch_alter_table('attendance_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_change_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('proxy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('giver_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'refused', 'withdrawn', name='proxystatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('giver_id <> holder_id', name=op.f('ck_proxy_not_to_oneself')),
    sa.ForeignKeyConstraint(['giver_id'], ['invitation.id'], name=op.f('fk_proxy_giver_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['holder_id'], ['invitation.id'], name=op.f('fk_proxy_holder_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_proxy_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_proxy_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy')),
    sa.UniqueConstraint('giver_id', name=op.f('uq_proxy_giver_id'))
    )
    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proxy_meeting_id'), ['meeting_id'], unique=False)

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance', sa.Enum('expected', 'present', 'excused', 'absent', name='attendance', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('walk_in', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitation_replaces_id'), ['replaces_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitation_replaces_id_invitation'), 'invitation', ['replaces_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance_closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('proxies_allowed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('max_proxies_per_holder', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('quorum_numerator', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quorum_denominator', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_meeting_max_proxies_positive'), 'max_proxies_per_holder > 0'
        )
        batch_op.create_check_constraint(
            op.f('ck_meeting_quorum_valid'),
            'quorum_numerator IS NULL OR (quorum_numerator > 0 AND (quorum_denominator IS NULL'
            ' OR quorum_denominator >= quorum_numerator))',
        )


def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_meeting_quorum_valid'), type_='check')
        batch_op.drop_constraint(op.f('ck_meeting_max_proxies_positive'), type_='check')
        batch_op.drop_column('quorum_denominator')
        batch_op.drop_column('quorum_numerator')
        batch_op.drop_column('max_proxies_per_holder')
        batch_op.drop_column('proxies_allowed')
        batch_op.drop_column('attendance_closed_at')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitation_replaces_id_invitation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitation_replaces_id'))
        batch_op.drop_column('replaces_id')
        batch_op.drop_column('walk_in')
        batch_op.drop_column('left_at')
        batch_op.drop_column('arrived_at')
        batch_op.drop_column('attendance')

    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_proxy_holder_id'))

    op.drop_table('proxy')
    with op.batch_alter_table('attendance_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_change_meeting_id'))

    op.drop_table('attendance_change')
