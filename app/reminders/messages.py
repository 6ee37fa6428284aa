"""Messages an organiser writes to a segment of a meeting's invitees: who is in each segment,
the checks on the text, the preview, the sending through the outbox and the history."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select

from app.contacts.labels import greeting
from app.extensions import db
from app.invitations.answers import lock_places
from app.invitations.services import (
    PENDING_STATUSES,
    DeliveryProgress,
    answer_links,
    email_locale,
    meeting_reply_to,
    normalised_message,
    paragraphs,
    with_contacts,
)
from app.invitations.tokens import issue_link
from app.mail.outbox import RenderedEmail, header_text, queue_email, render_email
from app.meetings.services import MeetingStateError
from app.models import (
    Answer,
    Contact,
    Invitation,
    Meeting,
    MeetingMessage,
    MeetingStatus,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Segment,
    User,
)

MESSAGE_KIND = "meeting_message"
MAX_SUBJECT_LENGTH = 300
MAX_BODY_LENGTH = 10000

SEGMENT_LABELS = {
    Segment.ALL: _l("Everyone invited"),
    Segment.COMING: _l("Those coming"),
    Segment.NOT_COMING: _l("Those not coming"),
    Segment.NO_ANSWER: _l("Those who have not answered"),
    Segment.WAITING: _l("Those on the waiting list"),
}
_SEGMENT_ANSWERS = {
    Segment.COMING: Answer.COMING,
    Segment.NOT_COMING: Answer.NOT_COMING,
    Segment.NO_ANSWER: Answer.NONE,
    Segment.WAITING: Answer.WAITING,
}


class InvalidMessage(ValueError):
    """The message cannot go out as it is; `problems` maps form field names to messages."""

    def __init__(self, problems: dict[str, str]) -> None:
        # Field names only: the messages are lazy and need a request to pick their language.
        super().__init__(f"invalid message: {', '.join(problems)}")
        self.problems = problems


class AlreadySent(Exception):
    """The same message went to the same segment after the preview it is sent from: a second
    click, or the form sent again from the browser's history. `message_id` is that message."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"already sent as meeting message {message_id}")
        self.message_id = message_id


# Who receives a message


def segment_query(meeting: Meeting, segment: Segment) -> Select:
    """The invitations of `segment`, always among those whose invitation e-mail went out:
    people only on the list have not heard of the meeting yet."""
    statement = select(Invitation).where(
        Invitation.meeting_id == meeting.id, Invitation.invited_at.is_not(None)
    )
    if segment is not Segment.ALL:
        statement = statement.where(Invitation.answer == _SEGMENT_ANSWERS[segment])
    return statement


def segment_counts(meeting: Meeting) -> dict[Segment, int]:
    """How many people each segment reaches: one query."""
    rows = db.session.execute(
        select(Invitation.answer, func.count(Invitation.id))
        .where(Invitation.meeting_id == meeting.id, Invitation.invited_at.is_not(None))
        .group_by(Invitation.answer)
    )
    by_answer = dict(rows.all())
    counts = {segment: by_answer.get(answer, 0) for segment, answer in _SEGMENT_ANSWERS.items()}
    return {Segment.ALL: sum(by_answer.values()), **counts}


def segment_label(segment: Segment) -> str:
    return str(SEGMENT_LABELS[segment])


def check_can_write(meeting: Meeting, now: datetime) -> None:
    """A draft has nobody to write to; a published, held or cancelled meeting may get messages
    (the minutes after the meeting, practical news after a cancellation)."""
    if meeting.status_at(now) is MeetingStatus.DRAFT:
        raise MeetingStateError(
            _l("Publish the meeting and send its invitations before writing to the invitees.")
        )


# The message


@dataclass(frozen=True)
class MessageDraft:
    """A message as typed, cleaned: a subject safe for a header, the text with plain line ends.
    Too long a subject is refused rather than cut, so that nothing goes out unseen."""

    segment: Segment
    subject: str
    body: str

    @classmethod
    def cleaned(cls, segment: Segment, subject: str, body: str) -> "MessageDraft":
        return cls(
            segment=segment,
            subject=header_text(subject, MAX_SUBJECT_LENGTH + 1),
            body=normalised_message(body or ""),
        )

    def problems(self) -> dict[str, str]:
        problems = {}
        if not self.subject:
            problems["subject"] = _l("Please give a subject.")
        elif len(self.subject) > MAX_SUBJECT_LENGTH:
            problems["subject"] = _l(
                "The subject is too long: %(max)s characters at most.", max=MAX_SUBJECT_LENGTH
            )
        if not self.body:
            problems["body"] = _l("Please write a message.")
        elif len(self.body) > MAX_BODY_LENGTH:
            problems["body"] = _l(
                "The message is too long: %(max)s characters at most.", max=MAX_BODY_LENGTH
            )
        return problems

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise InvalidMessage(problems)


def _nobody() -> InvalidMessage:
    return InvalidMessage({"segment": _l("Nobody is in this group: choose another one.")})


def render_meeting_message(
    meeting: Meeting, contact: Contact, draft: MessageDraft, token: str
) -> RenderedEmail:
    """The message as `contact` receives it, with the personal link `token`."""
    locale = email_locale()
    with force_locale(locale):
        hello = greeting(contact)
    return render_email(
        MESSAGE_KIND,
        locale,
        meeting=meeting,
        contact=contact,
        subject=draft.subject,
        greeting=hello,
        message=draft.body,
        paragraphs=paragraphs(draft.body),
        personal_url=answer_links(token)["personal_url"],
    )


