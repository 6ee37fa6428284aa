"""Working group operations shared by views, CLI and jobs: the list, creation and changes,
archiving, membership over time (joining, changing role, leaving, rejoining), inviting the
members to the groups' meetings, and the members' attendance over the group's meetings."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from app.attendance.statistics import attendance_across_meetings
from app.contacts import importing
from app.contacts.normalise import FieldError
from app.contacts.services import ContactFilters, contact_list_query
from app.extensions import db
from app.invitations.services import invite_contacts, parse_addresses, send_invitations
from app.models import (
    Attendance,
    Contact,
    ContactImport,
    Group,
    GroupMembership,
    GroupRole,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    User,
    meeting_group,
)
from app.text import fold, matches_folded

STATES = ("active", "archived", "all")
DEFAULT_STATE = "active"
ROLE_LABELS = {
    GroupRole.LEAD: _l("Lead"),
    GroupRole.MEMBER: _l("Member"),
    GroupRole.PERMANENT_GUEST: _l("Permanent guest"),
}


class GroupStateError(Exception):
    """An action the group's state forbids (adding members to an archived group...)."""


@dataclass(frozen=True)
class GroupFilters:
    query: str = ""
    state: str = DEFAULT_STATE

    @property
    def is_filtered(self) -> bool:
        return bool(self.query) or self.state != DEFAULT_STATE


@dataclass
class GroupData:
    name: str
    description: str = ""
    lead_organisation_ids: list[int] = field(default_factory=list)
    organiser_ids: list[int] = field(default_factory=list)


# Reading


def can_manage(user, group: Group) -> bool:
    """Only the group's organisers and administrators may change it."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or any(organiser.id == user.id for organiser in group.organisers)


def group_list_query(filters: GroupFilters) -> Select:
    """Groups matching `filters`, by name, with their lead organisations loaded alongside."""
    statement = select(Group).options(selectinload(Group.lead_organisations))
    if filters.query:
        statement = statement.where(matches_folded(filters.query, Group.search_key))
    if filters.state == "active":
        statement = statement.where(Group.archived_at.is_(None))
    elif filters.state == "archived":
        statement = statement.where(Group.archived_at.is_not(None))
    return statement.order_by(Group.search_key, Group.id)


def is_current_on(on: date):
    """SQL condition: the membership covers the day `on` (its last day is `left_on`)."""
    return and_(
        GroupMembership.joined_on <= on,
        or_(GroupMembership.left_on.is_(None), GroupMembership.left_on >= on),
    )


def member_counts(group_ids: Iterable[int], on: date) -> dict[int, int]:
    """{group id: number of contacts who are members on the day `on`}, in one query."""
    ids = list(group_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(GroupMembership.group_id, func.count(func.distinct(GroupMembership.contact_id)))
        .where(GroupMembership.group_id.in_(ids), is_current_on(on))
        .group_by(GroupMembership.group_id)
    )
    return {group_id: total for group_id, total in rows}


def current_members(group: Group, on: date) -> list[GroupMembership]:
    """The memberships covering the day `on`, one per contact, with contact and organisation,
    ordered by organisation then name (contacts without an organisation last)."""
    memberships = db.session.scalars(_memberships_query(group).where(is_current_on(on)))
    seen: dict[int, GroupMembership] = {}
    for membership in memberships:
        seen.setdefault(membership.contact_id, membership)
    return list(seen.values())


def is_member_on(group: Group, contact: Contact, on: date) -> bool:
    return (
        db.session.scalar(
            select(GroupMembership.id)
            .where(
                GroupMembership.group_id == group.id,
                GroupMembership.contact_id == contact.id,
                is_current_on(on),
            )
            .limit(1)
        )
        is not None
    )


def _memberships_query(group: Group) -> Select:
    return (
        select(GroupMembership)
        .join(GroupMembership.contact)
        .outerjoin(Contact.organisation)
        .where(GroupMembership.group_id == group.id)
        .options(contains_eager(GroupMembership.contact).contains_eager(Contact.organisation))
        .order_by(
            Organisation.name_key.asc().nulls_last(),
            Organisation.id,
            Contact.sort_key,
            Contact.id,
            GroupMembership.joined_on.desc(),
        )
    )


@dataclass
class GroupOverview:
    """What the group page shows, loaded in a fixed number of queries."""

    # [(organisation or None, [open memberships])], by organisation name.
    members_by_organisation: list[tuple[Organisation | None, list[GroupMembership]]]
    member_total: int
    leads: list[GroupMembership]
    # Closed memberships, the latest departure first.
    former: list[GroupMembership]
    upcoming_meetings: list[Meeting]
    past_meetings: list[Meeting]
    attendance: "AttendanceMatrix"


def group_overview(group: Group, now: datetime) -> GroupOverview:
    """Members (open memberships) by organisation, former members, and the group's meetings.

    "Members" here are the open memberships (no departure recorded); `current_members` gives
    who belonged on a given day, for invitations and attendance."""
    memberships = list(db.session.scalars(_memberships_query(group)))
    current = [membership for membership in memberships if membership.left_on is None]
    former = sorted(
        (membership for membership in memberships if membership.left_on is not None),
        key=lambda membership: (membership.left_on, membership.id),
        reverse=True,
    )
    by_organisation = [
        (organisation, list(rows))
        for organisation, rows in groupby(current, key=lambda row: row.contact.organisation)
    ]
    meetings = list(
        db.session.scalars(
            select(Meeting)
            .join(Meeting.groups)
            .where(Group.id == group.id)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    return GroupOverview(
        members_by_organisation=by_organisation,
        member_total=len(current),
        leads=[membership for membership in current if membership.role is GroupRole.LEAD],
        former=former,
        upcoming_meetings=[meeting for meeting in meetings if meeting.ends_at > now],
        past_meetings=[meeting for meeting in reversed(meetings) if meeting.ends_at <= now],
        attendance=attendance_matrix(memberships, meetings, now),
    )


def organisation_options() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name_key)))


def selectable_organisers(group: Group | None = None) -> list[User]:
    """Active accounts, plus the group's current organisers even if their account is closed."""
    accounts = {user.id: user for user in db.session.scalars(select(User).where(User.active))}
    if group is not None:
        accounts.update({user.id: user for user in group.organisers})
    return sorted(accounts.values(), key=lambda user: (user.name.casefold(), user.id))


