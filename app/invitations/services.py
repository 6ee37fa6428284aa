"""The organisers' side of invitations: choosing invitees, the invitation e-mail, sending and
resending it, following deliveries and answers, and telling invitees about changes."""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, and_, case, exists, func, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from app.contacts.importing import protect_cell
from app.contacts.labels import civility_label, greeting
from app.contacts.normalise import FieldError, InvalidValue, normalise_email
from app.contacts.services import ContactData, ContactFilters, contact_list_query, create_contact
from app.extensions import db
from app.formatting import format_day, spreadsheet_moment
from app.invitations.calendar import meeting_calendar
from app.invitations.public_forms import COMING, NOT_COMING
from app.invitations.tokens import issue_link, revoke_links
from app.mail.outbox import RenderedEmail, header_text, queue_email, render_email
from app.meetings.services import PLACE_FIELDS, TIME_FIELDS, MeetingStateError
from app.models import (
    Answer,
    Civility,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    MessageStatus,
    Organisation,
    OutboxMessage,
    OutboxMessageInvitation,
    Registration,
    User,
)
from app.questions import services as question_services
from app.text import matches_folded
from app.urls import absolute_url

# The e-mails this module sends; their latest status is the one organisers follow.
INVITATION_KIND = "invitation"
UPDATE_KIND = "meeting_update"
CANCELLATION_KIND = "meeting_cancelled"
ORGANISER_KINDS = (INVITATION_KIND, UPDATE_KIND, CANCELLATION_KIND)
# A worker may hold a message between the queue and the SMTP server: still on its way.
PENDING_STATUSES = (MessageStatus.QUEUED, MessageStatus.CLAIMED, MessageStatus.SENDING)

ANSWER_LABELS = {
    Answer.NONE: _l("No answer"),
    Answer.COMING: _l("Coming"),
    Answer.NOT_COMING: _l("Not coming"),
    Answer.WAITING: _l("Waiting list"),
}
EMAIL_STATE_LABELS = {
    "not_sent": _l("Not sent yet"),
    # On the list without an invitation e-mail: they signed up on the meeting's public page,
    # or came in someone's place.
    "registered": _l("Registered on the public page"),
    "no_email": _l("No invitation e-mail"),
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


def email_state(status: MessageStatus | None) -> str:
    """What organisers see of a message: not sent yet (no message), queued (a message a
    worker has claimed or is sending is still queued), sent or failed."""
    if status is None:
        return "not_sent"
    if status is MessageStatus.SENT:
        return "sent"
    if status is MessageStatus.FAILED:
        return "failed"
    return "queued"


def invitation_email_state(
    invitation: Invitation, status: MessageStatus | None, registered: bool
) -> str:
    """The e-mail state of an invitee on the answer list: not sent yet, the state of their
    latest invitation e-mail, or how they came without one (`registered`: on the public page)."""
    if invitation.invited_at is None:
        return "not_sent"
    if status is None:
        return "registered" if registered else "no_email"
    return email_state(status)


def email_locale() -> str:
    """Contacts have no language of their own: e-mails speak the installation's language."""
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# Meeting states


def check_can_send(meeting: Meeting, now: datetime) -> None:
    """Invitations go out only for a published meeting still to come."""
    status = meeting.status_at(now)
    if status is MeetingStatus.DRAFT:
        raise MeetingStateError(_l("Publish the meeting before sending invitations."))
    if status is MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("This meeting is cancelled: no invitation can be sent."))
    if status is MeetingStatus.HELD:
        raise MeetingStateError(_l("This meeting has taken place: no invitation can be sent."))


def check_list_changeable(meeting: Meeting) -> None:
    """The list of invitees can be prepared on a draft, but a cancelled meeting is closed."""
    if meeting.status is MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("This meeting is cancelled: its invitees cannot change."))


# Choosing invitees from the directory


def invitable_contacts_query(meeting: Meeting, filters: ContactFilters) -> Select:
    """Rows (Contact with its organisation, invited) of the directory matching `filters`;
    `invited` says whether the contact is already on the meeting's list."""
    invited = exists().where(
        Invitation.meeting_id == meeting.id, Invitation.contact_id == Contact.id
    )
    return contact_list_query(filters).add_columns(invited.label("invited"))


