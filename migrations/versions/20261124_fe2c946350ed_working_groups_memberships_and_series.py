"""working groups, memberships, meetings of groups and recurring series

Groups of contacts that meet repeatedly (members over time, lead organisations, organiser
accounts, a calendar feed), the groups of a meeting, and the series of meetings a recurring
rhythm creates.

Revision ID: fe2c946350ed
Revises: 7fc4e20cc940
Create Date: 2026-11-24 00:02:11.727562
"""

import sqlalchemy as sa
from alembic import op

revision = 'fe2c946350ed'
down_revision = '7fc4e20cc940'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('frequency', sa.Enum('weekly', 'monthly_by_weekday', 'monthly_by_day', name='seriesfrequency', native_enum=False, length=32), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('week_of_month', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('occurrences', sa.Integer(), nullable=True),
    sa.Column('starts_at_time', sa.Time(), nullable=False),
    sa.Column('ends_at_time', sa.Time(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(end_date IS NULL) <> (occurrences IS NULL)', name=op.f('ck_series_ends_by_date_or_occurrences')),
    sa.CheckConstraint('occurrences IS NULL OR occurrences > 0', name=op.f('ck_series_occurrences_positive')),
    sa.CheckConstraint('step > 0', name=op.f('ck_series_step_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_series_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series'))
    )
    op.create_table('working_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('search_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feed_token_hash', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_working_group_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_group')),
    sa.UniqueConstraint('feed_token_hash', name=op.f('uq_working_group_feed_token_hash'))
    )
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_group_search_key'), ['search_key'], unique=False)

    op.create_table('group_lead_organisation',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['working_group.id'], name=op.f('fk_group_lead_organisation_group_id_working_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_group_lead_organisation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'organisation_id', name=op.f('pk_group_lead_organisation'))
    )
    op.create_table('group_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'member', 'permanent_guest', name='grouprole', native_enum=False, length=32), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('left_on IS NULL OR left_on >= joined_on', name=op.f('ck_group_membership_left_after_joining')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_group_membership_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['working_group.id'], name=op.f('fk_group_membership_group_id_working_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_membership'))
    )
    with op.batch_alter_table('group_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_membership_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_membership_group_id'), ['group_id'], unique=False)
        batch_op.create_index('uq_group_membership_current', ['group_id', 'contact_id'], unique=True, sqlite_where=sa.text('left_on IS NULL'), postgresql_where=sa.text('left_on IS NULL'))

    op.create_table('group_organiser',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['working_group.id'], name=op.f('fk_group_organiser_group_id_working_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_group_organiser_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_organiser'))
    )
    op.create_table('series_skipped_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_skipped_date_series_id_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_skipped_date')),
    sa.UniqueConstraint('series_id', 'day', name=op.f('uq_series_skipped_date_series_id_day'))
    )
    op.create_table('meeting_group',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['working_group.id'], name=op.f('fk_meeting_group_group_id_working_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_group_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'group_id', name=op.f('pk_meeting_group'))
    )
    with op.batch_alter_table('meeting_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_group_group_id'), ['group_id'], unique=False)

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_meeting_series_id'), ['series_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_meeting_series_id_series'), 'series', ['series_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meeting_series_id_series'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_meeting_series_id'))
        batch_op.drop_column('series_id')

    with op.batch_alter_table('meeting_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_group_group_id'))

    op.drop_table('meeting_group')
    op.drop_table('series_skipped_date')
    op.drop_table('group_organiser')
    with op.batch_alter_table('group_membership', schema=None) as batch_op:
        batch_op.drop_index('uq_group_membership_current', sqlite_where=sa.text('left_on IS NULL'), postgresql_where=sa.text('left_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_group_membership_group_id'))
        batch_op.drop_index(batch_op.f('ix_group_membership_contact_id'))

    op.drop_table('group_membership')
    op.drop_table('group_lead_organisation')
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_group_search_key'))

    op.drop_table('working_group')
    op.drop_table('series')