def open_member_ids(group: Group, contact_ids: Iterable[int]) -> set[int]:
    """Which of these contacts have an open membership of the group."""
    ids = list(contact_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(GroupMembership.contact_id).where(
                GroupMembership.group_id == group.id,
                GroupMembership.contact_id.in_(ids),
                GroupMembership.left_on.is_(None),
            )
        )
    )


# Creating and changing groups


def _check_unique_name(name: str, exclude_id: int | None = None) -> None:
    statement = select(Group.id).where(Group.search_key == fold(name))
    if exclude_id is not None:
        statement = statement.where(Group.id != exclude_id)
    if db.session.scalar(statement.limit(1)) is not None:
        raise FieldError("name", _l("A group with this name already exists."))


def _apply(group: Group, data: GroupData, now: datetime) -> None:
    name = " ".join(data.name.split())
    if not name:
        raise FieldError("name", _l("Please give the group's name."))
    _check_unique_name(name, exclude_id=group.id)
    group.name = name
    group.search_key = fold(name)
    group.description = data.description.strip()
    wanted_organisations = set(data.lead_organisation_ids)
    group.lead_organisations = (
        list(
            db.session.scalars(
                select(Organisation).where(Organisation.id.in_(wanted_organisations))
            )
        )
        if wanted_organisations
        else []
    )
    group.updated_at = now


def _users(ids: Iterable[int]) -> list[User]:
    wanted = set(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(wanted)).order_by(User.id)))


def create_group(author: User, data: GroupData, now: datetime) -> Group:
    """A new active group; its author is always one of its organisers."""
    group = Group(created_at=now, created_by_id=author.id)
    _apply(group, data, now)
    organisers = _users(data.organiser_ids)
    group.organisers = [author, *(user for user in organisers if user.id != author.id)]
    db.session.add(group)
    db.session.flush()
    return group