def invite_contacts(
    meeting: Meeting, contact_ids, user: User | None, now: datetime
) -> tuple[int, int]:
    """Put these contacts on the meeting's list; returns (added, already on the list).

    Never a duplicate: existing invitations are skipped, and the unique constraint settles a
    race with a colleague adding the same people at the same moment (the losing savepoint is
    retried, and then finds them on the list)."""
    check_list_changeable(meeting)
    wanted = {int(contact_id) for contact_id in contact_ids}
    if not wanted:
        return 0, 0
    try:
        with db.session.begin_nested():
            return _add_invitations(meeting, wanted, user, now)
    except IntegrityError:
        with db.session.begin_nested():
            return _add_invitations(meeting, wanted, user, now)


def _add_invitations(
    meeting: Meeting, wanted: set[int], user: User | None, now: datetime
) -> tuple[int, int]:
    already = set(
        db.session.scalars(
            select(Invitation.contact_id).where(
                Invitation.meeting_id == meeting.id, Invitation.contact_id.in_(wanted)
            )
        )
    )
    # Ids of contacts deleted meanwhile are dropped, not turned into broken invitations.
    new_ids = db.session.scalars(
        select(Contact.id).where(Contact.id.in_(wanted - already)).order_by(Contact.id)
    ).all()
    db.session.add_all(
        Invitation(
            meeting_id=meeting.id,
            contact_id=contact_id,
            created_at=now,
            created_by_id=user.id if user else None,
        )
        for contact_id in new_ids
    )
    db.session.flush()
    return len(new_ids), len(already)


def invite_all_matching(
    meeting: Meeting, filters: ContactFilters, user: User | None, now: datetime
) -> tuple[int, int]:
    """ "Select all results": every contact matching the search, on every page."""
    contact_ids = db.session.scalars(
        contact_list_query(filters).with_only_columns(Contact.id).order_by(None)
    ).all()
    return invite_contacts(meeting, contact_ids, user, now)


def remove_invitation(invitation: Invitation) -> None:
    """Take someone off the list; only before their invitation was sent, as afterwards they
    hold a link and may already have answered."""
    if invitation.invited_at is not None:
        raise MeetingStateError(
            _l("This person has already received the invitation: it cannot be withdrawn.")
        )
    db.session.delete(invitation)
    db.session.flush()


# Pasted e-mail addresses

# "Name <address>", the name running back to the previous line, semicolon or address.
_BRACKETED = re.compile(r"(?P<name>[^<>;\n]*)<(?P<address>[^<>]*)>")
_SEPARATORS = re.compile(r"[\s,;]+")
_NAME_PUNCTUATION = "\"' ,;:()<>"
_CIVILITIES = {"mme", "m", "mlle", "madame", "monsieur", "mademoiselle", "mr", "mrs", "ms"}


@dataclass(frozen=True)
class NewAddress:
    """An address that is not in the directory, with a guess at the person's name."""

    email: str
    first_name: str = ""
    last_name: str = ""


class ParsedAddresses(NamedTuple):
    """Pasted addresses sorted out, each list in the order of the text."""

    known: list[Contact]
    unknown: list[NewAddress]
    invalid: list[str]


def _split_name_segment(segment: str) -> tuple[str, str]:
    """(plain addresses before the name, the name) of the text before a "<address>": in
    "a@b.fr, Hélène Dupont" the first part is an address of its own."""
    last_at = segment.rfind("@")
    if last_at < 0:
        return "", segment
    end = _SEPARATORS.search(segment, last_at)
    if end is None:
        return segment, ""
    return segment[: end.start()], segment[end.end() :]


def _plain_entries(text: str) -> list[tuple[str, str]]:
    return [(word, "") for word in _SEPARATORS.split(text) if word]


def _line_entries(line: str) -> list[tuple[str, str]]:
    """(address as typed, display name) pairs of one line, in order."""
    entries: list[tuple[str, str]] = []
    position = 0
    for match in _BRACKETED.finditer(line):
        before, name = _split_name_segment(match["name"])
        entries += _plain_entries(line[position : match.start()] + " " + before)
        entries.append((match["address"], name.strip(_NAME_PUNCTUATION)))
        position = match.end()
    entries += _plain_entries(line[position:])
    entries = [(address.strip(_NAME_PUNCTUATION), name) for address, name in entries]
    # A spreadsheet row pasted whole ("Hélène<tab>Dupont<tab>h.dupont@..."): the other cells
    # name the one address of the row, instead of being refused as addresses.
    addresses = [address for address, _name in entries if "@" in address]
    if "\t" in line and len(addresses) == 1 and not any(name for _address, name in entries):
        words = [address for address, _name in entries if "@" not in address]
        return [(addresses[0], " ".join(words))]
    return entries


