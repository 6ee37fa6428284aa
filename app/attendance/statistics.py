"""Attendance statistics: the figures of one meeting (answers, attendance, no-shows, by kind of
organisation) and how often each partner organisation was represented over a period.

Every figure follows the attendance rule of app/attendance/status.py, computed in SQL: each
page runs a fixed number of queries whatever the number of invitations. "Invited" means on the
meeting's list other than as a walk-in, as on the answers page."""

from dataclasses import astuple, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, exists, func, select, true

from app.attendance.services import AttendanceCounts
from app.attendance.status import attendance_column
from app.extensions import db
from app.models import (
    Answer,
    Attendance,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    OrganisationKind,
    User,
    meeting_organiser,
)
from app.text import matches_folded

# Organisation kinds in the order of the directory's choices; contacts without one come last.
KIND_ORDER = {kind: position for position, kind in enumerate(OrganisationKind)}


def _count(condition) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def _invited() -> ColumnElement[bool]:
    return Invitation.walk_in.is_(False)


# One meeting


@dataclass(frozen=True)
class Figures:
    """The counts of one meeting, or of the part of its list from one kind of organisation.
    Present includes the walk-ins; no-shows answered "coming" and were absent."""

    invited: int = 0
    answered: int = 0
    coming: int = 0
    no_shows: int = 0
    present: int = 0
    expected: int = 0
    excused: int = 0
    absent: int = 0
    walk_ins: int = 0

    @property
    def no_show_rate(self) -> float | None:
        """No-shows over those who answered "coming"; None when nobody did."""
        return self.no_shows / self.coming if self.coming else None

    @property
    def attendance(self) -> AttendanceCounts:
        return AttendanceCounts(
            present=self.present,
            expected=self.expected,
            excused=self.excused,
            absent=self.absent,
            walk_ins=self.walk_ins,
        )


def _total(figures: list[Figures]) -> Figures:
    return Figures(*(sum(values) for values in zip(*map(astuple, figures), strict=True)))


class KindFigures(NamedTuple):
    kind: OrganisationKind | None
    figures: Figures


@dataclass(frozen=True)
class MeetingStatistics:
    total: Figures
    # Only the kinds with someone on the list, in the directory's order, "no organisation" last.
    by_kind: list[KindFigures] = field(default_factory=list)
    # While the record is open, people expected are not absent yet: no-shows are provisional.
    record_closed: bool = False


def meeting_statistics(meeting: Meeting) -> MeetingStatistics:
    """The meeting's figures by kind of organisation and in all, from one grouped query."""
    status = attendance_column(meeting)
    invited = _invited()
    coming = invited & (Invitation.answer == Answer.COMING)
    rows = db.session.execute(
        select(
            Organisation.kind,
            _count(invited),
            _count(invited & (Invitation.answer != Answer.NONE)),
            _count(coming),
            _count(coming & (status == Attendance.ABSENT)),
            _count(status == Attendance.PRESENT),
            _count(status == Attendance.EXPECTED),
            _count(status == Attendance.EXCUSED),
            _count(status == Attendance.ABSENT),
            _count(Invitation.walk_in.is_(True)),
        )
        .select_from(Invitation)
        .join(Invitation.contact)
        .outerjoin(Contact.organisation)
        .where(Invitation.meeting_id == meeting.id)
        .group_by(Organisation.kind)
    ).all()
    by_kind = sorted(
        (KindFigures(kind, Figures(*counts)) for kind, *counts in rows),
        key=lambda row: KIND_ORDER.get(row.kind, len(KIND_ORDER)),
    )
    return MeetingStatistics(
        total=_total([row.figures for row in by_kind]),
        by_kind=by_kind,
        record_closed=meeting.attendance_closed_at is not None,
    )


# Organisations over a period


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in the installation's time zone."""

    start: date
    end: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC moments: the start of its first day, the start of the next day
        after its last."""

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)

        return midnight(self.start), midnight(self.end + timedelta(days=1))


def default_period(today: date) -> Period:
    """The last twelve months, today included."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return Period(year_ago, today)


