"""The attendance record of a meeting: marking people, their times, walk-ins, closing and
reopening the record with its history, and the queries of the record and check-in pages.

When the record can change: from the start of the meeting's local day (midnight in its time
zone) onwards, never for a draft or a cancelled meeting; closing needs the meeting to have
started. A closed record can still be corrected, and every such change is kept in the history.
"""

from dataclasses import dataclass
from datetime import datetime, time
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, exists, func, select, update
from sqlalchemy.orm import contains_eager, joinedload

from app.attendance.status import attendance_column, attendance_of
from app.contacts.normalise import InvalidValue, normalise_email
from app.contacts.services import ContactData, create_contact
from app.extensions import db
from app.meetings.services import MeetingStateError, local_to_utc
from app.models import (
    Answer,
    Attendance,
    AttendanceChange,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    User,
)
from app.organisations.services import OrganisationData, create_organisation
from app.text import fold, matches_folded

ATTENDANCE_LABELS = {
    Attendance.EXPECTED: _l("Expected"),
    Attendance.PRESENT: _l("Present"),
    Attendance.EXCUSED: _l("Excused"),
    Attendance.ABSENT: _l("Absent"),
}
HISTORY_FIELD_LABELS = {
    "attendance": _l("Attendance"),
    "arrived_at": _l("Arrival"),
    "left_at": _l("Departure"),
    "walk_in": _l("Walk-in"),
    "record": _l("Record"),
}
_RECORD_STATES = {"open": _l("open"), "closed": _l("closed")}
# The statuses an organiser may store; EXPECTED is only ever derived from the answer.
MARKABLE = (Attendance.PRESENT, Attendance.EXCUSED, Attendance.ABSENT)
CHECKIN_RESULTS = 20
HISTORY_LENGTH = 50


class InvalidTimes(ValueError):
    """Arrival and departure times that make no sense; str() is the user message."""


# When the record may change


def marking_opens_at(meeting: Meeting) -> datetime:
    """Midnight of the meeting's first day, in its own time zone: people may arrive early,
    and the organiser may open the check-in page before the doors open."""
    return local_to_utc(meeting.local_starts_at.date(), time(0, 0), meeting.timezone)


def check_markable(meeting: Meeting, now: datetime) -> None:
    if meeting.status is MeetingStatus.DRAFT:
        raise MeetingStateError(_l("This meeting is a draft: there is no attendance to record."))
    if meeting.status is MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("This meeting is cancelled: there is no attendance to record."))
    if now < marking_opens_at(meeting):
        raise MeetingStateError(_l("Attendance can be recorded from the day of the meeting."))


def is_markable(meeting: Meeting, now: datetime) -> bool:
    try:
        check_markable(meeting, now)
    except MeetingStateError:
        return False
    return True


# History


def _text(value) -> str:
    if isinstance(value, Attendance):
        return value.value
    return "" if value is None else str(value)


def _local_text(moment: datetime | None, meeting: Meeting) -> str:
    if moment is None:
        return ""
    return moment.astimezone(meeting.zone).strftime("%Y-%m-%d %H:%M")


def _log(
    meeting: Meeting,
    invitation: Invitation | None,
    field: str,
    before,
    after,
    user: User | None,
    now: datetime,
) -> None:
    """Keep a change of a closed record (or the closing and reopening themselves)."""
    if _text(before) == _text(after):
        return
    db.session.add(
        AttendanceChange(
            meeting_id=meeting.id,
            invitation_id=invitation.id if invitation else None,
            user_id=user.id if user else None,
            changed_at=now,
            field=field,
            before=_text(before)[:300],
            after=_text(after)[:300],
        )
    )


def history_value(text: str) -> str:
    """A value of the history as people read it: an attendance or record state's label, a
    local time or a name as stored."""
    for attendance, label in ATTENDANCE_LABELS.items():
        if text == attendance.value:
            return str(label)
    return str(_RECORD_STATES.get(text, text))


def record_history(meeting: Meeting, limit: int = HISTORY_LENGTH) -> list[AttendanceChange]:
    """The latest changes, newest first, with who made them and whom they concern."""
    return list(
        db.session.scalars(
            select(AttendanceChange)
            .where(AttendanceChange.meeting_id == meeting.id)
            .options(
                joinedload(AttendanceChange.user),
                joinedload(AttendanceChange.invitation).joinedload(Invitation.contact),
            )
            .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
            .limit(limit)
        )
    )


# Marking people


def mark(
    invitation: Invitation, attendance: Attendance | None, user: User | None, now: datetime
) -> Attendance | None:
    """Store present, excused or absent; None goes back to the status derived from the answer
    ("undo"). Returns the attendance as the record now says it."""
    meeting = invitation.meeting
    check_markable(meeting, now)
    if attendance is not None and attendance not in MARKABLE:
        raise ValueError(f"{attendance} is derived from the answer, not marked")
    before = attendance_of(invitation, meeting)
    invitation.attendance = attendance
    after = attendance_of(invitation, meeting)
    if meeting.attendance_closed_at is not None:
        _log(meeting, invitation, "attendance", before, after, user, now)
    db.session.flush()
    return after


