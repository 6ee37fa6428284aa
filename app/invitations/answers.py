"""The invitee's answer: the rules on when and how it is recorded, the capacity and its waiting
list, the confirmation and promotion e-mails, and the data of the personal page."""

import functools
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import joinedload

from app.contacts.labels import greeting
from app.contacts.normalise import FieldError, InvalidValue, normalise_email
from app.contacts.services import ContactData, create_contact
from app.extensions import db
from app.formatting import format_moment
from app.invitations.calendar import meeting_calendar
from app.invitations.tokens import TOKEN_LENGTHS, hash_token, issue_link
from app.mail.outbox import queue_email, render_email
from app.models import (
    Answer,
    Contact,
    Invitation,
    InvitationLink,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    ProgrammeItem,
    User,
)
from app.urls import absolute_url


class AnswerRefused(Exception):
    """The answer cannot be recorded now; str() is the message to show the person."""


class MeetingSnapshot(SimpleNamespace):
    """A meeting's columns as the personal page read them, with the model's own properties."""

    zone = Meeting.zone
    has_venue = Meeting.has_venue
    status_at = Meeting.status_at

    @functools.cached_property
    def programme_items(self) -> list[ProgrammeItem]:
        """Read when first used: the page keeps the part that shows it (see PersonalPage)."""
        return list(
            db.session.scalars(
                select(ProgrammeItem)
                .where(ProgrammeItem.meeting_id == self.id)
                .order_by(ProgrammeItem.position)
            )
        )


class ContactSnapshot(SimpleNamespace):
    """A contact's columns, with the model's full name."""

    full_name = Contact.full_name


class InvitationSnapshot(SimpleNamespace):
    """An invitation's columns, with `.meeting` and `.contact` as snapshots too."""


@dataclass(frozen=True)
class PersonalPage:
    """What the invitee's page shows, read in one statement of plain SQL into snapshots:
    it is the most opened page of the application, and loading ORM objects was most of its
    cost. `meeting_version` holds every column of the meeting and its programme, to tell
    versions apart without reading the programme."""

    invitation: InvitationSnapshot
    status: MeetingStatus
    problem: str | None
    coming_count: int
    waiting_position: int | None
    meeting_version: tuple
    # How many questions the meeting asks (app/questions): a page with questions shows the
    # invitee's own answers, so it is not filled in from a shell.
    question_count: int = 0

    @property
    def meeting(self) -> MeetingSnapshot:
        return self.invitation.meeting

    @property
    def is_full(self) -> bool:
        capacity = self.meeting.capacity
        return capacity is not None and self.coming_count >= capacity


# Serialising the answers of one meeting