def preview_message(
    meeting: Meeting, segment: Segment, subject: str, body: str
) -> tuple[RenderedEmail, int]:
    """(The message as the segment's first person would get it, with a link that leads
    nowhere; the number of recipients). Raises InvalidMessage, also for an empty segment."""
    draft = MessageDraft.cleaned(segment, subject, body)
    draft.check()
    count = segment_counts(meeting)[segment]
    if not count:
        raise _nobody()
    recipients = segment_query(meeting, segment).subquery()
    contact = db.session.scalar(
        select(Contact)
        .join(recipients, recipients.c.contact_id == Contact.id)
        .outerjoin(Contact.organisation)
        .order_by(Organisation.name_key.nulls_last(), Contact.sort_key, Contact.id)
        .limit(1)
    )
    return render_meeting_message(meeting, contact, draft, "preview"), count


def latest_message_id(meeting: Meeting) -> int:
    """The id of the meeting's newest message, 0 without one: a preview remembers it, so that
    sending knows which messages went out after the preview."""
    return db.session.scalar(
        select(func.coalesce(func.max(MeetingMessage.id), 0)).where(
            MeetingMessage.meeting_id == meeting.id
        )
    )


def _same_message_since(meeting: Meeting, draft: MessageDraft, after_id: int) -> int | None:
    return db.session.scalar(
        select(MeetingMessage.id)
        .where(
            MeetingMessage.meeting_id == meeting.id,
            MeetingMessage.id > after_id,
            MeetingMessage.segment == draft.segment,
            MeetingMessage.subject == draft.subject,
            MeetingMessage.body == draft.body,
        )
        .limit(1)
    )


def send_message(
    meeting: Meeting,
    segment: Segment,
    subject: str,
    body: str,
    user: User | None,
    now: datetime,
    *,
    sent_after: int | None = None,
) -> MeetingMessage:
    """Record the message and queue one e-mail per person of the segment, each with a new
    personal link and the meeting's contact as reply-to. Flushes; the caller commits, then
    calls request_delivery().

    `sent_after` is latest_message_id() at the preview: the same message to the same segment
    since then raises AlreadySent. The meeting's lock makes two clicks at the same moment
    wait for each other, so the second one sees the first. Reads do not grow with the
    number of recipients. Raises InvalidMessage, MeetingStateError or AlreadySent."""
    draft = MessageDraft.cleaned(segment, subject, body)
    draft.check()
    check_can_write(meeting, now)
    lock_places(meeting.id)
    if sent_after is not None:
        duplicate = _same_message_since(meeting, draft, sent_after)
        if duplicate is not None:
            raise AlreadySent(duplicate)
    invitations = with_contacts(
        db.session.scalars(segment_query(meeting, segment).with_only_columns(Invitation.id))
    )
    if not invitations:
        raise _nobody()
    message = MeetingMessage(
        meeting_id=meeting.id,
        segment=segment,
        subject=draft.subject,
        body=draft.body,
        recipient_count=len(invitations),
        sent_by_id=user.id if user else None,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    reply_to = meeting_reply_to(meeting)
    for invitation in invitations:
        contact = invitation.contact
        email = queue_email(
            MESSAGE_KIND,
            contact.email,
            render_meeting_message(meeting, contact, draft, issue_link(invitation, now)),
            now,
            to_name=contact.full_name,
            reply_to=reply_to,
            meeting=meeting,
            invitation=invitation,
        )
        email.meeting_message_id = message.id
    db.session.flush()
    return message


# What was sent


def _delivery_counts():
    """(queued, sent, failed) columns summing the joined outbox messages by state."""

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (
        count_where(OutboxMessage.status.in_(PENDING_STATUSES)).label("queued"),
        count_where(OutboxMessage.status == MessageStatus.SENT).label("sent"),
        count_where(OutboxMessage.status == MessageStatus.FAILED).label("failed"),
    )


def message_history_query(meeting: Meeting) -> Select:
    """Rows (message, sender_name, queued, sent, failed) of the meeting's messages, newest
    first; the delivery counts are summed in SQL, one query whatever the number of e-mails."""
    return (
        select(MeetingMessage, User.name.label("sender_name"), *_delivery_counts())
        .outerjoin(User, User.id == MeetingMessage.sent_by_id)
        .outerjoin(OutboxMessage, OutboxMessage.meeting_message_id == MeetingMessage.id)
        .where(MeetingMessage.meeting_id == meeting.id)
        .group_by(MeetingMessage.id, User.id)
        .order_by(MeetingMessage.created_at.desc(), MeetingMessage.id.desc())
    )


def message_history(meeting: Meeting, limit: int | None = None) -> list:
    """The newest `limit` rows of message_history_query (all of them without a limit)."""
    return list(db.session.execute(message_history_query(meeting).limit(limit)).all())


def message_delivery(message: MeetingMessage) -> DeliveryProgress:
    """How many of the message's e-mails are queued, sent and failed: one query."""
    row = db.session.execute(
        select(*_delivery_counts()).where(OutboxMessage.meeting_message_id == message.id)
    ).one()
    return DeliveryProgress(*(int(value) for value in row))


def message_recipients(message: MeetingMessage) -> Select:
    """Rows (name, address, organisation, contact_id, status, error) of the message's e-mails,
    by organisation then name. Names come from the e-mail, so a contact deleted since is
    still listed."""
    return (
        select(
            OutboxMessage.to_name.label("name"),
            OutboxMessage.to_address.label("address"),
            Organisation.name.label("organisation"),
            Contact.id.label("contact_id"),
            OutboxMessage.status.label("status"),
            OutboxMessage.last_error.label("error"),
        )
        .outerjoin(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .outerjoin(Contact, Contact.id == Invitation.contact_id)
        .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
        .where(OutboxMessage.meeting_message_id == message.id)
        .order_by(Organisation.name_key.nulls_last(), Contact.sort_key, OutboxMessage.id)
    )