def _entries(text: str) -> list[tuple[str, str]]:
    """(address as typed, display name) pairs, in the order of the text."""
    return [entry for line in text.splitlines() for entry in _line_entries(line)]


def _title(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


def guess_name(email: str, display_name: str = "") -> tuple[str, str]:
    """(first name, last name) from "Dupont, Hélène", "DUPONT Hélène", "Hélène Dupont" or,
    failing a name, from an address such as "helene.dupont@..."; ("", "") when unsure."""
    words = display_name.split()
    if words and words[0].casefold().rstrip(".") in _CIVILITIES:
        words = words[1:]
    name = " ".join(words)
    if "@" in name:
        name = ""
    if "," in name:
        last, _separator, first = name.partition(",")
        return first.strip(), last.strip()
    words = name.split()
    if len(words) >= 2:
        # French habit: the family name in capitals, before or after the first name.
        capitals = [word for word in words if word.isupper() and len(word) > 1]
        if capitals and len(capitals) < len(words):
            first = [word for word in words if word not in capitals]
            return " ".join(first), " ".join(_title(word) for word in capitals)
        return words[0], " ".join(words[1:])
    if len(words) == 1:
        return "", words[0]
    local_part = email.partition("@")[0]
    parts = [part for part in re.split(r"[._]", local_part) if part]
    if len(parts) == 2 and all(part.replace("-", "").isalpha() for part in parts):
        first = _title(parts[0]) if len(parts[0]) > 1 else ""
        return first, _title(parts[1])
    return "", ""


def parse_addresses(text: str) -> ParsedAddresses:
    """Addresses pasted from a spreadsheet or a mail client: separated by lines, commas,
    semicolons or spaces, "Name <address>" accepted. Known contacts are found ignoring case."""
    valid: dict[str, str] = {}
    invalid: list[str] = []
    for raw, name in _entries(text):
        if not raw:
            continue
        try:
            address = normalise_email(raw.removeprefix("mailto:"))
        except InvalidValue:
            if raw not in invalid:
                invalid.append(raw)
            continue
        if address not in valid or (name and not valid[address]):
            valid[address] = name
    known_by_email = {}
    if valid:
        known_by_email = {
            contact.email: contact
            for contact in db.session.scalars(
                select(Contact)
                .where(Contact.email.in_(list(valid)))
                .options(joinedload(Contact.organisation))
            )
        }
    known, unknown = [], []
    for address, name in valid.items():
        if address in known_by_email:
            known.append(known_by_email[address])
        else:
            unknown.append(NewAddress(address, *guess_name(address, name)))
    return ParsedAddresses(known, unknown, invalid)


@dataclass
class NewContactRow:
    """One unknown address the organiser confirmed, with the name they gave."""

    email: str
    last_name: str
    first_name: str = ""
    civility: Civility | None = None
    organisation_id: int | None = None


class ContactRowsError(Exception):
    """Some rows cannot become contacts: {row index: FieldError}. Nothing should be kept."""

    def __init__(self, errors: dict[int, FieldError]) -> None:
        super().__init__(f"{len(errors)} rows refused")
        self.errors = errors


def create_contacts_and_invite(
    meeting: Meeting, rows: list[NewContactRow], user: User | None, now: datetime
) -> tuple[list[Contact], int]:
    """Create the confirmed contacts with the directory's own rules, then invite them;
    returns (contacts created, invitations added). Raises ContactRowsError listing every
    refused row: the caller rolls back, so that nothing is half done."""
    check_list_changeable(meeting)
    created: list[Contact] = []
    errors: dict[int, FieldError] = {}
    for index, row in enumerate(rows):
        data = ContactData(
            last_name=row.last_name,
            email=row.email,
            civility=row.civility,
            first_name=row.first_name,
            organisation_id=row.organisation_id,
        )
        try:
            created.append(create_contact(data, user, now))
        except FieldError as error:
            errors[index] = error
    if errors:
        raise ContactRowsError(errors)
    added, _already = invite_contacts(meeting, [contact.id for contact in created], user, now)
    return created, added


# The invitation e-mail


def default_invitation_subject(meeting: Meeting) -> str:
    """In the current language: the caller picks the e-mail's (see invitation_text)."""
    return _(
        "Invitation: %(title)s, %(day)s",
        title=meeting.title,
        day=format_day(meeting.starts_at, meeting.zone),
    )


def default_invitation_message(meeting: Meeting) -> str:
    """The opening text only: date, place, programme, deadline and signature follow from the
    meeting itself in every e-mail, so they stay right when the meeting changes."""
    return _(
        "We are pleased to invite you to the meeting “%(title)s”.\n\n"
        "You will find the date, the place and the programme below. Please tell us whether "
        "you will attend: one click on a button below is enough.",
        title=meeting.title,
    )


def invitation_text(meeting: Meeting) -> tuple[str, str]:
    """(subject, opening message) as invitees will read them: the meeting's own text, or the
    default one in the e-mails' language."""
    with force_locale(email_locale()):
        subject = meeting.invitation_subject or default_invitation_subject(meeting)
        message = meeting.invitation_message or default_invitation_message(meeting)
    return subject, message


def normalised_message(text: str) -> str:
    """`text` with Unix line ends, no trailing spaces and no blank lines around it."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def text_to_store(
    meeting: Meeting,
    subject: str,
    message: str,
    default_subject: Callable[[Meeting], str],
    default_message: Callable[[Meeting], str],
) -> tuple[str, str]:
    """An organiser's subject and message of one of the meeting's e-mails, as they are kept:
    cleaned, and empty where they are the default text (built by `default_subject` and
    `default_message` in the e-mails' language), so that it keeps following the meeting."""
    subject = header_text(subject)
    message = normalised_message(message)
    with force_locale(email_locale()):
        default_subject_text = default_subject(meeting)
        default_message_text = normalised_message(default_message(meeting))
    return (
        "" if subject == default_subject_text else subject,
        "" if message == default_message_text else message,
    )


def save_invitation_text(meeting: Meeting, subject: str, message: str) -> None:
    """Keep the organiser's subject and message; the default text is stored as empty, so
    that it keeps following the meeting's title and date."""
    check_list_changeable(meeting)
    meeting.invitation_subject, meeting.invitation_message = text_to_store(
        meeting, subject, message, default_invitation_subject, default_invitation_message
    )
    db.session.flush()


def paragraphs(text: str) -> list[list[str]]:
    """The message's paragraphs (split on blank lines), each as its lines, for the HTML part."""
    blocks = re.split(r"\n\s*\n", normalised_message(text))
    return [block.split("\n") for block in blocks if block.strip()]


def answer_links(token: str) -> dict[str, str]:
    """The personal page, and the page with "I will attend" or "I cannot attend" chosen. One
    URL built, the others derived: a reminder job builds them for thousands of invitees."""
    personal_url = absolute_url("invitations.personal_page", token=token)
    return {
        "personal_url": personal_url,
        "yes_url": f"{personal_url}?answer={COMING}",
        "no_url": f"{personal_url}?answer={NOT_COMING}",
    }


def render_invitation(meeting: Meeting, invitation: Invitation, token: str) -> RenderedEmail:
    """The invitation e-mail of one invitee, carrying the personal link `token`.

    `meeting` is passed apart from the invitation so that a preview can use an invitation
    that belongs to no session (attaching it to the meeting would save it)."""
    subject, message = invitation_text(meeting)
    with force_locale(email_locale()):
        hello = greeting(invitation.contact)
    return render_email(
        INVITATION_KIND,
        email_locale(),
        meeting=meeting,
        contact=invitation.contact,
        subject=subject,
        greeting=hello,
        message=message,
        paragraphs=paragraphs(message),
        **answer_links(token),
    )


def preview_contact(meeting: Meeting) -> Contact:
    """Who a preview of the meeting's e-mails is addressed to: the first person on the list,
    or a sample person (not saved) while the list is empty."""
    contact = db.session.scalar(
        select(Contact)
        .join(Invitation, Invitation.contact_id == Contact.id)
        .outerjoin(Contact.organisation)
        .where(Invitation.meeting_id == meeting.id)
        .order_by(Organisation.name_key.nulls_last(), Contact.sort_key, Contact.id)
        .limit(1)
    )
    if contact is None:
        contact = Contact(civility=Civility.MS, first_name="Hélène", last_name="Dupont")
    return contact


def preview_invitation(meeting: Meeting) -> RenderedEmail:
    """The invitation as the first person on the list (or a sample person) would get it, with
    a link that leads nowhere: a preview issues no real link."""
    return render_invitation(meeting, Invitation(contact=preview_contact(meeting)), "preview")


def meeting_reply_to(meeting: Meeting) -> tuple[str, str] | None:
    """Where invitees' replies to the meeting's e-mails go: its contact person, if any."""
    return (meeting.contact_email, meeting.contact_name) if meeting.contact_email else None


def with_contacts(invitation_ids) -> list[Invitation]:
    """These invitations with their contacts and links, ready to be e-mailed a new link."""
    ids = list(invitation_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.id.in_(ids))
            # The links too: issue_link appends to them, which would load them one by one.
            .options(joinedload(Invitation.contact), selectinload(Invitation.links))
            .order_by(Invitation.id)
            .execution_options(populate_existing=True)
        )
    )