def lock_places(meeting_id: int) -> None:
    """Take the meeting's lock before counting its places, so that two people answering at
    the same moment for the last place are served one after the other.

    PostgreSQL: SELECT ... FOR UPDATE locks the meeting's row until the transaction ends; under
    READ COMMITTED every later statement then sees what the previous holder committed.
    SQLite has no row locks: a write that changes nothing takes the database's write lock (the
    driver opens the transaction at the first write, so no older read snapshot is kept), and
    other writers wait on busy_timeout until this transaction ends. Plain SQL, not update():
    the ORM would also bump `updated_at`.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Meeting.id).where(Meeting.id == meeting_id).with_for_update())
    else:
        db.session.execute(
            text("UPDATE meeting SET sequence = sequence WHERE id = :id"), {"id": meeting_id}
        )


# What another transaction may change between reading a row and taking the lock.
_MEETING_RULES = ["status", "capacity", "starts_at", "ends_at", "answer_deadline"]
_INVITATION_STATE = ["answer", "waiting_since"]


def _lock_and_reload(meeting: Meeting, invitation: Invitation | None = None) -> None:
    """Lock, then re-read what a concurrent transaction may have changed before the lock."""
    # Flushed first: the caller's pending changes (a new capacity, say) must not be lost by
    # the reload, and must be counted.
    db.session.flush()
    lock_places(meeting.id)
    db.session.refresh(meeting, _MEETING_RULES)
    if invitation is not None:
        db.session.refresh(invitation, _INVITATION_STATE)


def coming_count(meeting_id: int, excluding: Invitation | None = None) -> int:
    query = select(func.count(Invitation.id)).where(
        Invitation.meeting_id == meeting_id, Invitation.answer == Answer.COMING
    )
    if excluding is not None:
        query = query.where(Invitation.id != excluding.id)
    return db.session.scalar(query)


def _ahead_in_queue(queue, invitation):
    """SQL condition: `queue` (an Invitation entity) waits ahead of `invitation`, or is it."""
    return or_(
        queue.waiting_since < invitation.waiting_since,
        and_(queue.waiting_since == invitation.waiting_since, queue.id <= invitation.id),
    )


def waiting_position(invitation: Invitation) -> int | None:
    """1 for the first person waiting; None when the invitee is not on the waiting list."""
    if invitation.answer is not Answer.WAITING:
        return None
    return db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.meeting_id == invitation.meeting_id,
            Invitation.answer == Answer.WAITING,
            _ahead_in_queue(Invitation, invitation),
        )
    )


def _waiting_ahead(invitation: Invitation) -> int:
    """How many people wait before `invitation`: all who wait, when it does not wait yet."""
    query = select(func.count(Invitation.id)).where(
        Invitation.meeting_id == invitation.meeting_id,
        Invitation.answer == Answer.WAITING,
        Invitation.id != invitation.id,
    )
    if invitation.answer is Answer.WAITING:
        query = query.where(_ahead_in_queue(Invitation, invitation))
    return db.session.scalar(query)


# When an answer may be recorded


def _closed_reason(meeting: Meeting, now: datetime, by_organiser: bool) -> str | None:
    status = meeting.status_at(now)
    if status is MeetingStatus.CANCELLED:
        return _("This meeting is cancelled.")
    if status is MeetingStatus.HELD:
        return _("This meeting has taken place: answers are closed.")
    if by_organiser:
        # Organisers record what people tell them on the phone, late answers included.
        return None
    if status is MeetingStatus.DRAFT:
        return _("This meeting is not open for answers yet.")
    if meeting.starts_at <= now:
        return _("This meeting has started: answers are closed.")
    if meeting.answer_deadline is not None and now > meeting.answer_deadline:
        return _(
            "Answers closed on %(moment)s. To change your answer, please contact the person "
            "in charge of the meeting.",
            moment=format_moment(meeting.answer_deadline, meeting.zone),
        )
    return None


def answer_problem(invitation: Invitation, now: datetime) -> str | None:
    """Why the invitee cannot answer now (cancelled, not yet open, started, past the
    deadline); None when they can."""
    return _closed_reason(invitation.meeting, now, by_organiser=False)


# Recording answers


def _answer_for_coming(invitation: Invitation, meeting: Meeting) -> Answer:
    """COMING when a place is free for this person, else WAITING: nobody overtakes the queue."""
    if invitation.answer is Answer.COMING or meeting.capacity is None:
        return Answer.COMING
    taken = coming_count(meeting.id, excluding=invitation)
    if taken + _waiting_ahead(invitation) < meeting.capacity:
        return Answer.COMING
    return Answer.WAITING


def record_answer(
    invitation: Invitation,
    coming: bool,
    comment: str,
    now: datetime,
    recorded_by: User | None = None,
    email_kind: str = "confirmation",
) -> Answer:
    """Record the invitee's answer (or the one an organiser took for them) and queue the
    confirmation e-mail (or `email_kind`'s, which says as much: the approval of a
    registration); returns COMING, NOT_COMING or WAITING (a full meeting).

    Invitees cannot answer a draft, cancelled, started or held meeting, nor after the answer
    deadline; organisers (`recorded_by`) may record past the deadline, and once the meeting has
    started, but not for a cancelled or held meeting, and the capacity applies to them too.
    Raises AnswerRefused. Flushes; the caller commits, then calls request_delivery().
    """
    meeting = invitation.meeting
    _lock_and_reload(meeting, invitation)
    problem = _closed_reason(meeting, now, by_organiser=recorded_by is not None)
    if problem:
        raise AnswerRefused(problem)
    previous = invitation.answer
    answer = _answer_for_coming(invitation, meeting) if coming else Answer.NOT_COMING
    invitation.answer = answer
    invitation.answered_at = now
    invitation.comment = comment.strip()
    invitation.answer_recorded_by_id = recorded_by.id if recorded_by else None
    waiting = answer is Answer.WAITING
    # Someone already waiting keeps their place in the queue.
    invitation.waiting_since = (invitation.waiting_since or now) if waiting else None
    db.session.flush()
    queue_confirmation(invitation, now, kind=email_kind)
    if meeting.proxies_allowed and answer is not previous:
        # Imported here: the attendance package imports this module.
        from app.attendance.proxies import answer_changed

        answer_changed(invitation, now)
    if previous is Answer.COMING and answer is not Answer.COMING:
        promote_waiting(meeting, now)
    db.session.flush()
    return answer


def leave_waiting_list(invitation: Invitation, now: datetime) -> Answer:
    """The invitee gives up waiting: their answer becomes "not coming", confirmed by e-mail."""
    _lock_and_reload(invitation.meeting, invitation)
    problem = answer_problem(invitation, now)
    if problem:
        raise AnswerRefused(problem)
    if invitation.answer is Answer.COMING:
        raise AnswerRefused(
            _(
                "A place has freed up and you are registered: you are no longer on the waiting "
                "list. If you cannot come, answer “I cannot attend”."
            )
        )
    if invitation.answer is not Answer.WAITING:
        raise AnswerRefused(_("You are not on the waiting list."))
    invitation.answer = Answer.NOT_COMING
    invitation.answered_at = now
    invitation.waiting_since = None
    invitation.answer_recorded_by_id = None
    db.session.flush()
    queue_confirmation(invitation, now, left_waiting_list=True)
    db.session.flush()
    return invitation.answer


def send_substitute(invitation: Invitation, data: ContactData, now: datetime) -> Invitation:
    """The invitee sends a colleague in their place ("je me fais remplacer"): the colleague,
    found in the directory by e-mail or added to it (in the invitee's organisation), gets an
    invitation and a link of their own, and the invitee no longer comes. A place the invitee
    held passes to the colleague; otherwise the colleague's answer follows the capacity, as
    anyone's would. Both are told by e-mail. Raises AnswerRefused, or FieldError for the
    colleague's details."""
    meeting = invitation.meeting
    _lock_and_reload(meeting, invitation)
    problem = answer_problem(invitation, now)
    if problem:
        raise AnswerRefused(problem)
    try:
        address = normalise_email(data.email)
    except InvalidValue as error:
        raise FieldError("email", error.message) from error
    if address == invitation.contact.email:
        raise FieldError("email", _("Give the address of the colleague, not yours."))
    colleague = db.session.scalar(select(Contact).where(Contact.email == address))
    if colleague is None:
        organisation_id = invitation.contact.organisation_id
        colleague = create_contact(replace(data, organisation_id=organisation_id), None, now)
    elif db.session.scalar(
        select(Invitation.id).where(
            Invitation.meeting_id == meeting.id, Invitation.contact_id == colleague.id
        )
    ):
        raise FieldError(
            "email",
            _(
                "%(name)s is already invited: they answer with their own link.",
                name=colleague.full_name,
            ),
        )
    substitute = Invitation(
        meeting=meeting, contact=colleague, invited_at=now, created_at=now, replaces=invitation
    )
    db.session.add(substitute)
    db.session.flush()
    held_a_place = invitation.answer is Answer.COMING
    invitation.answer = Answer.NOT_COMING
    invitation.answered_at = now
    invitation.waiting_since = None
    invitation.answer_recorded_by_id = None
    substitute.answer = Answer.COMING if held_a_place else _answer_for_coming(substitute, meeting)
    substitute.answered_at = now
    substitute.waiting_since = now if substitute.answer is Answer.WAITING else None
    db.session.flush()
    coming = substitute.answer is Answer.COMING
    # Imported here: the attendance package imports this module.
    from app.attendance.checkin import checkin_badge

    queue_personal_email(
        "substitute",
        substitute,
        now,
        calendar_method="REQUEST" if coming else "",
        replaced=invitation.contact,
        position=waiting_position(substitute),
        checkin=checkin_badge(substitute) if coming else None,
    )
    queue_confirmation(invitation, now)
    if meeting.proxies_allowed:
        from app.attendance.proxies import answer_changed

        answer_changed(invitation, now)
    db.session.flush()
    return substitute


def promote_waiting(meeting: Meeting, now: datetime) -> list[Invitation]:
    """Give the free places to the people waiting, first come first served, and e-mail them.

    Nobody is promoted once the meeting has started (they would learn it too late), nor for a
    meeting that is not published. Also called by the organisers' side when the capacity grows.
    """
    _lock_and_reload(meeting)
    if meeting.status is not MeetingStatus.PUBLISHED or meeting.starts_at <= now:
        return []
    query = (
        select(Invitation)
        .where(Invitation.meeting_id == meeting.id, Invitation.answer == Answer.WAITING)
        .order_by(Invitation.waiting_since, Invitation.id)
        .options(joinedload(Invitation.contact))
    )
    if meeting.capacity is not None:
        free = meeting.capacity - coming_count(meeting.id)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for invitation in promoted:
        invitation.answer = Answer.COMING
        invitation.waiting_since = None
    db.session.flush()
    for invitation in promoted:
        queue_promotion(invitation, now)
    db.session.flush()
    return promoted


# E-mails


def queue_personal_email(
    kind: str, invitation: Invitation, now: datetime, calendar_method: str = "", **context
) -> None:
    """Render and queue `kind`'s e-mail for the invitee, with a link of its own (tokens are
    never stored, so each e-mail gets a new one) and the calendar file if asked."""
    meeting, contact = invitation.meeting, invitation.contact
    personal_url = absolute_url("invitations.personal_page", token=issue_link(invitation, now))
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    calendar = None
    with force_locale(locale):
        salutation = greeting(contact)
        if calendar_method:
            calendar = meeting_calendar(
                meeting, calendar_method, attendee=contact, personal_url=personal_url, now=now
            )
    rendered = render_email(
        kind,
        locale,
        invitation=invitation,
        meeting=meeting,
        contact=contact,
        greeting=salutation,
        personal_url=personal_url,
        **context,
    )
    reply_to = (meeting.contact_email, meeting.contact_name) if meeting.contact_email else None
    queue_email(
        kind,
        contact.email,
        rendered,
        now,
        to_name=contact.full_name,
        reply_to=reply_to,
        calendar=calendar,
        calendar_method=calendar_method,
        meeting=meeting,
        invitation=invitation,
    )


def queue_confirmation(
    invitation: Invitation,
    now: datetime,
    *,
    left_waiting_list: bool = False,
    kind: str = "confirmation",
) -> None:
    """The e-mail confirming the answer (`kind`'s template): with the calendar file and the
    check-in code for "coming", the position for the waiting list."""
    # Imported here: the attendance blueprint's package imports the invitations' services.
    from app.attendance.checkin import checkin_badge

    answer = invitation.answer
    queue_personal_email(
        kind,
        invitation,
        now,
        calendar_method="REQUEST" if answer is Answer.COMING else "",
        answer=answer,
        position=waiting_position(invitation),
        left_waiting_list=left_waiting_list,
        checkin=checkin_badge(invitation) if answer is Answer.COMING else None,
    )


def queue_promotion(invitation: Invitation, now: datetime) -> None:
    """The e-mail telling someone who waited that they now have a place, with the calendar."""
    queue_personal_email("promotion", invitation, now, calendar_method="REQUEST")


# The personal page


_INVITATION = Invitation.__table__
_MEETING = Meeting.__table__
_CONTACT = Contact.__table__
_LINK = InvitationLink.__table__
# The tables the page's row holds, in this order, and their snapshots.
_SNAPSHOTS = (
    (InvitationSnapshot, _INVITATION),
    (MeetingSnapshot, _MEETING),
    (ContactSnapshot, _CONTACT),
)


def _programme_version():
    """SQL: the meeting's programme as one string, each item's position, time and text (its
    length first, so that no two programmes give the same string)."""
    item = ProgrammeItem.__table__.c
    entry = (
        cast(item.position, String)
        + " "
        + func.coalesce(cast(item.starts_at, String), "")
        + " "
        + cast(func.length(item.text), String)
        + " "
        + item.text
    )
    # The separator written in the SQL: as a parameter, it would be substituted at each run.
    return (
        select(func.aggregate_strings(entry, literal_column("'/'")))
        .where(item.meeting_id == _INVITATION.c.meeting_id)
        .scalar_subquery()
    )


def _question_count():
    """SQL: how many questions the meeting asks (those not removed)."""
    question = MeetingQuestion.__table__.c
    return (
        select(func.count())
        .where(question.meeting_id == _INVITATION.c.meeting_id, question.removed_at.is_(None))
        .scalar_subquery()
    )


@functools.cache
def _personal_page_query() -> Select:
    """The page's statement, built once: building it costs more than running it. Tables, not
    ORM entities, and one row: the programme is not joined, each item would add a row."""
    invitation, other = _INVITATION.c, _INVITATION.alias("other").c
    coming = (
        select(func.count())
        .where(other.meeting_id == invitation.meeting_id, other.answer == Answer.COMING)
        .scalar_subquery()
    )
    position = (
        select(func.count())
        .where(
            other.meeting_id == invitation.meeting_id,
            other.answer == Answer.WAITING,
            _ahead_in_queue(other, invitation),
        )
        .scalar_subquery()
    )
    return (
        select(
            *(column for _kind, table in _SNAPSHOTS for column in table.c),
            coming,
            # Counted only for someone waiting.
            case((invitation.answer == Answer.WAITING, position)),
            _programme_version(),
            _question_count(),
        )
        .select_from(
            _INVITATION.join(_LINK, _LINK.c.invitation_id == invitation.id)
            .join(_MEETING, _MEETING.c.id == invitation.meeting_id)
            .join(_CONTACT, _CONTACT.c.id == invitation.contact_id)
        )
        .where(_LINK.c.token_hash == bindparam("token_hash"), _LINK.c.revoked_at.is_(None))
    )


def _reading_connection() -> Connection:
    """A connection for one read outside the session's transaction. One statement needs none:
    PostgreSQL then answers without the round trips of BEGIN and ROLLBACK, which cost the page
    more than its query (SQLite's driver begins transactions only to write)."""
    connection = db.engine.connect()
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def _snapshots(row: Row) -> list[SimpleNamespace]:
    """The row's columns as snapshots, table after table, as _personal_page_query selects them."""
    snapshots, start = [], 0
    for kind, table in _SNAPSHOTS:
        names = table.c.keys()
        snapshots.append(kind(**dict(zip(names, row[start : start + len(names)], strict=True))))
        start += len(names)
    return snapshots


def personal_page(token: str, now: datetime) -> PersonalPage | None:
    """The page's data for a live link: the invitation with its meeting and contact, the
    places taken and the waiting position; None for any bad token. Snapshots, to read: an
    answer is recorded on the invitation (invitation_to_answer)."""
    if len(token) not in TOKEN_LENGTHS or not token.isascii():
        return None
    with _reading_connection() as connection:
        row = connection.execute(
            _personal_page_query(), {"token_hash": hash_token(token)}
        ).one_or_none()
    if row is None:
        return None
    invitation, meeting, contact = _snapshots(row)
    invitation.meeting, invitation.contact = meeting, contact
    coming_total, ahead, programme_version, question_count = row[-4:]
    return PersonalPage(
        invitation=invitation,
        status=invitation.meeting.status_at(now),
        problem=answer_problem(invitation, now),
        coming_count=coming_total,
        waiting_position=ahead,
        meeting_version=(tuple(vars(meeting).values()), programme_version),
        question_count=question_count,
    )


def invitation_to_answer(token: str) -> Invitation | None:
    """The invitation of a live link, with what recording an answer reads (its meeting and
    programme, its contact), in one query; None for any bad token."""
    if len(token) not in TOKEN_LENGTHS or not token.isascii():
        return None
    return (
        db.session.scalars(
            select(Invitation)
            .join(InvitationLink)
            .where(
                InvitationLink.token_hash == hash_token(token), InvitationLink.revoked_at.is_(None)
            )
            .options(
                joinedload(Invitation.meeting).joinedload(Meeting.programme_items),
                joinedload(Invitation.contact),
            )
        )
        .unique()
        .one_or_none()
    )
