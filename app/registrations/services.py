"""Registrations to open meetings: the public page's data, registering and confirming the
address by e-mail (double opt-in), the organisers' approval or refusal, and the expiry of
registrations never confirmed.

A registration is kept apart from the directory until its address is confirmed: only then does
the person become a contact with an invitation, and only through record_answer, so the
capacity and its waiting list apply as to anyone."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from app.contacts.labels import greeting
from app.contacts.services import ContactData, create_contact
from app.extensions import db
from app.formatting import format_moment
from app.invitations import answers
from app.invitations.services import email_locale, meeting_reply_to
from app.invitations.tokens import TOKEN_BYTES, TOKEN_LENGTHS, hash_token, issue_link
from app.mail.outbox import queue_email, render_email
from app.models import (
    Answer,
    Civility,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    MeetingVisibility,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    User,
)
from app.text import fold, matches_folded
from app.urls import absolute_url

# An unconfirmed registration holds no place and lapses after this long.
CONFIRMATION_DELAY = timedelta(hours=48)
# Expired registrations are kept this long, so their link still says "expired", then deleted.
EXPIRED_KEPT = timedelta(days=30)
# At most one e-mail per address and meeting in this time, however often the form is sent:
# the form cannot be used to flood someone's mailbox.
RESEND_DELAY = timedelta(minutes=10)
MAX_SUGGESTIONS = 10
MIN_SUGGESTION_LENGTH = 2

CONFIRM_KIND = "registration_confirm"
ALREADY_KIND = "registration_already"
APPROVED_KIND = "registration_approved"
REFUSED_KIND = "registration_refused"
# The e-mails the public form sends, counted by the resend delay.
FORM_KINDS = (CONFIRM_KIND, ALREADY_KIND)

STATUS_LABELS = {
    RegistrationStatus.UNCONFIRMED: _l("Address not confirmed yet"),
    RegistrationStatus.AWAITING_APPROVAL: _l("Awaiting approval"),
    RegistrationStatus.ACCEPTED: _l("Accepted"),
    RegistrationStatus.REFUSED: _l("Refused"),
    RegistrationStatus.EXPIRED: _l("Expired"),
}
# "Centre social Dijon Sud (Dijon)": a suggestion's label, the name then the town.
_LABEL = re.compile(r"^(?P<name>.*\S)\s*\((?P<town>[^()]*)\)$")


class RegistrationRefused(Exception):
    """The registration cannot go on now; str() is the message to show."""


# The public page


def public_meeting(slug: str) -> Meeting | None:
    """The meeting with this public address, if it is open and published (or cancelled, to
    say so); None for drafts, invitation-only meetings and unknown addresses."""
    return db.session.scalar(
        select(Meeting)
        .where(
            Meeting.slug == slug,
            Meeting.visibility == MeetingVisibility.OPEN,
            Meeting.status.in_([MeetingStatus.PUBLISHED, MeetingStatus.CANCELLED]),
        )
        .options(selectinload(Meeting.programme_items))
    )


@dataclass(frozen=True)
class Places:
    capacity: int | None
    coming: int

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.coming)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.coming >= self.capacity


def places(meeting: Meeting) -> Places:
    """Places taken by the people coming; unconfirmed or unapproved registrations take none."""
    return Places(meeting.capacity, answers.coming_count(meeting.id))


def registration_problem(meeting: Meeting, now: datetime) -> str | None:
    """Why nobody may register now (cancelled, started, past the deadline); None when open."""
    status = meeting.status_at(now)
    if status is MeetingStatus.CANCELLED:
        return _("This meeting is cancelled.")
    if status is not MeetingStatus.PUBLISHED or meeting.visibility is not MeetingVisibility.OPEN:
        return _("Registrations are closed.")
    if meeting.starts_at <= now:
        return _("This meeting has started: registrations are closed.")
    if meeting.answer_deadline is not None and now > meeting.answer_deadline:
        return _(
            "Registrations closed on %(moment)s.",
            moment=format_moment(meeting.answer_deadline, meeting.zone),
        )
    return None


def organisation_label(organisation: Organisation) -> str:
    return f"{organisation.name} ({organisation.town})" if organisation.town else organisation.name


def suggestions(text: str) -> list[dict]:
    """Directory organisations whose name or town contains `text`, for the form's suggestions:
    at most MAX_SUGGESTIONS, none still awaiting review (typed by an anonymous visitor)."""
    if len(fold(text)) < MIN_SUGGESTION_LENGTH:
        return []
    found = db.session.scalars(
        select(Organisation)
        .where(
            Organisation.pending_review.is_(False),
            matches_folded(text, Organisation.name_key, Organisation.town_key),
        )
        .order_by(Organisation.name_key, Organisation.town_key, Organisation.id)
        .limit(MAX_SUGGESTIONS)
    )
    return [
        {"id": each.id, "name": each.name, "town": each.town, "label": organisation_label(each)}
        for each in found
    ]


def matching_organisation(text: str) -> Organisation | None:
    """The directory organisation `text` names exactly, ignoring case and accents: its name,
    or its suggestion label "name (town)". Among namesakes in several towns, only the one
    without a town is taken; otherwise None."""
    key = fold(text)
    if not key:
        return None
    namesakes = list(db.session.scalars(select(Organisation).where(Organisation.name_key == key)))
    if len(namesakes) == 1:
        return namesakes[0]
    if namesakes:
        return next((each for each in namesakes if each.town_key == ""), None)
    label = _LABEL.match(" ".join(text.split()))
    if label is None:
        return None
    return db.session.scalar(
        select(Organisation).where(
            Organisation.name_key == fold(label["name"]),
            Organisation.town_key == fold(label["town"]),
        )
    )


def chosen_organisation(organisation_id: int | None, text: str) -> Organisation | None:
    """The organisation the form names: the suggestion picked (its id, if the text still reads
    as it), or the one the text names exactly."""
    if organisation_id:
        picked = db.session.get(Organisation, organisation_id)
        if (
            picked is not None
            and not picked.pending_review
            and fold(text) in (fold(picked.name), fold(organisation_label(picked)))
        ):
            return picked
    return matching_organisation(text)


# Registering


@dataclass
class RegistrationData:
    """What the public form gives, cleaned by the form."""

    last_name: str
    email: str
    first_name: str = ""
    civility: Civility | None = None
    function: str = ""
    organisation_name: str = ""
    organisation_id: int | None = None
    # {question id: [values]}, as app/questions/services.py reads them from the form.
    answers: str = "{}"
    consent_text: str = ""


def _recently_emailed(meeting: Meeting, email: str, now: datetime) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    OutboxMessage.meeting_id == meeting.id,
                    OutboxMessage.to_address == email,
                    OutboxMessage.kind.in_(FORM_KINDS),
                    OutboxMessage.created_at > now - RESEND_DELAY,
                )
            )
        )
    )


def register(meeting: Meeting, data: RegistrationData, now: datetime) -> str:
    """Take a registration from the public form and e-mail its address, never telling the
    visitor more than "check your inbox". Returns what was done, for the tests and the logs:

    - "registered": a new unconfirmed registration, and the e-mail with its confirmation link;
    - "already": the address is already invited (the e-mail gives their personal link) or
      awaits approval (the e-mail says so); nothing is stored;
    - "throttled": an e-mail went to this address for this meeting a moment ago; nothing done.

    Raises RegistrationRefused when registrations are closed. Flushes; the caller commits."""
    problem = registration_problem(meeting, now)
    if problem:
        raise RegistrationRefused(problem)
    email = data.email.strip().lower()
    if _recently_emailed(meeting, email, now):
        return "throttled"
    invitation = db.session.scalar(
        select(Invitation)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.meeting_id == meeting.id, Contact.email == email)
    )
    if invitation is not None:
        answers.queue_personal_email(ALREADY_KIND, invitation, now, awaiting=False)
        db.session.flush()
        return "already"
    awaiting = db.session.scalar(
        select(Registration).where(
            Registration.meeting_id == meeting.id,
            Registration.email == email,
            Registration.status == RegistrationStatus.AWAITING_APPROVAL,
        )
    )
    if awaiting is not None:
        _queue_registration_email(ALREADY_KIND, awaiting, now, awaiting=True)
        db.session.flush()
        return "already"
    token = secrets.token_urlsafe(TOKEN_BYTES)
    organisation = chosen_organisation(data.organisation_id, data.organisation_name)
    registration = Registration(
        meeting=meeting,
        status=RegistrationStatus.UNCONFIRMED,
        civility=data.civility,
        first_name=" ".join(data.first_name.split()),
        last_name=" ".join(data.last_name.split()),
        email=email,
        function=" ".join(data.function.split()),
        organisation_id=organisation.id if organisation else None,
        organisation_name=" ".join(data.organisation_name.split()),
        answers=data.answers,
        consent_text=data.consent_text,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + CONFIRMATION_DELAY,
    )
    db.session.add(registration)
    db.session.flush()
    _queue_registration_email(
        CONFIRM_KIND,
        registration,
        now,
        confirm_url=absolute_url("registrations.confirm_registration", token=token),
    )
    db.session.flush()
    return "registered"


def _queue_registration_email(
    kind: str, registration: Registration, now: datetime, **context
) -> None:
    """An e-mail to someone who registered and is not (yet) an invitee."""
    meeting = registration.meeting
    locale = email_locale()
    with force_locale(locale):
        salutation = greeting(registration)
    rendered = render_email(
        kind,
        locale,
        meeting=meeting,
        registration=registration,
        greeting=salutation,
        **context,
    )
    queue_email(
        kind,
        registration.email,
        rendered,
        now,
        to_name=registration.full_name,
        reply_to=meeting_reply_to(meeting),
        meeting=meeting,
    )


# The confirmation link


def registration_for_token(token: str) -> Registration | None:
    """The registration of a confirmation link, with its meeting; None for any bad token."""
    if len(token) not in TOKEN_LENGTHS or not token.isascii():
        return None
    return db.session.scalar(
        select(Registration)
        .where(Registration.token_hash == hash_token(token))
        .options(joinedload(Registration.meeting))
    )


def is_expired(registration: Registration, now: datetime) -> bool:
    """Expired, or unconfirmed past its time though the hourly job has not marked it yet."""
    if registration.status is RegistrationStatus.EXPIRED:
        return True
    return registration.status is RegistrationStatus.UNCONFIRMED and registration.expires_at <= now


def confirmable(registration: Registration, now: datetime) -> bool:
    return registration.status is RegistrationStatus.UNCONFIRMED and not is_expired(
        registration, now
    )


@dataclass(frozen=True)
class Confirmed:
    """A confirmed registration that became an invitation, and the link of its page."""

    invitation: Invitation
    answer: Answer
    token: str


def confirm(registration: Registration, now: datetime) -> Confirmed | None:
    """The person confirms their address. On a moderated meeting the registration then awaits
    an organiser's approval (None is returned); otherwise it becomes an invitation answered
    "coming" (or the waiting list when full), with a new personal link.
    Raises RegistrationRefused (or AnswerRefused from the answer's rules). Flushes."""
    if not confirmable(registration, now):
        raise RegistrationRefused(_("This link can no longer be used."))
    meeting = registration.meeting
    problem = registration_problem(meeting, now)
    if problem:
        raise RegistrationRefused(problem)
    registration.confirmed_at = now
    if meeting.registrations_moderated:
        registration.status = RegistrationStatus.AWAITING_APPROVAL
        db.session.flush()
        return None
    invitation, answer = _admit(registration, now, None, "confirmation")
    registration.status = RegistrationStatus.ACCEPTED
    db.session.flush()
    return Confirmed(invitation, answer, issue_link(invitation, now))


def _admit(
    registration: Registration, now: datetime, decided_by: User | None, email_kind: str
) -> tuple[Invitation, Answer]:
    """Make the registrant an invitee answering "coming": their contact (found by address, or
    added as self-registered), their invitation, their answer and their answers to the
    questions; they are told by `email_kind`'s e-mail, which confirms the answer."""
    from app.questions.services import active_questions, answers_from_json, save_answers

    meeting = registration.meeting
    contact = _contact_for(registration, now)
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.meeting_id == meeting.id, Invitation.contact_id == contact.id
        )
    )
    if invitation is None:
        invitation = Invitation(
            meeting=meeting,
            contact=contact,
            created_at=now,
            created_by_id=decided_by.id if decided_by else None,
            # Nothing is left to send them: they came to the meeting by themselves.
            invited_at=now,
        )
        db.session.add(invitation)
        db.session.flush()
    if invitation.answer in (Answer.COMING, Answer.WAITING):
        answer = invitation.answer
        answers.queue_confirmation(invitation, now, kind=email_kind)
    else:
        answer = answers.record_answer(
            invitation, True, "", now, recorded_by=decided_by, email_kind=email_kind
        )
    asked = {question.id for question in active_questions(meeting)}
    given = {
        question_id: values
        for question_id, values in answers_from_json(registration.answers).items()
        if question_id in asked
    }
    save_answers(invitation, given, now)
    registration.invitation = invitation
    registration.invitation_id = invitation.id
    return invitation, answer


