"""Queueing due reminders into the outbox, exactly once per invitation and round; the reminder
and follow-up e-mails and their texts.

Exactly once rests on two guards. Each reminder is claimed by one conditional UPDATE of its row
(`done_at` from NULL to now, for its current round) before anything is queued: on PostgreSQL a
second worker's UPDATE waits for the first one's transaction, then matches nothing; SQLite lets
one writer at a time run it. Then the unique key (reminder, round, invitation) of the delivery
records is inserted in the same savepoint as the e-mails: a duplicate rolls them back with it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.contacts.labels import greeting
from app.extensions import db
from app.formatting import format_day, format_moment
from app.invitations.answers import waiting_position
from app.invitations.services import (
    answer_links,
    email_locale,
    meeting_reply_to,
    paragraphs,
    preview_contact,
    text_to_store,
)
from app.invitations.tokens import issue_links
from app.mail.outbox import RenderedEmail, outbox_row, queue_emails, render_email
from app.models import (
    Answer,
    DeliveryStatus,
    Invitation,
    Meeting,
    MeetingStatus,
    Reminder,
    ReminderAudience,
    ReminderDelivery,
)
from app.reminders.schedule import is_after_deadline

# The e-mail (and template) of each audience.
REMINDER_KIND = "reminder"
FOLLOWUP_KIND = "followup"
KINDS = {ReminderAudience.COMING: REMINDER_KIND, ReminderAudience.UNANSWERED: FOLLOWUP_KIND}
# Who each audience is, by answer. Those who declined are in none.
AUDIENCE_ANSWERS = {
    ReminderAudience.COMING: (Answer.COMING, Answer.WAITING),
    ReminderAudience.UNANSWERED: (Answer.NONE,),
}


@dataclass(frozen=True)
class QueueReport:
    """What a run did: reminders claimed (queued or skipped), e-mails queued, invitations
    recorded as skipped, and reminders that failed (rolled back, tried again next run)."""

    reminders: int = 0
    queued: int = 0
    skipped: int = 0
    failed: int = 0

    def __add__(self, other: "QueueReport") -> "QueueReport":
        return QueueReport(
            self.reminders + other.reminders,
            self.queued + other.queued,
            self.skipped + other.skipped,
            self.failed + other.failed,
        )


@dataclass(frozen=True)
class DueReminder:
    """A reminder due at some moment, as `flask reminders due` lists it."""

    reminder: Reminder
    meeting: Meeting
    send_at: datetime
    recipients: int
    # Late beyond the grace period: its invitations would be recorded as skipped, not sent.
    late: bool


class _Due(NamedTuple):
    """A due reminder as plain values: read before claiming, they need no query after a
    commit expired the ORM objects."""

    id: int
    round: int
    send_at: datetime
    meeting_id: int
    audience: ReminderAudience


# Who gets a reminder


def _audience_condition(audience) -> ColumnElement[bool]:
    """SQL: the invitation's answer puts it in `audience`, a value or the Reminder column."""
    if isinstance(audience, ReminderAudience):
        return Invitation.answer.in_(AUDIENCE_ANSWERS[audience])
    return or_(
        *(
            and_(audience == value, Invitation.answer.in_(answers))
            for value, answers in AUDIENCE_ANSWERS.items()
        )
    )


def _recipient_condition(reminder_id, round_, meeting_id, send_at, audience) -> ColumnElement:
    """SQL: the invitation gets this round of the reminder. Arguments are values, or the
    Reminder columns to count for many reminders at once.

    Only those whose invitation went out by the reminder's time: someone invited later never
    gets a past reminder. Those already recorded for the round are left out, so a run that
    follows a failed one sends to the others only."""
    recorded = exists().where(
        ReminderDelivery.reminder_id == reminder_id,
        ReminderDelivery.round == round_,
        ReminderDelivery.invitation_id == Invitation.id,
    )
    return and_(
        Invitation.meeting_id == meeting_id,
        Invitation.invited_at.is_not(None),
        Invitation.invited_at <= send_at,
        _audience_condition(audience),
        ~recorded,
    )


def recipient_counts(reminders: list[Reminder]) -> dict[int, int]:
    """Reminder id → how many invitations it would go to now: one query for all of them.
    A reminder without a time (no answer deadline) goes to nobody."""
    ids = [reminder.id for reminder in reminders]
    if not ids:
        return {}
    condition = _recipient_condition(
        Reminder.id, Reminder.round, Reminder.meeting_id, Reminder.send_at, Reminder.audience
    )
    rows = db.session.execute(
        select(Reminder.id, func.count(Invitation.id))
        .join(Invitation, condition)
        .where(Reminder.id.in_(ids))
        .group_by(Reminder.id)
    )
    counts = dict.fromkeys(ids, 0)
    counts.update({reminder_id: count for reminder_id, count in rows})
    return counts