def _claim_unsent(meeting: Meeting, now: datetime) -> list[int]:
    """Mark the invitations not sent yet as sent now, in one statement, and return their ids:
    an organiser who clicks twice, or two at once, cannot send the same invitation twice."""
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.meeting_id == meeting.id, Invitation.invited_at.is_(None))
        .values(invited_at=now)
        .returning(Invitation.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


def send_invitations(
    meeting: Meeting, user: User | None, now: datetime, only: list[Invitation] | None = None
) -> int:
    """Queue the invitation e-mail for everyone on the list who has not received it, or for
    the `only` invitations (a resend); returns how many were queued.

    Each e-mail carries a new personal link; earlier links keep working until revoked.
    Contacts are loaded in one query and each message is rendered in memory, so 300 invitees
    are queued within the request. Flushes; the caller commits, then calls request_delivery().
    `user` is the organiser acting, as in every operation of this module."""
    check_can_send(meeting, now)
    if only is None:
        invitations = with_contacts(_claim_unsent(meeting, now))
    else:
        invitations = with_contacts(invitation.id for invitation in only)
        for invitation in invitations:
            if invitation.meeting_id != meeting.id:
                raise ValueError(f"{invitation!r} is not an invitation to {meeting!r}")
            invitation.invited_at = invitation.invited_at or now
    reply_to = meeting_reply_to(meeting)
    for invitation in invitations:
        contact = invitation.contact
        queue_email(
            INVITATION_KIND,
            contact.email,
            render_invitation(meeting, invitation, issue_link(invitation, now)),
            now,
            to_name=contact.full_name,
            reply_to=reply_to,
            meeting=meeting,
            invitation=invitation,
        )
    db.session.flush()
    return len(invitations)


def unanswered_query(meeting: Meeting) -> Select:
    """Invitations already sent that have no answer yet."""
    return select(Invitation).where(
        Invitation.meeting_id == meeting.id,
        Invitation.invited_at.is_not(None),
        Invitation.answer == Answer.NONE,
    )


def count_unanswered(meeting: Meeting) -> int:
    return db.session.scalar(unanswered_query(meeting).with_only_columns(func.count(Invitation.id)))


def resend_to_unanswered(meeting: Meeting, user: User | None, now: datetime) -> int:
    """The follow-up ("relance"): the invitation again, to everyone who has not answered."""
    return send_invitations(
        meeting, user, now, only=list(db.session.scalars(unanswered_query(meeting)))
    )


def resend_to(invitation: Invitation, user: User | None, now: datetime) -> int:
    return send_invitations(invitation.meeting, user, now, only=[invitation])


def revoke_invitation_links(invitation: Invitation, now: datetime) -> None:
    """Every link sent to this person stops working (a forwarded e-mail, say); the next
    resend carries a new one."""
    revoke_links(invitation, now)
    db.session.flush()


# Following deliveries


@dataclass(frozen=True)
class DeliveryProgress:
    queued: int = 0
    sent: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sent + self.failed

    @property
    def done(self) -> bool:
        return self.queued == 0


def _covering_messages(meeting: Meeting) -> Select:
    """The ids of the e-mails about several meetings (a whole series) that cover one of
    `meeting`'s invitations, with the invitation covered."""
    return (
        select(OutboxMessageInvitation.message_id, OutboxMessageInvitation.invitation_id)
        .join(Invitation, Invitation.id == OutboxMessageInvitation.invitation_id)
        .where(Invitation.meeting_id == meeting.id)
    )


def delivery_progress(meeting: Meeting) -> DeliveryProgress:
    """How many of the meeting's invitation, update and cancellation e-mails, and of the
    series invitations listing it, are queued, sent and failed: one aggregate query."""
    covering = _covering_messages(meeting).with_only_columns(OutboxMessageInvitation.message_id)
    rows = db.session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id))
        .where(
            or_(
                and_(
                    OutboxMessage.meeting_id == meeting.id,
                    OutboxMessage.kind.in_(ORGANISER_KINDS),
                ),
                OutboxMessage.id.in_(covering),
            )
        )
        .group_by(OutboxMessage.status)
    )
    counts = {"queued": 0, "sent": 0, "failed": 0}
    for status, count in rows:
        counts[email_state(status)] += count
    return DeliveryProgress(**counts)