def _contact_for(registration: Registration, now: datetime) -> Contact:
    """The directory's contact with the registration's address (kept as the organisers wrote
    it), or a new self-registered one in the organisation the person named."""
    contact = db.session.scalar(select(Contact).where(Contact.email == registration.email))
    if contact is not None:
        return contact
    organisation = _organisation_for(registration, now)
    contact = create_contact(
        ContactData(
            last_name=registration.last_name,
            email=registration.email,
            civility=registration.civility,
            first_name=registration.first_name,
            function=registration.function,
            organisation_id=organisation.id if organisation else None,
        ),
        None,
        now,
    )
    contact.self_registered = True
    db.session.flush()
    return contact


def _organisation_for(registration: Registration, now: datetime) -> Organisation | None:
    """The organisation chosen, or the one the typed name matches, or a new one for the
    organisers to review (a duplicate to merge, a name to correct)."""
    if registration.organisation_id is not None:
        chosen = db.session.get(Organisation, registration.organisation_id)
        if chosen is not None:
            return chosen
    name = " ".join(registration.organisation_name.split())
    if not name:
        return None
    existing = matching_organisation(name)
    if existing is not None:
        return existing
    organisation = Organisation(
        name=name[:200],
        kind=OrganisationKind.OTHER,
        pending_review=True,
        created_at=now,
        updated_at=now,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


# The organisers' decision


def _check_awaiting(registration: Registration) -> None:
    if registration.status is not RegistrationStatus.AWAITING_APPROVAL:
        raise RegistrationRefused(_("This registration is not awaiting approval."))


def approve(registration: Registration, user: User, now: datetime) -> Answer:
    """An organiser accepts a registration awaiting approval: the person becomes an invitee
    (coming, or waiting when full), told by the "approved" e-mail with their personal link and,
    with a place, the calendar file. Raises RegistrationRefused or AnswerRefused. Flushes."""

    _check_awaiting(registration)
    _invitation, answer = _admit(registration, now, user, APPROVED_KIND)
    registration.status = RegistrationStatus.ACCEPTED
    registration.decided_at = now
    registration.decided_by_id = user.id
    db.session.flush()
    return answer


def refuse(registration: Registration, user: User, reason: str, now: datetime) -> None:
    """An organiser turns down a registration awaiting approval; the person is told by e-mail,
    with the reason if one is given. Flushes."""
    _check_awaiting(registration)
    registration.status = RegistrationStatus.REFUSED
    registration.decided_at = now
    registration.decided_by_id = user.id
    registration.refusal_reason = reason.strip()
    _queue_registration_email(REFUSED_KIND, registration, now)
    db.session.flush()


# The organisers' list


@dataclass(frozen=True)
class RegistrationFilters:
    status: RegistrationStatus | None = None
    query: str = ""

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.query)


