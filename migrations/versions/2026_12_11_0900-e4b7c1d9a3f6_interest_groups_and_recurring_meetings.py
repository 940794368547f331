"""interest groups, their members and recurring meetings; organisations' network standing

Revision ID: e4b7c1d9a3f6
Revises: d5e8a2b71c04
Create Date: 2026-12-11 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = 'e4b7c1d9a3f6'
down_revision: str | None = 'd5e8a2b71c04'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interest_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'members', name='groupvisibility', native_enum=False, length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('is_sample_data', sa.Boolean(), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_interest_groups_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_groups')),
    sa.UniqueConstraint('slug', name=op.f('uq_interest_groups_slug'))
    )
    with op.batch_alter_table('interest_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interest_groups_team_id'), ['team_id'], unique=False)

    op.create_table('group_meeting_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('starts_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('recurrence', sa.String(length=500), nullable=True),
    sa.Column('mode', sa.Enum('online', 'in_person', 'hybrid', name='sessionmode', native_enum=False, length=32), nullable=False),
    sa.Column('join_url', sa.String(length=500), nullable=True),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('reminder_offsets_minutes', sa.JSON(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='meetingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('previous_series_id', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['interest_groups.id'], name=op.f('fk_group_meeting_series_group_id_interest_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_series_id'], ['group_meeting_series.id'], name=op.f('fk_group_meeting_series_previous_series_id_group_meeting_series'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_meeting_series')),
    sa.UniqueConstraint('uid', name=op.f('uq_group_meeting_series_uid'))
    )
    with op.batch_alter_table('group_meeting_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_meeting_series_group_id'), ['group_id'], unique=False)

    op.create_table('interest_group_facilitators',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['interest_groups.id'], name=op.f('fk_interest_group_facilitators_group_id_interest_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_interest_group_facilitators_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'person_id', name=op.f('pk_interest_group_facilitators'))
    )
    with op.batch_alter_table('interest_group_facilitators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interest_group_facilitators_person_id'), ['person_id'], unique=False)

    op.create_table('interest_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_normalised', sa.String(length=320), nullable=False),
    sa.Column('status', sa.Enum('interested', 'member', 'declined', 'left', name='groupmemberstatus', native_enum=False, length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('left_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('is_sample_data', sa.Boolean(), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['interest_groups.id'], name=op.f('fk_interest_group_members_group_id_interest_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_interest_group_members_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_group_members')),
    sa.UniqueConstraint('group_id', 'email_normalised', name=op.f('uq_interest_group_members_group_id_email_normalised'))
    )
    with op.batch_alter_table('interest_group_members', schema=None) as batch_op:
        batch_op.create_index('ix_interest_group_members_group_status', ['group_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_group_members_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('group_meeting_declines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('recurrence_id', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['interest_group_members.id'], name=op.f('fk_group_meeting_declines_member_id_interest_group_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['group_meeting_series.id'], name=op.f('fk_group_meeting_declines_series_id_group_meeting_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_meeting_declines')),
    sa.UniqueConstraint('series_id', 'recurrence_id', 'member_id', name=op.f('uq_group_meeting_declines_series_id_recurrence_id_member_id'))
    )
    with op.batch_alter_table('group_meeting_declines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_meeting_declines_member_id'), ['member_id'], unique=False)

    op.create_table('group_meeting_guests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('recurrence_id', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_normalised', sa.String(length=320), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['group_meeting_series.id'], name=op.f('fk_group_meeting_guests_series_id_group_meeting_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_meeting_guests')),
    sa.UniqueConstraint('series_id', 'recurrence_id', 'email_normalised', name=op.f('uq_group_meeting_guests_series_id_recurrence_id_email_normalised'))
    )
    op.create_table('group_meeting_occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('recurrence_id', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('starts_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='meetingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('join_url', sa.String(length=500), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=True),
    sa.Column('minutes_documents', sa.JSON(), nullable=True),
    sa.Column('minutes_published_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['group_meeting_series.id'], name=op.f('fk_group_meeting_occurrences_series_id_group_meeting_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_meeting_occurrences')),
    sa.UniqueConstraint('series_id', 'recurrence_id', name=op.f('uq_group_meeting_occurrences_series_id_recurrence_id'))
    )
    op.create_table('group_meeting_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('recurrence_id', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('due_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'skipped', 'cancelled', name='reminderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('processed_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('outbox_email_id', sa.Integer(), nullable=True),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['interest_group_members.id'], name=op.f('fk_group_meeting_reminders_member_id_interest_group_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_email_id'], ['outbox_emails.id'], name=op.f('fk_group_meeting_reminders_outbox_email_id_outbox_emails'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['group_meeting_series.id'], name=op.f('fk_group_meeting_reminders_series_id_group_meeting_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_meeting_reminders')),
    sa.UniqueConstraint('series_id', 'recurrence_id', 'member_id', 'offset_minutes', name=op.f('uq_group_meeting_reminders_series_id_recurrence_id_member_id_offset_minutes'))
    )
    with op.batch_alter_table('group_meeting_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_group_meeting_reminders_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_meeting_reminders_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_member_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_access_tokens_group_member_id'), ['group_member_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_access_tokens_group_member_id_interest_group_members'), 'interest_group_members', ['group_member_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standing', sa.Enum('participant', 'strategic_partner', 'information_service', 'none', name='networkstanding', native_enum=False, length=32), server_default='none', nullable=False))

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_member_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_emails_group_member_id'), ['group_member_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_emails_group_member_id_interest_group_members'), 'interest_group_members', ['group_member_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_emails_group_member_id_interest_group_members'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_emails_group_member_id'))
        batch_op.drop_column('group_member_id')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('standing')

    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_access_tokens_group_member_id_interest_group_members'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_access_tokens_group_member_id'))
        batch_op.drop_column('group_member_id')

    with op.batch_alter_table('group_meeting_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_meeting_reminders_member_id'))
        batch_op.drop_index('ix_group_meeting_reminders_due')

    op.drop_table('group_meeting_reminders')
    op.drop_table('group_meeting_occurrences')
    op.drop_table('group_meeting_guests')
    with op.batch_alter_table('group_meeting_declines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_meeting_declines_member_id'))

    op.drop_table('group_meeting_declines')
    with op.batch_alter_table('interest_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_group_members_organisation_id'))
        batch_op.drop_index('ix_interest_group_members_group_status')

    op.drop_table('interest_group_members')
    with op.batch_alter_table('interest_group_facilitators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_group_facilitators_person_id'))

    op.drop_table('interest_group_facilitators')
    with op.batch_alter_table('group_meeting_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_meeting_series_group_id'))

    op.drop_table('group_meeting_series')
    with op.batch_alter_table('interest_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_groups_team_id'))

    op.drop_table('interest_groups')