def latest_emails(meeting: Meeting):
    """Subquery: per invitation of the meeting, the status and error of its latest e-mail
    from this module or listing it in a series invitation (a window function: one row per
    invitation, whatever their number)."""
    direct = select(
        OutboxMessage.invitation_id,
        OutboxMessage.id,
        OutboxMessage.status,
        OutboxMessage.last_error,
        OutboxMessage.created_at,
    ).where(
        OutboxMessage.meeting_id == meeting.id,
        OutboxMessage.invitation_id.is_not(None),
        OutboxMessage.kind.in_(ORGANISER_KINDS),
    )
    covering = _covering_messages(meeting).subquery()
    listed = select(
        covering.c.invitation_id,
        OutboxMessage.id,
        OutboxMessage.status,
        OutboxMessage.last_error,
        OutboxMessage.created_at,
    ).join(covering, covering.c.message_id == OutboxMessage.id)
    emails = union_all(direct, listed).subquery()
    ranked = select(
        emails.c.invitation_id,
        emails.c.status,
        emails.c.last_error,
        func.row_number()
        .over(
            partition_by=emails.c.invitation_id,
            order_by=(emails.c.created_at.desc(), emails.c.id.desc()),
        )
        .label("rank"),
    ).subquery()
    return (
        select(ranked.c.invitation_id, ranked.c.status, ranked.c.last_error)
        .where(ranked.c.rank == 1)
        .subquery("latest_email")
    )