def set_times(
    invitation: Invitation,
    arrived_at: datetime | None,
    left_at: datetime | None,
    user: User | None,
    now: datetime,
) -> None:
    """Record when the person arrived and left (either may be None: unknown)."""
    meeting = invitation.meeting
    check_markable(meeting, now)
    if arrived_at is not None and left_at is not None and left_at < arrived_at:
        raise InvalidTimes(_l("The departure time is before the arrival time."))
    if meeting.attendance_closed_at is not None:
        for field, value in (("arrived_at", arrived_at), ("left_at", left_at)):
            before = _local_text(getattr(invitation, field), meeting)
            _log(meeting, invitation, field, before, _local_text(value, meeting), user, now)
    invitation.arrived_at = arrived_at
    invitation.left_at = left_at
    db.session.flush()


def check_in(invitation: Invitation, user: User | None, now: datetime) -> None:
    """Present, arrived now (unless an arrival time is already known): the door's one tap."""
    mark(invitation, Attendance.PRESENT, user, now)
    if invitation.arrived_at is None:
        set_times(invitation, now, invitation.left_at, user, now)


def undo_check_in(invitation: Invitation, user: User | None, now: datetime) -> None:
    """Undo a tap at the door: back to the derived status, arrival time cleared; a walk-in
    added by mistake is taken off the list altogether."""
    meeting = invitation.meeting
    check_markable(meeting, now)
    if invitation.walk_in:
        if meeting.attendance_closed_at is not None:
            _log(meeting, None, "walk_in", invitation.contact.full_name, "", user, now)
        db.session.delete(invitation)
        db.session.flush()
        return
    set_times(invitation, None, invitation.left_at, user, now)
    mark(invitation, None, user, now)


def add_walk_in(
    meeting: Meeting,
    person: Contact | ContactData,
    user: User | None,
    now: datetime,
    new_organisation: OrganisationData | None = None,
) -> Invitation:
    """Someone who came without an invitation: a contact of the directory, or a new one created
    on the spot (FieldError when their data is refused), with a new organisation if given (an
    existing one of the same name and town is reused). A new person whose e-mail address is
    already in the directory is that contact; someone already on the list is simply checked
    in: no second invitation."""
    check_markable(meeting, now)
    if isinstance(person, Contact):
        contact = person
    else:
        contact = _contact_for(person, new_organisation, user, now)
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.meeting_id == meeting.id, Invitation.contact_id == contact.id
        )
    )
    if invitation is not None:
        check_in(invitation, user, now)
        return invitation
    invitation = Invitation(
        meeting=meeting,
        contact=contact,
        created_at=now,
        created_by_id=user.id if user else None,
        walk_in=True,
        attendance=Attendance.PRESENT,
        arrived_at=now,
    )
    db.session.add(invitation)
    if meeting.attendance_closed_at is not None:
        _log(meeting, None, "walk_in", "", contact.full_name, user, now)
    db.session.flush()
    return invitation


def _contact_for(
    data: ContactData, new_organisation: OrganisationData | None, user: User | None, now: datetime
) -> Contact:
    """The directory's contact with this e-mail address (people forget they are in it), or
    a new one."""
    try:
        email = normalise_email(data.email)
    except InvalidValue:
        email = None
    existing = db.session.scalar(select(Contact).where(Contact.email == email)) if email else None
    if existing is not None:
        return existing
    if new_organisation is not None:
        data.organisation_id = _organisation_for(new_organisation, now).id
    return create_contact(data, user, now)


def _organisation_for(data: OrganisationData, now: datetime) -> Organisation:
    existing = db.session.scalar(
        select(Organisation)
        .where(Organisation.name_key == fold(data.name), Organisation.town_key == fold(data.town))
        .limit(1)
    )
    return existing or create_organisation(data, now)


# Closing the record


def check_closable(meeting: Meeting, now: datetime) -> None:
    check_markable(meeting, now)
    if meeting.attendance_closed_at is not None:
        raise MeetingStateError(_l("The attendance record is already closed."))
    if now < meeting.starts_at:
        raise MeetingStateError(_l("The record can be closed once the meeting has started."))


def _left_expected(meeting: Meeting):
    """SQL condition: unmarked invitations that closing turns absent (expected, or invited and
    never answered)."""
    return (
        (Invitation.meeting_id == meeting.id)
        & Invitation.attendance.is_(None)
        & (
            (Invitation.answer == Answer.COMING)
            | ((Invitation.answer == Answer.NONE) & Invitation.invited_at.is_not(None))
        )
    )


def count_left_expected(meeting: Meeting) -> int:
    return db.session.scalar(select(func.count(Invitation.id)).where(_left_expected(meeting)))


