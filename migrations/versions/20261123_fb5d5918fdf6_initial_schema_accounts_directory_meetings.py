"""initial schema: accounts, directory, meetings

Revision ID: fb5d5918fdf6
Revises:
Create Date: 2026-11-23 17:17:58.991362
"""

import sqlalchemy as sa
from alembic import op

revision = 'fb5d5918fdf6'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_ip_address'), ['ip_address'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('centre_social', 'etablissement_scolaire', 'ccas', 'caisse_des_ecoles', 'association', 'federation', 'collectivite', 'service_etat', 'autre', name='organisationkind', native_enum=False, length=32), nullable=False),
    sa.Column('town', sa.String(length=120), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('town_key', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name_key', 'town_key', name=op.f('uq_organisation_name_key_town_key'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_town_key'), ['town_key'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('civility', sa.Enum('mme', 'm', name='civility', native_enum=False, length=32), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('function', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('search_key', sa.String(length=700), nullable=False),
    sa.Column('sort_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contact_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_contact_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_contact_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact')),
    sa.UniqueConstraint('email', name=op.f('uq_contact_email'))
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_sort_key'), ['sort_key'], unique=False)

    op.create_table('contact_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contact_import_created_by_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_import'))
    )
    with op.batch_alter_table('contact_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_import_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_import_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'cancelled', 'held', name='meetingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('cancellation_reason', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('venue_name', sa.String(length=200), nullable=False),
    sa.Column('venue_address', sa.String(length=300), nullable=False),
    sa.Column('venue_postcode', sa.String(length=10), nullable=False),
    sa.Column('venue_town', sa.String(length=120), nullable=False),
    sa.Column('venue_access_notes', sa.Text(), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('answer_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_function', sa.String(length=200), nullable=False),
    sa.Column('contact_organisation', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=False),
    sa.Column('search_key', sa.String(length=700), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status <> 'held'", name=op.f('ck_meeting_held_is_derived')),
    sa.CheckConstraint("venue_name <> '' OR venue_address <> '' OR online_url <> ''", name=op.f('ck_meeting_venue_or_link')),
    sa.CheckConstraint('answer_deadline IS NULL OR answer_deadline <= starts_at', name=op.f('ck_meeting_deadline_before_start')),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_meeting_capacity_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meeting_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_meeting_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_status'), ['status'], unique=False)

    op.create_table('meeting_organiser',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_organiser_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_organiser_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'user_id', name=op.f('pk_meeting_organiser'))
    )
    op.create_table('programme_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_programme_item_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_item')),
    sa.UniqueConstraint('meeting_id', 'position', name=op.f('uq_programme_item_meeting_id_position'))
    )


def downgrade():
    op.drop_table('programme_item')
    op.drop_table('meeting_organiser')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_status'))
        batch_op.drop_index(batch_op.f('ix_meeting_starts_at'))

    op.drop_table('meeting')
    with op.batch_alter_table('contact_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_import_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_contact_import_created_at'))

    op.drop_table('contact_import')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_sort_key'))
        batch_op.drop_index(batch_op.f('ix_contact_organisation_id'))

    op.drop_table('contact')
    op.drop_table('user')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_town_key'))
        batch_op.drop_index(batch_op.f('ix_organisation_name_key'))

    op.drop_table('organisation')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_ip_address'))
        batch_op.drop_index(batch_op.f('ix_login_failure_email'))
        batch_op.drop_index(batch_op.f('ix_login_failure_created_at'))

    op.drop_table('login_failure')