# Answers


@dataclass(frozen=True)
class AnswerCounts:
    invited: int = 0
    coming: int = 0
    not_coming: int = 0
    no_answer: int = 0
    waiting: int = 0
    not_sent: int = 0


def answer_counts(meeting: Meeting) -> AnswerCounts:
    """The meeting's invitees by answer, and those whose invitation is not sent: one query."""

    def count_where(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            func.count(Invitation.id),
            count_where(Invitation.answer == Answer.COMING),
            count_where(Invitation.answer == Answer.NOT_COMING),
            count_where(Invitation.answer == Answer.NONE),
            count_where(Invitation.answer == Answer.WAITING),
            count_where(Invitation.invited_at.is_(None)),
        ).where(Invitation.meeting_id == meeting.id)
    ).one()
    return AnswerCounts(*(int(value) for value in row))


@dataclass(frozen=True)
class AnswerFilters:
    query: str = ""
    answer: Answer | None = None
    organisation_id: int | None = None
    # A key of EMAIL_STATE_LABELS: "not_sent", "queued", "sent", "failed"...
    email: str = ""

    @property
    def is_filtered(self) -> bool:
        return bool(self.query or self.answer or self.organisation_id or self.email)


def answers_query(meeting: Meeting, filters: AnswerFilters) -> Select:
    """Rows (Invitation with contact and organisation, email_status, email_error,
    recorded_by_name, replaced_by_name, replaces_name, registered) by organisation then name:
    one query, whatever the number of invitees."""
    latest = latest_emails(meeting)
    statement = (
        select(
            Invitation,
            latest.c.status.label("email_status"),
            latest.c.last_error.label("email_error"),
            User.name.label("recorded_by_name"),
            *_substitution_names(),
            exists().where(Registration.invitation_id == Invitation.id).label("registered"),
        )
        .join(Invitation.contact)
        .outerjoin(Contact.organisation)
        .outerjoin(latest, latest.c.invitation_id == Invitation.id)
        .outerjoin(User, User.id == Invitation.answer_recorded_by_id)
        .options(contains_eager(Invitation.contact).contains_eager(Contact.organisation))
        .where(Invitation.meeting_id == meeting.id)
    )
    if filters.query:
        statement = statement.where(
            matches_folded(filters.query, Contact.search_key, Organisation.name_key)
        )
    if filters.answer is not None:
        statement = statement.where(Invitation.answer == filters.answer)
    if filters.organisation_id:
        statement = statement.where(Contact.organisation_id == filters.organisation_id)
    statement = _where_email_state(statement, filters.email, latest)
    return statement.order_by(Organisation.name_key.nulls_last(), Contact.sort_key, Invitation.id)


