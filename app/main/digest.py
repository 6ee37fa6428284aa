"""The organisers' daily digest: once a day from DIGEST_HOUR (local time in TIMEZONE), one
e-mail to each organiser who opted in, listing the answers to their meetings recorded since
the previous digest."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased, contains_eager

from app.extensions import db
from app.invitations.services import ANSWER_LABELS, AnswerCounts, email_locale
from app.mail.outbox import queue_email, render_email
from app.main.services import answer_counts_by_meeting
from app.models import Answer, Contact, Invitation, Meeting, User, meeting_organiser
from app.urls import absolute_url

DIGEST_KIND = "digest"
# The first digest covers the last day; a later one everything since the previous one, but
# no more than a week back (an organiser who opts in again after months gets a week).
FIRST_WINDOW = timedelta(hours=24)
LONGEST_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class NewAnswer:
    invitation: Invitation
    # The organiser who recorded the answer for the invitee (a phone call), if any.
    recorded_by: str


@dataclass(frozen=True)
class MeetingAnswers:
    meeting: Meeting
    answers: list[NewAnswer]
    counts: AnswerCounts
    url: str


@dataclass(frozen=True)
class Recipient:
    user: User
    since: datetime


def start_of_local_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """When the day of `moment`, as lived in `zone`, began (days of a clock change last 23 or
    25 hours)."""
    day = moment.astimezone(zone).date()
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def queue_digests(now: datetime) -> int:
    """Queue today's digest of every organiser who opted in and has not had it today; returns
    how many e-mails were queued.

    Each organiser is claimed by a conditional UPDATE, so workers running at once make one
    digest between them; the claim moves the window on even when there is nothing to send.
    Answers an organiser recorded themselves are left out of their own digest."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    if now.astimezone(zone).hour < current_app.config["DIGEST_HOUR"]:
        return 0
    recipients = _claim_due_recipients(start_of_local_day(now, zone), now)
    if not recipients:
        return 0
    answers = _new_answers(recipients, now)
    counts = answer_counts_by_meeting(
        answer.invitation.meeting_id for user_answers in answers.values() for answer in user_answers
    )
    queued = 0
    for recipient in recipients:
        user_answers = answers.get(recipient.user.id)
        if user_answers:
            _queue_digest(recipient.user, _by_meeting(user_answers, counts), now)
            queued += 1
    db.session.flush()
    return queued


def _claim_due_recipients(day_start: datetime, now: datetime) -> list[Recipient]:
    """The organisers whose digest of today this run makes, each with the start of its window.
    Claimed in the order of their ids, so two workers never wait for each other in a cycle."""
    not_sent_today = or_(User.digest_sent_at.is_(None), User.digest_sent_at < day_start)
    due = db.session.scalars(
        select(User).where(User.active, User.wants_digest, not_sent_today).order_by(User.id)
    ).all()
    recipients = []
    for user in due:
        # Read before the claim: only another claim can change it meanwhile, and that one
        # would make ours fail.
        since = _window_start(user.digest_sent_at, now)
        claim = db.session.execute(
            update(User)
            .where(User.id == user.id, not_sent_today)
            .values(digest_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if claim.rowcount == 1:
            recipients.append(Recipient(user, since))
    return recipients


def _window_start(last_digest: datetime | None, now: datetime) -> datetime:
    if last_digest is None:
        return now - FIRST_WINDOW
    return max(last_digest, now - LONGEST_WINDOW)


def _new_answers(recipients: list[Recipient], now: datetime) -> dict[int, list[NewAnswer]]:
    """Per organiser's id, the answers to their meetings recorded in their window, meeting by
    meeting then in the order they came: one query for every organiser and answer."""
    recorder = aliased(User)
    organiser_id = meeting_organiser.c.user_id
    in_window = or_(
        *(
            and_(organiser_id == recipient.user.id, Invitation.answered_at > recipient.since)
            for recipient in recipients
        )
    )
    rows = db.session.execute(
        select(organiser_id, Invitation, recorder.name)
        .select_from(Invitation)
        .join(meeting_organiser, meeting_organiser.c.meeting_id == Invitation.meeting_id)
        .join(Invitation.meeting)
        .join(Invitation.contact)
        .outerjoin(Contact.organisation)
        .outerjoin(recorder, recorder.id == Invitation.answer_recorded_by_id)
        .options(
            contains_eager(Invitation.meeting),
            contains_eager(Invitation.contact).contains_eager(Contact.organisation),
        )
        .where(
            in_window,
            Invitation.answered_at <= now,
            Invitation.answer != Answer.NONE,
            or_(
                Invitation.answer_recorded_by_id.is_(None),
                Invitation.answer_recorded_by_id != organiser_id,
            ),
        )
        .order_by(Meeting.starts_at, Meeting.id, Invitation.answered_at, Invitation.id)
    )
    answers: dict[int, list[NewAnswer]] = {}
    for user_id, invitation, recorded_by in rows:
        answers.setdefault(user_id, []).append(NewAnswer(invitation, recorded_by or ""))
    return answers


def _by_meeting(answers: list[NewAnswer], counts: dict[int, AnswerCounts]) -> list[MeetingAnswers]:
    grouped: dict[Meeting, list[NewAnswer]] = {}
    for answer in answers:
        grouped.setdefault(answer.invitation.meeting, []).append(answer)
    return [
        MeetingAnswers(
            meeting,
            meeting_answers,
            counts[meeting.id],
            absolute_url("invitations.answers", meeting_id=meeting.id),
        )
        for meeting, meeting_answers in grouped.items()
    ]


def _queue_digest(user: User, meetings: list[MeetingAnswers], now: datetime) -> None:
    email = render_email(
        "digest",
        locale=email_locale(),
        user=user,
        meetings=meetings,
        total=sum(len(item.answers) for item in meetings),
        answer_labels=ANSWER_LABELS,
        dashboard_url=absolute_url("main.index"),
        account_url=absolute_url("auth.account"),
    )
    queue_email(DIGEST_KIND, user.email, email, now, to_name=user.name)