def close_record(meeting: Meeting, user: User | None, now: datetime) -> int:
    """Close the record: whoever is still expected, or never answered, is stored absent.
    Returns how many people that was."""
    check_closable(meeting, now)
    result = db.session.execute(
        update(Invitation)
        .where(_left_expected(meeting))
        .values(attendance=Attendance.ABSENT)
        .execution_options(synchronize_session="fetch")
    )
    meeting.attendance_closed_at = now
    _log(meeting, None, "record", "open", "closed", user, now)
    db.session.flush()
    return result.rowcount


def reopen_record(meeting: Meeting, user: User | None, now: datetime) -> None:
    """Open a closed record again. The absences stored at closing stay: the meeting is over,
    and the organiser corrects the people concerned one by one."""
    check_markable(meeting, now)
    if meeting.attendance_closed_at is None:
        raise MeetingStateError(_l("The attendance record is not closed."))
    _log(meeting, None, "record", "closed", "open", user, now)
    meeting.attendance_closed_at = None
    db.session.flush()


# Counts and lists


class AttendanceCounts(NamedTuple):
    present: int = 0
    expected: int = 0
    excused: int = 0
    absent: int = 0
    walk_ins: int = 0


def attendance_counts(meeting: Meeting) -> AttendanceCounts:
    """The record's counts in one aggregate query."""
    column = attendance_column(meeting)

    def count(condition):
        return func.count(case((condition, 1)))

    row = db.session.execute(
        select(
            count(column == Attendance.PRESENT),
            count(column == Attendance.EXPECTED),
            count(column == Attendance.EXCUSED),
            count(column == Attendance.ABSENT),
            count(Invitation.walk_in.is_(True)),
        ).where(Invitation.meeting_id == meeting.id)
    ).one()
    return AttendanceCounts(*row)


@dataclass(frozen=True)
class RecordFilters:
    query: str = ""
    attendance: Attendance | None = None
    organisation_id: int | None = None
    walk_ins_only: bool = False

    @property
    def is_filtered(self) -> bool:
        return bool(self.query or self.attendance or self.organisation_id or self.walk_ins_only)


def _rows(meeting: Meeting) -> Select:
    """Rows (Invitation with contact and organisation, status) of the meeting's list."""
    return (
        select(Invitation, attendance_column(meeting).label("status"))
        .join(Invitation.contact)
        .outerjoin(Contact.organisation)
        .options(contains_eager(Invitation.contact).contains_eager(Contact.organisation))
        .where(Invitation.meeting_id == meeting.id)
    )


def _by_organisation_then_name(statement: Select) -> Select:
    return statement.order_by(Organisation.name_key.nulls_last(), Contact.sort_key, Invitation.id)


def _matching(text: str):
    return matches_folded(text, Contact.search_key, Contact.sort_key, Organisation.name_key)


def record_query(meeting: Meeting, filters: RecordFilters) -> Select:
    """The record page's rows, by organisation then name: one query whatever the size."""
    statement = _rows(meeting)
    if filters.query:
        statement = statement.where(_matching(filters.query))
    if filters.attendance is not None:
        statement = statement.where(attendance_column(meeting) == filters.attendance)
    if filters.organisation_id:
        statement = statement.where(Contact.organisation_id == filters.organisation_id)
    if filters.walk_ins_only:
        statement = statement.where(Invitation.walk_in.is_(True))
    return _by_organisation_then_name(statement)


def checkin_search(meeting: Meeting, text: str, limit: int = CHECKIN_RESULTS) -> list:
    """Invitees whose name or organisation contains `text` (accents and case ignored), as
    (Invitation, status) rows; nothing for an empty search."""
    if not fold(text):
        return []
    statement = _by_organisation_then_name(_rows(meeting).where(_matching(text)))
    return list(db.session.execute(statement.limit(limit)).all())


def directory_matches(meeting: Meeting, text: str, limit: int = CHECKIN_RESULTS) -> list[Contact]:
    """Contacts of the directory not on the meeting's list matching `text`: walk-in
    candidates."""
    if not fold(text):
        return []
    invited = exists().where(
        Invitation.meeting_id == meeting.id, Invitation.contact_id == Contact.id
    )
    statement = (
        select(Contact)
        .outerjoin(Contact.organisation)
        .options(contains_eager(Contact.organisation))
        .where(~invited, _matching(text))
        .order_by(Organisation.name_key.nulls_last(), Contact.sort_key, Contact.id)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


# The meeting page's summary


@dataclass(frozen=True)
class AttendanceSummary:
    counts: AttendanceCounts
    closed_at: datetime | None
    # False before the meeting's day: only the expected count means anything yet.
    markable: bool


def attendance_summary(meeting: Meeting, now: datetime) -> AttendanceSummary | None:
    """What the meeting page shows of the record; None for a draft or cancelled meeting."""
    if meeting.status in (MeetingStatus.DRAFT, MeetingStatus.CANCELLED):
        return None
    return AttendanceSummary(
        counts=attendance_counts(meeting),
        closed_at=meeting.attendance_closed_at,
        markable=is_markable(meeting, now),
    )