def _contains(column, text: str):
    return func.lower(column).contains(text.lower(), autoescape=True)


def registrations_query(meeting: Meeting, filters: RegistrationFilters) -> Select:
    """The meeting's registrations, latest first, with their organisation: one query."""
    query = (
        select(Registration)
        .where(Registration.meeting_id == meeting.id)
        .options(joinedload(Registration.organisation), joinedload(Registration.decided_by))
    )
    if filters.status is not None:
        query = query.where(Registration.status == filters.status)
    text = filters.query.strip()
    if text:
        query = query.where(
            or_(
                _contains(Registration.last_name, text),
                _contains(Registration.first_name, text),
                _contains(Registration.email, text),
                _contains(Registration.organisation_name, text),
            )
        )
    return query.order_by(Registration.created_at.desc(), Registration.id.desc())


def registration_counts(meeting: Meeting) -> dict[RegistrationStatus, int]:
    """The meeting's registrations by status, every status present: one query."""
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.meeting_id == meeting.id)
        .group_by(Registration.status)
    )
    counts = dict.fromkeys(RegistrationStatus, 0)
    counts.update({status: total for status, total in rows})
    return counts


def awaiting_approval(meeting_ids: list[int]) -> dict[int, int]:
    """How many registrations await an organiser's approval, by meeting: one query."""
    if not meeting_ids:
        return {}
    rows = db.session.execute(
        select(Registration.meeting_id, func.count())
        .where(
            Registration.meeting_id.in_(meeting_ids),
            Registration.status == RegistrationStatus.AWAITING_APPROVAL,
        )
        .group_by(Registration.meeting_id)
    )
    return {meeting_id: total for meeting_id, total in rows}


def registration_of(meeting: Meeting, registration_id: int) -> Registration | None:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.meeting_id != meeting.id:
        return None
    return registration


# Expiry


def expire_registrations(now: datetime) -> tuple[int, int]:
    """Mark the unconfirmed registrations past their time expired, and delete, with what the
    person typed, the expired ones and the refused ones EXPIRED_KEPT after their expiry or
    refusal: nothing more is done with them. Returns (expired, deleted). Flushes."""
    expired = db.session.execute(
        update(Registration)
        .where(
            Registration.status == RegistrationStatus.UNCONFIRMED,
            Registration.expires_at <= now,
        )
        .values(status=RegistrationStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    ).rowcount
    deleted = db.session.execute(
        delete(Registration)
        .where(
            or_(
                and_(
                    Registration.status == RegistrationStatus.EXPIRED,
                    Registration.expires_at <= now - EXPIRED_KEPT,
                ),
                and_(
                    Registration.status == RegistrationStatus.REFUSED,
                    Registration.decided_at <= now - EXPIRED_KEPT,
                ),
            )
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return expired, deleted