def _substitution_names() -> tuple:
    """SQL columns: the name of the colleague each invitee sent in their place ("replaced
    by"), and of the invitee each substitute replaces ("in place of")."""
    other, other_contact = aliased(Invitation), aliased(Contact)
    name = other_contact.first_name + " " + other_contact.last_name
    named = (
        select(name).select_from(other).join(other_contact, other.contact_id == other_contact.id)
    )
    replaced_by = named.where(other.replaces_id == Invitation.id).order_by(other.id).limit(1)
    replaces = named.where(other.id == Invitation.replaces_id)
    return (
        replaced_by.scalar_subquery().label("replaced_by_name"),
        replaces.scalar_subquery().label("replaces_name"),
    )


def _where_email_state(statement: Select, state: str, latest) -> Select:
    if state == "not_sent":
        return statement.where(Invitation.invited_at.is_(None))
    if state == "sent":
        return statement.where(latest.c.status == MessageStatus.SENT)
    if state == "failed":
        return statement.where(latest.c.status == MessageStatus.FAILED)
    if state == "queued":
        return statement.where(latest.c.status.in_(PENDING_STATUSES))
    if state in ("registered", "no_email"):
        registered = exists().where(Registration.invitation_id == Invitation.id)
        return statement.where(
            Invitation.invited_at.is_not(None),
            latest.c.status.is_(None),
            registered if state == "registered" else ~registered,
        )
    return statement