class _RecordState(NamedTuple):
    """What attendance_column() reads of a meeting: whether its record is closed."""

    attendance_closed_at: datetime | None


def attendance_across_meetings() -> ColumnElement:
    """attendance_column() for invitations of several meetings, Meeting being joined: the
    rule for an open or a closed record, chosen by each meeting's own state."""
    open_record = attendance_column(_RecordState(None))
    closed_record = attendance_column(_RecordState(datetime.min.replace(tzinfo=UTC)))
    return case(
        (Meeting.attendance_closed_at.is_(None), open_record),
        else_=closed_record,
    )


def _managed_by(viewer: User) -> ColumnElement[bool]:
    """SQL condition: the meeting is one `viewer` may manage (administrators: all of them),
    as can_manage() says of one meeting."""
    if viewer.is_admin:
        return true()
    return exists().where(
        meeting_organiser.c.meeting_id == Meeting.id, meeting_organiser.c.user_id == viewer.id
    )


def _counted_meetings(viewer: User, period: Period, zone: ZoneInfo, now: datetime):
    """SQL condition on Meeting: published meetings of the period that `viewer` manages and
    that have begun by `now` (a meeting still to come says nothing of who attends)."""
    start, end = period.bounds(zone)
    return (
        (Meeting.status == MeetingStatus.PUBLISHED)
        & (Meeting.starts_at >= start)
        & (Meeting.starts_at < end)
        & (Meeting.starts_at <= now)
        & _managed_by(viewer)
    )


def count_meetings(viewer: User, period: Period, zone: ZoneInfo, now: datetime) -> int:
    """How many meetings the organisation statistics of this period are made of."""
    condition = _counted_meetings(viewer, period, zone, now)
    return db.session.scalar(select(func.count(Meeting.id)).where(condition))


@dataclass(frozen=True)
class OrganisationAttendance:
    organisation: Organisation
    # Meetings one of its contacts was invited to, and those at which one of them was present.
    meetings: int
    attended: int

    @property
    def rate(self) -> float:
        return self.attended / self.meetings


def organisation_attendance_query(
    viewer: User, period: Period, zone: ZoneInfo, now: datetime, search: str = ""
) -> Select:
    """Rows (Organisation, meetings, attended) of the organisations invited to at least one
    counted meeting, by name. A meeting is attended when someone of the organisation was
    present, a colleague who walked in included; meetings it was not invited to are left out,
    so the rate is at most one."""
    status = attendance_across_meetings()
    per_meeting = (
        select(
            Contact.organisation_id,
            func.max(case((_invited(), 1), else_=0)).label("invited"),
            func.max(case((status == Attendance.PRESENT, 1), else_=0)).label("present"),
        )
        .select_from(Invitation)
        .join(Invitation.contact)
        .join(Invitation.meeting)
        .where(
            Contact.organisation_id.is_not(None),
            _counted_meetings(viewer, period, zone, now),
        )
        .group_by(Contact.organisation_id, Invitation.meeting_id)
        .subquery()
    )
    meetings = func.sum(per_meeting.c.invited)
    attended = func.sum(
        case(((per_meeting.c.invited == 1) & (per_meeting.c.present == 1), 1), else_=0)
    )
    statement = (
        select(Organisation, meetings.label("meetings"), attended.label("attended"))
        .join(per_meeting, per_meeting.c.organisation_id == Organisation.id)
        .group_by(Organisation.id)
        .having(meetings > 0)
        .order_by(Organisation.name_key, Organisation.id)
    )
    if search.strip():
        statement = statement.where(matches_folded(search, Organisation.name_key))
    return statement


def organisation_attendance(rows) -> list[OrganisationAttendance]:
    """The rows of organisation_attendance_query() (a page of them) as figures."""
    return [
        OrganisationAttendance(organisation, int(meetings), int(attended))
        for organisation, meetings, attended in rows
    ]