# Which reminders are due


def _due_query(now: datetime):
    """Reminders whose time has come in their current round, of published meetings still to
    start. A reminder whose time had passed when the meeting was published never goes out:
    nobody had been invited then."""
    return (
        select(Reminder)
        .join(Reminder.meeting)
        .where(
            Reminder.done_at.is_(None),
            Reminder.send_at <= now,
            Meeting.status == MeetingStatus.PUBLISHED,
            Meeting.starts_at > now,
            or_(Meeting.published_at.is_(None), Reminder.send_at >= Meeting.published_at),
        )
        .order_by(Reminder.send_at, Reminder.id)
    )


def is_late(send_at: datetime, now: datetime) -> bool:
    """Late beyond the grace period (REMINDER_GRACE_HOURS): a worker that was down skips it."""
    return now - send_at > timedelta(hours=current_app.config["REMINDER_GRACE_HOURS"])


def due_reminders(now: datetime) -> list[DueReminder]:
    """What a run at `now` would do: each due reminder with its meeting, time, recipients and
    whether it is too late to be sent. Two queries."""
    reminders = db.session.scalars(_due_query(now).options(contains_eager(Reminder.meeting))).all()
    counts = recipient_counts(list(reminders))
    return [
        DueReminder(
            reminder=reminder,
            meeting=reminder.meeting,
            send_at=reminder.send_at,
            recipients=counts[reminder.id],
            late=is_late(reminder.send_at, now),
        )
        for reminder in reminders
    ]


# Queueing


def queue_due_reminders(now: datetime, after_each: Callable[[], None] | None = None) -> QueueReport:
    """Queue every reminder due at `now`, each once per invitation and round; those late
    beyond the grace period are recorded as skipped instead.

    Each reminder is done in a savepoint: one that fails (logged, counted in `failed`) is
    rolled back, its claim too, so the next run tries it again, and the others are kept.
    `after_each` is called after each reminder: pass `db.session.commit` to make each one a
    committed unit, so that another worker waits for one reminder at most, not for the
    whole run. Without it, the caller commits everything at the end; except on SQLite, whose
    driver opens no transaction before the first savepoint: releasing that savepoint commits
    it, so there each reminder is committed as it is done either way."""
    report = QueueReport()
    for due in _claimable(now):
        try:
            with db.session.begin_nested():
                outcome = _claim_and_queue(due, now)
        except Exception:
            # The app's logger: it keeps personal links out of the log.
            current_app.logger.exception(
                "Reminder %s could not be queued: it will be tried again.", due.id
            )
            report += QueueReport(failed=1)
            continue
        report += outcome
        if after_each is not None and outcome.reminders:
            after_each()
    return report


def _claimable(now: datetime) -> list[_Due]:
    query = _due_query(now).with_only_columns(
        Reminder.id, Reminder.round, Reminder.send_at, Reminder.meeting_id, Reminder.audience
    )
    return [_Due(*row) for row in db.session.execute(query)]


def _claim(due: _Due, now: datetime) -> bool:
    """Mark the reminder done for its round, if it still is due as read: the first statement
    of the savepoint, so that on SQLite it waits for the write lock before reading anything.
    The reminder's time is part of the condition: a meeting moved meanwhile moved it."""
    claimed = db.session.execute(
        update(Reminder)
        .where(
            Reminder.id == due.id,
            Reminder.round == due.round,
            Reminder.done_at.is_(None),
            Reminder.send_at == due.send_at,
        )
        .values(done_at=now)
        .returning(Reminder.id)
        .execution_options(synchronize_session="fetch")
    )
    return claimed.first() is not None


def _claim_and_queue(due: _Due, now: datetime) -> QueueReport:
    if not _claim(due, now):
        return QueueReport()
    # Checked again after the claim: the meeting may have been cancelled, or have started,
    # since the due reminders were read (a move changes `send_at`, which the claim checks).
    meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.id == due.meeting_id)
        .options(selectinload(Meeting.programme_items))
    )
    if meeting.status is not MeetingStatus.PUBLISHED or meeting.starts_at <= now:
        return QueueReport(reminders=1)
    invitations = _recipients(due)
    # A follow-up that the deadline, moved since, now comes after: nobody could answer.
    answers_closed = due.audience is ReminderAudience.UNANSWERED and is_after_deadline(
        meeting, due.send_at
    )
    if is_late(due.send_at, now) or answers_closed:
        _record(due, [(invitation.id, None) for invitation in invitations], now)
        return QueueReport(reminders=1, skipped=len(invitations))
    _queue_emails(due, meeting, invitations, now)
    return QueueReport(reminders=1, queued=len(invitations))