def update_group(group: Group, data: GroupData, now: datetime) -> Group:
    """Change the group. A group always keeps at least one organiser."""
    organisers = _users(data.organiser_ids)
    if not organisers:
        raise FieldError("organisers", _l("A group needs at least one organiser."))
    _apply(group, data, now)
    group.organisers = organisers
    db.session.flush()
    return group


def archive_group(group: Group, now: datetime) -> None:
    if group.archived_at is None:
        group.archived_at = now
        group.updated_at = now
        db.session.flush()


def unarchive_group(group: Group, now: datetime) -> None:
    if group.archived_at is not None:
        group.archived_at = None
        group.updated_at = now
        db.session.flush()


# Membership over time


def check_open(group: Group) -> None:
    if group.archived_at is not None:
        raise GroupStateError(_l("This group is archived: its members cannot change."))


def add_members(
    group: Group, contact_ids: Iterable[int], role: GroupRole, joined_on: date
) -> tuple[int, int]:
    """Make these contacts members from `joined_on`; returns (added, already members).

    A contact who left before gets a new membership: their former one stays as history. The
    partial unique index settles a race with a colleague adding the same people: the losing
    savepoint is retried, and then finds them already in the group."""
    added_ids, already = join_group(group, contact_ids, role, joined_on)
    return len(added_ids), already


def join_group(
    group: Group, contact_ids: Iterable[int], role: GroupRole, joined_on: date
) -> tuple[list[int], int]:
    """add_members(), returning the ids of the contacts who joined instead of their number."""
    check_open(group)
    wanted = {int(contact_id) for contact_id in contact_ids}
    if not wanted:
        return [], 0
    try:
        with db.session.begin_nested():
            return _add_memberships(group, wanted, role, joined_on)
    except IntegrityError:
        with db.session.begin_nested():
            return _add_memberships(group, wanted, role, joined_on)


def _add_memberships(
    group: Group, wanted: set[int], role: GroupRole, joined_on: date
) -> tuple[list[int], int]:
    already = open_member_ids(group, wanted)
    # Ids of contacts deleted meanwhile are dropped.
    new_ids = db.session.scalars(
        select(Contact.id).where(Contact.id.in_(wanted - already)).order_by(Contact.id)
    ).all()
    db.session.add_all(
        GroupMembership(group_id=group.id, contact_id=contact_id, role=role, joined_on=joined_on)
        for contact_id in new_ids
    )
    db.session.flush()
    return list(new_ids), len(already)


@dataclass(frozen=True)
class PastedMembers:
    """What a paste of e-mail addresses did: who was added, and what could not be."""

    added: int
    already: int
    # Valid addresses of nobody in the directory: reported, never created here.
    unknown: list[str]
    # Entries that are not e-mail addresses.
    invalid: list[str]
    # The contacts who joined, to invite them to the group's upcoming meetings.
    added_ids: list[int] = field(default_factory=list, compare=False)


def add_members_by_email(
    group: Group, text: str, role: GroupRole, joined_on: date
) -> PastedMembers:
    """Add the contacts whose addresses are pasted in `text` (one per line; a spreadsheet
    column or "Name <address>" works too). Unknown addresses are reported, not created."""
    check_open(group)
    known, unknown, invalid = parse_addresses(text)
    added_ids, already = join_group(group, [contact.id for contact in known], role, joined_on)
    return PastedMembers(
        len(added_ids), already, [entry.email for entry in unknown], invalid, added_ids
    )


def matching_contact_ids(filters: ContactFilters) -> list[int]:
    """Every contact the directory search finds, on all its pages: "add all the results"."""
    statement = contact_list_query(filters).with_only_columns(
        Contact.id, maintain_column_froms=True
    )
    return list(db.session.scalars(statement))


@dataclass
class MembersImport:
    """An uploaded contact file seen from a group: the contacts import's preview, who among its
    contacts already belongs to the group, and the stored upload the confirmation will use."""

    preview: importing.ImportPreview
    already_member_ids: set[int]
    pending: ContactImport | None = None
    # After the confirmation: who joined, and how many were members already.
    added_ids: list[int] = field(default_factory=list)
    already: int = 0

    @property
    def can_apply(self) -> bool:
        # Unlike the contacts import, a file of contacts already in the directory as they are
        # is worth confirming: its people join the group.
        return not self.preview.rejected

    @property
    def contact_count(self) -> int:
        return len(self.preview.lines) - len(self.preview.rejected)

    @property
    def joining(self) -> int:
        return self.contact_count - len(self.already_member_ids)


