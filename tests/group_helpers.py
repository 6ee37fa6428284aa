"""Working groups for the tests: a factory, and a group filled with many members and meetings
at once (factories commit each row, too slow for hundreds)."""

from datetime import UTC, date, datetime, timedelta

import factory

from app.extensions import db
from app.models import Group, GroupMembership, GroupRole, Meeting, MeetingStatus
from app.text import fold
from tests.directory_helpers import add_contacts
from tests.factories import BaseFactory


class GroupFactory(BaseFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Groupe de travail {n}")
    search_key = factory.LazyAttribute(lambda group: fold(group.name))
    description = "Échanges de pratiques entre coordinatrices."


def add_member(group: Group, contact, joined_on: date, role=GroupRole.MEMBER, left_on=None):
    membership = GroupMembership(
        group=group, contact=contact, role=role, joined_on=joined_on, left_on=left_on
    )
    db.session.add(membership)
    db.session.commit()
    return membership


def filled_group(members: int, meetings: int, start: int = 0) -> Group:
    """A group with `members` current members over several organisations, a few former
    members, and `meetings` meetings, half past and half upcoming."""
    group = GroupFactory()
    contacts = add_contacts(members + 3, organisations=5, start=start)
    for index, contact in enumerate(contacts):
        role = GroupRole.LEAD if index == 0 else GroupRole.MEMBER
        left_on = date(2024, 6, 30) if index >= members else None
        db.session.add(
            GroupMembership(
                group=group,
                contact=contact,
                role=role,
                joined_on=date(2024, 1, 1) + timedelta(days=index % 100),
                left_on=left_on,
            )
        )
    now = datetime.now(UTC).replace(microsecond=0)
    for index in range(meetings):
        starts_at = now + timedelta(days=7 * (index - meetings // 2) + 1)
        meeting = Meeting(
            title=f"Séance {index}",
            status=MeetingStatus.PUBLISHED,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            venue_name="Maison des associations",
        )
        meeting.groups.append(group)
        db.session.add(meeting)
    db.session.commit()
    return group