def _recipients(due: _Due) -> Sequence[Invitation]:
    """The invitations of this round, with their contacts, in one query. Their links are not
    loaded: a new link is only added to them, which loads nothing."""
    condition = _recipient_condition(due.id, due.round, due.meeting_id, due.send_at, due.audience)
    return db.session.scalars(
        select(Invitation)
        .where(condition)
        .options(joinedload(Invitation.contact))
        .order_by(Invitation.id)
    ).all()


def _waiting_positions(meeting_id: int) -> dict[int, int]:
    """Invitation id → place on the meeting's waiting list (1 first), in the order
    promote_waiting gives free places."""
    waiting = db.session.scalars(
        select(Invitation.id)
        .where(Invitation.meeting_id == meeting_id, Invitation.answer == Answer.WAITING)
        .order_by(Invitation.waiting_since, Invitation.id)
    )
    return {invitation_id: place for place, invitation_id in enumerate(waiting, start=1)}


def _queue_emails(
    due: _Due, meeting: Meeting, invitations: Sequence[Invitation], now: datetime
) -> None:
    positions = {}
    if any(invitation.answer is Answer.WAITING for invitation in invitations):
        positions = _waiting_positions(meeting.id)
    kind = KINDS[due.audience]
    reply_to = meeting_reply_to(meeting)
    letters = _Letters(meeting, due.audience)
    tokens = issue_links([invitation.id for invitation in invitations], now)
    rows = []
    with force_locale(email_locale()):
        for invitation, token in zip(invitations, tokens, strict=True):
            contact = invitation.contact
            email = letters.write(invitation, token, positions.get(invitation.id))
            rows.append(
                outbox_row(
                    kind,
                    contact.email,
                    email,
                    now,
                    to_name=contact.full_name,
                    reply_to=reply_to,
                    meeting_id=meeting.id,
                    invitation_id=invitation.id,
                )
            )
    # One statement for the links, one for the e-mails, one to read their ids back.
    ids = queue_emails(rows)
    _record(due, [(row["invitation_id"], ids[row["message_id"]]) for row in rows], now)


def _record(due: _Due, deliveries: list[tuple[int, int | None]], now: datetime) -> None:
    """Record the round for these (invitation id, outbox message id or None when skipped),
    in one statement. The unique key makes a duplicate fail, and the savepoint with it."""
    if not deliveries:
        return
    db.session.execute(
        insert(ReminderDelivery),
        [
            {
                "reminder_id": due.id,
                "round": due.round,
                "invitation_id": invitation_id,
                "status": DeliveryStatus.SKIPPED if message_id is None else DeliveryStatus.QUEUED,
                "outbox_message_id": message_id,
                "created_at": now,
            }
            for invitation_id, message_id in deliveries
        ],
    )


# The texts


def default_reminder_subject(meeting: Meeting) -> str:
    """In the current language: the caller picks the e-mail's (see reminder_text)."""
    return _(
        "Reminder: %(title)s, %(day)s",
        title=meeting.title,
        day=format_day(meeting.starts_at, meeting.zone),
    )


def default_reminder_message(meeting: Meeting) -> str:
    """The opening text only: the details, and a line for those coming or waiting, follow
    from the meeting and the invitee in every e-mail."""
    return _(
        "This is a reminder of the meeting “%(title)s”. You will find the date, the place and "
        "the programme below.",
        title=meeting.title,
    )


def default_followup_subject(meeting: Meeting) -> str:
    return _(
        "Your answer is awaited: %(title)s, %(day)s",
        title=meeting.title,
        day=format_day(meeting.starts_at, meeting.zone),
    )


def default_followup_message(meeting: Meeting) -> str:
    if meeting.answer_deadline is None:
        return _(
            "You are invited to the meeting “%(title)s” and we have not received your answer "
            "yet.\n\nPlease tell us whether you will attend: one click on a button below is "
            "enough.",
            title=meeting.title,
        )
    return _(
        "You are invited to the meeting “%(title)s” and we have not received your answer "
        "yet.\n\nPlease tell us before %(deadline)s whether you will attend: one click on a "
        "button below is enough.",
        title=meeting.title,
        deadline=format_moment(meeting.answer_deadline, meeting.zone),
    )