def preview_members_import(group: Group, text: str) -> MembersImport:
    """What importing this file into the group would do; writes nothing."""
    preview = importing.preview_import(text)
    known = [line.contact.id for line in preview.lines if line.contact is not None]
    return MembersImport(preview, open_member_ids(group, known))


def start_members_import(
    group: Group, data: bytes, filename: str, user: User, now: datetime
) -> MembersImport:
    """Preview an uploaded file for the group, and keep it for the confirmation when no line
    is rejected. Raises importing.ImportFileError for a file that cannot be read at all."""
    check_open(group)
    text = importing.decode_upload(data)
    result = preview_members_import(group, text)
    if result.can_apply:
        result.pending = importing.store_upload(text, filename, user, now)
    return result


def confirm_members_import(
    group: Group,
    pending: ContactImport,
    user: User,
    role: GroupRole,
    joined_on: date,
    now: datetime,
) -> MembersImport:
    """Import the stored upload as the contacts import does (checked again against the
    directory as it is now), then make every contact of the file a member; current members
    stay as they are. Nothing is written when a line is now rejected (`preview.applied` stays
    False); the upload is forgotten either way."""
    check_open(group)
    result = preview_members_import(group, pending.content)
    db.session.delete(pending)
    if result.can_apply:
        importing.apply_import(result.preview, user, now)
        contacts = importing.existing_contacts(line.email for line in result.preview.lines)
        contact_ids = [contact.id for contact in contacts.values()]
        result.added_ids, result.already = join_group(group, contact_ids, role, joined_on)
    db.session.flush()
    return result


def change_role(membership: GroupMembership, role: GroupRole) -> None:
    check_open(membership.group)
    if membership.left_on is not None:
        raise GroupStateError(_l("This person has left the group: their role cannot change."))
    membership.role = role
    db.session.flush()


def leave_group(membership: GroupMembership, left_on: date) -> None:
    """Close the membership on `left_on`, its last day; the row stays as history."""
    check_open(membership.group)
    if membership.left_on is not None:
        raise GroupStateError(_l("This person has already left the group."))
    if left_on < membership.joined_on:
        raise FieldError("left_on", _l("The departure cannot be before the day they joined."))
    membership.left_on = left_on
    db.session.flush()


# Inviting the members to the groups' meetings


def current_member_ids(groups: Iterable[Group], on: date) -> set[int]:
    """The contacts who are members of any of these groups on the day `on`."""
    ids = [group.id for group in groups]
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(GroupMembership.contact_id).where(
                GroupMembership.group_id.in_(ids), is_current_on(on)
            )
        )
    )


def invite_group_members(
    meeting: Meeting, user: User | None, on: date, now: datetime
) -> tuple[int, int]:
    """Put the members of the meeting's groups on the day `on` (today, for the organiser's
    click) on its list, once each, through the invitation rules; returns (added, already on
    the list). Former members are not members any more: they are left out."""
    return invite_contacts(meeting, current_member_ids(meeting.groups, on), user, now)