def organisations_of_invitees(meeting: Meeting) -> list[tuple[str, str]]:
    """(id, name) of the organisations the meeting's invitees belong to, for the filter."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.town)
        .where(
            exists().where(
                Invitation.meeting_id == meeting.id,
                Invitation.contact_id == Contact.id,
                Contact.organisation_id == Organisation.id,
            )
        )
        .order_by(Organisation.name_key, Organisation.town_key)
    )
    return [(str(id_), f"{name} ({town})" if town else name) for id_, name, town in rows]


def answers_csv(meeting: Meeting, filters: AnswerFilters) -> str:
    """The answers as a spreadsheet reads them: `;` separated, a BOM so that Excel reads
    UTF-8, headers and answers in the current language, times in the meeting's zone. The
    meeting's questions follow, one column each (removed ones too while answers to them are
    kept), several values joined by "; "."""
    statement = answers_query(meeting, filters).add_columns(
        question_services.asks_exported_questions(meeting)
    )
    rows = db.session.execute(statement).all()
    asked, saved = [], {}
    if not rows or rows[0].asks_questions:
        asked = question_services.answered_questions(meeting)
        saved = question_services.saved_answers([row[0].id for row in rows]) if asked else {}
    output = io.StringIO()
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Civility"),
            _("First name"),
            _("Last name"),
            _("E-mail"),
            _("Organisation"),
            _("Function"),
            _("Answer"),
            _("Comment"),
            _("Answered at"),
            _("E-mail status"),
            *(question_services.question_heading(question) for question in asked),
        ]
    )
    for row in rows:
        invitation, status, error, contact = row[0], row[1], row[2], row[0].contact
        state = invitation_email_state(invitation, status, row.registered)
        email_status = str(EMAIL_STATE_LABELS[state])
        if state == "failed" and error:
            email_status = f"{email_status}: {error}"
        row = [
            civility_label(contact.civility),
            contact.first_name,
            contact.last_name,
            contact.email,
            contact.organisation.name if contact.organisation else "",
            contact.function,
            str(ANSWER_LABELS[invitation.answer]),
            invitation.comment,
            spreadsheet_moment(invitation.answered_at, meeting.zone),
            email_status,
        ]
        answers = saved.get(invitation.id, {})
        row += [question_services.format_answer(q, answers.get(q.id, [])) for q in asked]
        writer.writerow([protect_cell(value) for value in row])
    return "\ufeff" + output.getvalue()


# Telling invitees about a change or a cancellation


def time_or_place_changed(before: dict, after: dict) -> set[str]:
    """What changed between two meetings.services.time_and_place() snapshots: "time",
    "place", both or neither (the edit page then offers to tell the invitees)."""
    changes = set()
    if any(before[name] != after[name] for name in TIME_FIELDS):
        changes.add("time")
    if any(before[name] != after[name] for name in PLACE_FIELDS):
        changes.add("place")
    return changes


def can_notify_change(meeting: Meeting, now: datetime) -> bool:
    """Whether to offer telling invitees about a change: a meeting still to come, and someone
    who received the invitation and has not declined."""
    return meeting.status_at(now) is MeetingStatus.PUBLISHED and count_notified(meeting) > 0


def notified_query(meeting: Meeting) -> Select:
    """Who hears about a change or a cancellation: everyone invited who has not declined."""
    return select(Invitation).where(
        Invitation.meeting_id == meeting.id,
        Invitation.invited_at.is_not(None),
        Invitation.answer != Answer.NOT_COMING,
    )


def count_notified(meeting: Meeting) -> int:
    return db.session.scalar(notified_query(meeting).with_only_columns(func.count(Invitation.id)))


def render_notice(
    kind: str, meeting: Meeting, contact: Contact, answer: Answer, links: dict[str, str]
) -> RenderedEmail:
    """The change or cancellation e-mail of one invitee, worded for their answer."""
    locale = email_locale()
    with force_locale(locale):
        hello = greeting(contact)
    return render_email(
        kind, locale, meeting=meeting, contact=contact, answer=answer, greeting=hello, **links
    )


def preview_change(meeting: Meeting) -> RenderedEmail:
    """The change e-mail as someone who has not answered reads it, with links to nowhere."""
    contact = Contact(civility=Civility.MS, first_name="Hélène", last_name="Dupont")
    return render_notice(UPDATE_KIND, meeting, contact, Answer.NONE, answer_links("preview"))


def _notify(meeting: Meeting, kind: str, calendar_method: str, now: datetime) -> int:
    invitations = db.session.scalars(
        notified_query(meeting).options(joinedload(Invitation.contact)).order_by(Invitation.id)
    ).all()
    reply_to = meeting_reply_to(meeting)
    for invitation in invitations:
        contact = invitation.contact
        # A cancelled meeting has nothing left to answer: no link in that e-mail.
        links = answer_links(issue_link(invitation, now)) if kind == UPDATE_KIND else {}
        calendar = None
        # Only those coming have the meeting in their calendar: the file updates or removes it.
        if invitation.answer is Answer.COMING:
            with force_locale(email_locale()):
                calendar = meeting_calendar(
                    meeting,
                    calendar_method,
                    attendee=contact,
                    personal_url=links.get("personal_url"),
                    now=now,
                )
        queue_email(
            kind,
            contact.email,
            render_notice(kind, meeting, contact, invitation.answer, links),
            now,
            to_name=contact.full_name,
            reply_to=reply_to,
            calendar=calendar,
            calendar_method=calendar_method if calendar else "",
            meeting=meeting,
            invitation=invitation,
        )
    db.session.flush()
    return len(invitations)


def notify_change(meeting: Meeting, user: User | None, now: datetime) -> int:
    """E-mail the new date, time and place to everyone invited who has not declined, with the
    updated calendar entry for those coming; returns how many were queued."""
    check_can_send(meeting, now)
    return _notify(meeting, UPDATE_KIND, "REQUEST", now)


def notify_cancellation(meeting: Meeting, user: User | None, now: datetime) -> int:
    """E-mail the cancellation and its reason to everyone invited who has not declined; for
    those coming, the calendar file removes the event. Returns how many were queued."""
    if meeting.status is not MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("Only a cancelled meeting can be announced as cancelled."))
    return _notify(meeting, CANCELLATION_KIND, "CANCEL", now)


# Lists of rows


class RowPagination(SelectPagination):
    """db.paginate keeps only the first column of each row; these lists need whole rows (an
    invitation with its e-mail status, a contact with its "already invited" mark)."""

    def _query_items(self) -> list:
        statement = self._query_args["select"]
        statement = statement.limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(statement).all())


def paginate_rows(statement: Select, per_page: int) -> RowPagination:
    """Like db.paginate (the page number comes from the request), keeping whole rows."""
    return RowPagination(select=statement, session=db.session, per_page=per_page)