# (subject column, message column, default subject, default message) of each audience.
_TEXTS = {
    ReminderAudience.COMING: (
        "reminder_subject",
        "reminder_message",
        default_reminder_subject,
        default_reminder_message,
    ),
    ReminderAudience.UNANSWERED: (
        "followup_subject",
        "followup_message",
        default_followup_subject,
        default_followup_message,
    ),
}


def reminder_text(meeting: Meeting, audience: ReminderAudience) -> tuple[str, str]:
    """(subject, opening message) of the reminder (COMING) or the follow-up (UNANSWERED) as
    invitees will read them: the meeting's own text, or the default in the e-mails' language."""
    subject_field, message_field, default_subject, default_message = _TEXTS[audience]
    with force_locale(email_locale()):
        subject = getattr(meeting, subject_field) or default_subject(meeting)
        message = getattr(meeting, message_field) or default_message(meeting)
    return subject, message


def save_reminder_text(
    meeting: Meeting, audience: ReminderAudience, subject: str, message: str
) -> None:
    """Keep the organiser's subject and message of the reminder or the follow-up; the
    default text is stored as empty, so that it keeps following the meeting. The caller
    checks that the meeting may change."""
    subject_field, message_field, default_subject, default_message = _TEXTS[audience]
    subject, message = text_to_store(meeting, subject, message, default_subject, default_message)
    setattr(meeting, subject_field, subject)
    setattr(meeting, message_field, message)
    db.session.flush()


# The e-mails


class _Letters:
    """The reminder or follow-up e-mail of a meeting for many invitees. The templates are
    rendered once (twice with the waiting-list text) with markers where each invitee's
    greeting, waiting position and links go, and the markers are then replaced for each
    invitee: rendering costs 0.5 ms an e-mail, replacing a hundred times less."""

    FIELDS = ("greeting", "position", "personal_url", "yes_url", "no_url")
    # A control character no text typed by an organiser can hold, and that escaping keeps.
    MARKER = "\x1e{}\x1e"

    def __init__(self, meeting: Meeting, audience: ReminderAudience) -> None:
        self.meeting = meeting
        self.audience = audience
        self.subject, self.message = reminder_text(meeting, audience)
        self.rendered: dict[bool, RenderedEmail] = {}

    def _template(self, waiting: bool) -> RenderedEmail:
        if waiting not in self.rendered:
            markers = {name: self.MARKER.format(name) for name in self.FIELDS}
            self.rendered[waiting] = render_email(
                KINDS[self.audience],
                email_locale(),
                meeting=self.meeting,
                subject=self.subject,
                message=self.message,
                paragraphs=paragraphs(self.message),
                waiting=waiting,
                **markers,
            )
        return self.rendered[waiting]

    def write(self, invitation: Invitation, token: str, position: int | None) -> RenderedEmail:
        """The e-mail of `invitation`; `position` on the waiting list if it waits. Called in
        the e-mails' language (force_locale), which the greeting is written in."""
        waiting = self.audience is ReminderAudience.COMING and invitation.answer is Answer.WAITING
        template = self._template(waiting)
        values = {
            "greeting": greeting(invitation.contact),
            "position": str(position),
            **answer_links(token),
        }
        text, html = template.text, template.html
        for name, value in values.items():
            marker = self.MARKER.format(name)
            text = text.replace(marker, value)
            html = html.replace(marker, str(escape(value)))
        return RenderedEmail(template.subject, text, html)


def render_reminder(
    meeting: Meeting,
    invitation: Invitation,
    token: str,
    audience: ReminderAudience,
    *,
    position: int | None = None,
) -> RenderedEmail:
    """The reminder or follow-up e-mail of one invitee, carrying the personal link `token`.
    Someone on the waiting list gets the reminder's waiting-list text, with their `position`
    (looked up when not given). `meeting` is passed apart, as in render_invitation."""
    waiting = audience is ReminderAudience.COMING and invitation.answer is Answer.WAITING
    if waiting and position is None:
        position = waiting_position(invitation)
    with force_locale(email_locale()):
        return _Letters(meeting, audience).write(invitation, token, position)


def preview_reminder(
    meeting: Meeting, audience: ReminderAudience, waiting: bool = False
) -> RenderedEmail:
    """The reminder (COMING; `waiting` for the waiting-list text) or the follow-up as the
    first person on the list (or a sample person) would get it, with a link to nowhere."""
    if audience is ReminderAudience.UNANSWERED:
        answer = Answer.NONE
    else:
        answer = Answer.WAITING if waiting else Answer.COMING
    invitation = Invitation(contact=preview_contact(meeting), answer=answer)
    return render_reminder(
        meeting, invitation, "preview", audience, position=1 if waiting else None
    )
