"""The organiser's dashboard: their upcoming meetings with answer counts, the reminders going
out soon and the failed e-mails to look at, in a fixed number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.orm import contains_eager, defer, joinedload

from app.extensions import db
from app.invitations.services import AnswerCounts
from app.models import (
    Answer,
    Invitation,
    Meeting,
    MeetingStatus,
    MessageStatus,
    OutboxMessage,
    Reminder,
    User,
    meeting_organiser,
)
from app.registrations.services import awaiting_approval
from app.reminders.sending import recipient_counts

MEETING_LIMIT = 10
FAILED_EMAIL_LIMIT = 10
REMINDER_HORIZON = timedelta(hours=48)


@dataclass(frozen=True)
class UpcomingMeeting:
    meeting: Meeting
    counts: AnswerCounts
    # Registrations from the public page waiting for an organiser's approval.
    awaiting_approval: int = 0


@dataclass(frozen=True)
class UpcomingReminder:
    reminder: Reminder
    recipients: int


@dataclass(frozen=True)
class Dashboard:
    meetings: list[UpcomingMeeting]
    # All the upcoming meetings the user organises, of which `meetings` are the first.
    meeting_total: int
    # Whether the user organises any meeting at all, past or cancelled ones included.
    has_meetings: bool
    reminders: list[UpcomingReminder]
    failed_emails: list[OutboxMessage]
    failed_total: int

    @property
    def more_meetings(self) -> int:
        return self.meeting_total - len(self.meetings)

    @property
    def more_failed_emails(self) -> int:
        return self.failed_total - len(self.failed_emails)


def dashboard(user: User, now: datetime) -> Dashboard:
    """What `user` finds on the home page at `now`. Administrators see every failed e-mail,
    the others those of their own meetings."""
    meetings, meeting_total = _upcoming_meetings(user, now)
    counts = answer_counts_by_meeting(meeting.id for meeting in meetings)
    awaiting = awaiting_approval([meeting.id for meeting in meetings])
    failed_emails, failed_total = _failed_emails(user)
    return Dashboard(
        meetings=[
            UpcomingMeeting(meeting, counts[meeting.id], awaiting.get(meeting.id, 0))
            for meeting in meetings
        ],
        meeting_total=meeting_total,
        has_meetings=bool(meetings) or _organises_any_meeting(user),
        reminders=_upcoming_reminders(user, now),
        failed_emails=failed_emails,
        failed_total=failed_total,
    )


def _organised_by(user: User) -> ColumnElement[bool]:
    """SQL condition: the meeting of the query is one `user` organises."""
    return exists().where(
        meeting_organiser.c.meeting_id == Meeting.id, meeting_organiser.c.user_id == user.id
    )


def answer_counts_by_meeting(meeting_ids: Iterable[int]) -> dict[int, AnswerCounts]:
    """The invitees of each meeting by answer, in one query for all of them; a meeting
    without invitees counts zero everywhere."""
    ids = set(meeting_ids)
    counts = dict.fromkeys(ids, AnswerCounts())
    if not ids:
        return counts

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            Invitation.meeting_id,
            func.count(Invitation.id),
            count_where(Invitation.answer == Answer.COMING),
            count_where(Invitation.answer == Answer.NOT_COMING),
            count_where(Invitation.answer == Answer.NONE),
            count_where(Invitation.answer == Answer.WAITING),
            count_where(Invitation.invited_at.is_(None)),
        )
        .where(Invitation.meeting_id.in_(ids))
        .group_by(Invitation.meeting_id)
    )
    for meeting_id, *values in rows:
        counts[meeting_id] = AnswerCounts(*(int(value) for value in values))
    return counts


def _upcoming_meetings(user: User, now: datetime) -> tuple[list[Meeting], int]:
    """The first meetings to come that the user organises, drafts included, and how many
    there are in all (a window count: the same query)."""
    rows = db.session.execute(
        select(Meeting, func.count().over())
        .where(
            _organised_by(user),
            Meeting.status.in_((MeetingStatus.DRAFT, MeetingStatus.PUBLISHED)),
            Meeting.starts_at > now,
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(MEETING_LIMIT)
    ).all()
    total = rows[0][1] if rows else 0
    return [meeting for meeting, _total in rows], total


def _organises_any_meeting(user: User) -> bool:
    return bool(db.session.scalar(select(exists().where(meeting_organiser.c.user_id == user.id))))


def _upcoming_reminders(user: User, now: datetime) -> list[UpcomingReminder]:
    """The reminders of the user's published meetings still to come that go out within the
    horizon, soonest first, with how many people each will reach."""
    reminders = db.session.scalars(
        select(Reminder)
        .join(Reminder.meeting)
        .options(contains_eager(Reminder.meeting))
        .where(
            _organised_by(user),
            Meeting.status == MeetingStatus.PUBLISHED,
            Meeting.starts_at > now,
            Reminder.done_at.is_(None),
            Reminder.send_at.between(now, now + REMINDER_HORIZON),
        )
        .order_by(Reminder.send_at, Reminder.id)
    ).all()
    recipients = recipient_counts(list(reminders))
    return [UpcomingReminder(reminder, recipients.get(reminder.id, 0)) for reminder in reminders]


def _failed_emails(user: User) -> tuple[list[OutboxMessage], int]:
    """The newest failed e-mails the user should look at, with their meeting, and how many
    there are in all. Their bodies are not loaded (a window count gives the total)."""
    query = (
        select(OutboxMessage, func.count().over())
        .options(
            defer(OutboxMessage.text_body, raiseload=True),
            defer(OutboxMessage.html_body, raiseload=True),
            defer(OutboxMessage.calendar, raiseload=True),
            joinedload(OutboxMessage.meeting),
        )
        .where(OutboxMessage.status == MessageStatus.FAILED)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(FAILED_EMAIL_LIMIT)
    )
    if not user.is_admin:
        own_meetings = select(meeting_organiser.c.meeting_id).where(
            meeting_organiser.c.user_id == user.id
        )
        query = query.where(OutboxMessage.meeting_id.in_(own_meetings))
    rows = db.session.execute(query).all()
    total = rows[0][1] if rows else 0
    return [message for message, _total in rows], total