def upcoming_published_meetings(group: Group, now: datetime) -> list[Meeting]:
    """The group's published meetings that have not started yet, the soonest first."""
    return list(
        db.session.scalars(
            select(Meeting)
            .join(meeting_group, meeting_group.c.meeting_id == Meeting.id)
            .where(
                meeting_group.c.group_id == group.id,
                Meeting.status == MeetingStatus.PUBLISHED,
                Meeting.starts_at > now,
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def invite_to_upcoming_meetings(
    group: Group, contact_ids: Iterable[int], joined_on: date, user: User | None, now: datetime
) -> int:
    """Invite people who just joined to the group's upcoming published meetings held from
    the day they joined, and queue their invitation e-mails as the send page does; returns
    how many e-mails were queued. People already on a meeting's list are left as they are:
    their invitation is the organiser's to send."""
    wanted = {int(contact_id) for contact_id in contact_ids}
    if not wanted:
        return 0
    queued = 0
    for meeting in upcoming_published_meetings(group, now):
        if meeting.local_starts_at.date() < joined_on:
            continue
        queued += _invite_and_send(meeting, wanted, user, now)
    return queued


def _invite_and_send(meeting: Meeting, wanted: set[int], user: User | None, now: datetime) -> int:
    already = set(
        db.session.scalars(
            select(Invitation.contact_id).where(
                Invitation.meeting_id == meeting.id, Invitation.contact_id.in_(wanted)
            )
        )
    )
    invite_contacts(meeting, wanted - already, user, now)
    new_invitations = list(
        db.session.scalars(
            select(Invitation).where(
                Invitation.meeting_id == meeting.id,
                Invitation.contact_id.in_(wanted - already),
                Invitation.invited_at.is_(None),
            )
        )
    )
    if not new_invitations:
        return 0
    return send_invitations(meeting, user, now, only=new_invitations)


# The members' attendance over the group's meetings


@dataclass
class MatrixRow:
    contact: Contact
    # One cell per held meeting, in the matrix's order: the attendance, or None where the
    # contact was not a member then, was not invited, or the record says nothing.
    cells: list[Attendance | None]
    current: bool

    @property
    def invited(self) -> int:
        """Meetings they were invited to while a member (and the record says something of)."""
        return sum(1 for cell in self.cells if cell is not None)

    @property
    def present(self) -> int:
        return sum(1 for cell in self.cells if cell is Attendance.PRESENT)

    @property
    def rate(self) -> float | None:
        return self.present / self.invited if self.invited else None


@dataclass
class AttendanceMatrix:
    meetings: list[Meeting]
    rows: list[MatrixRow]


def _member_on(memberships: list[GroupMembership], day: date) -> bool:
    return any(
        membership.joined_on <= day and (membership.left_on is None or membership.left_on >= day)
        for membership in memberships
    )


def attendance_matrix(
    memberships: list[GroupMembership], meetings: list[Meeting], now: datetime
) -> AttendanceMatrix:
    """Members × the group's held meetings (the oldest first), each cell following the one
    attendance rule (app/attendance/status.py), in one query whatever their numbers.

    `memberships` are all of the group's (as group_overview loads them, ordered by
    organisation and name). Rows: current members, and former members who were members on
    the day of at least one held meeting. A cell is blank when the contact was not a member
    on the meeting's local day or was not invited."""
    held = [meeting for meeting in meetings if meeting.status_at(now) is MeetingStatus.HELD]
    held.sort(key=lambda meeting: (meeting.starts_at, meeting.id))
    by_contact: dict[int, list[GroupMembership]] = {}
    for membership in memberships:
        by_contact.setdefault(membership.contact_id, []).append(membership)
    statuses = _attendances(memberships[0].group_id, held) if memberships and held else {}
    days = [meeting.local_starts_at.date() for meeting in held]
    rows = []
    for contact_memberships in by_contact.values():
        member_then = [_member_on(contact_memberships, day) for day in days]
        current = any(membership.left_on is None for membership in contact_memberships)
        if not current and not any(member_then):
            continue
        contact = contact_memberships[0].contact
        cells = [
            statuses.get((contact.id, meeting.id)) if member else None
            for meeting, member in zip(held, member_then, strict=True)
        ]
        rows.append(MatrixRow(contact=contact, cells=cells, current=current))
    return AttendanceMatrix(meetings=held, rows=rows)


def _attendances(group_id: int, meetings: list[Meeting]) -> dict[tuple[int, int], Attendance]:
    """{(contact id, meeting id): attendance} of the group's members at these meetings."""
    members = select(GroupMembership.contact_id).where(GroupMembership.group_id == group_id)
    status = attendance_across_meetings()
    rows = db.session.execute(
        select(Invitation.contact_id, Invitation.meeting_id, status)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .where(
            Invitation.meeting_id.in_([meeting.id for meeting in meetings]),
            Invitation.contact_id.in_(members),
        )
    )
    return {
        (contact_id, meeting_id): attendance
        for contact_id, meeting_id, attendance in rows
        if attendance is not None
    }
