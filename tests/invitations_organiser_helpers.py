"""Builders shared by the tests of the organisers' invitation pages: the seed meeting of
June 2018, directories of any size, and lists of invitations added in bulk."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.extensions import db
from app.invitations.tokens import issue_link
from app.models import (
    Answer,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    ProgrammeItem,
)
from tests.factories import MeetingFactory

PARIS = ZoneInfo("Europe/Paris")

# Services take `now`: two weeks before the seed meeting of the Val d'Oise federation.
SEED_NOW = datetime(2018, 5, 22, 8, 0, tzinfo=UTC)
SEED_DAY = "mardi 5 juin 2018, de 9 h 00 à 12 h 30"


def seed_meeting(**changes) -> Meeting:
    """The seed invitation (003): Tuesday 5 June 2018, 9:00–12:30, Maison Pour Tous."""
    values = {
        "title": "Liens École et centres sociaux",
        "status": MeetingStatus.PUBLISHED,
        "starts_at": datetime(2018, 6, 5, 7, 0, tzinfo=UTC),
        "ends_at": datetime(2018, 6, 5, 10, 30, tzinfo=UTC),
        "venue_name": "Maison Pour Tous",
        "venue_address": "8, place de la commune de Paris",
        "venue_postcode": "95100",
        "venue_town": "Argenteuil",
        "answer_deadline": datetime(2018, 6, 1, 21, 59, tzinfo=UTC),
        "contact_name": "Judicaëlle Feron",
        "contact_function": "Chargée de missions",
        "contact_organisation": "Fédération des Centres Sociaux du Val d'Oise",
        "contact_email": "j.feron@example.org",
    }
    values.update(changes)
    meeting = MeetingFactory(**values)
    meeting.programme_items = [
        ProgrammeItem(position=0, starts_at=time(9, 0), text="Accueil"),
        ProgrammeItem(position=1, starts_at=time(9, 30), text="Tour d'horizon des liens"),
    ]
    db.session.commit()
    return meeting


def upcoming_meeting(organisers, **changes) -> Meeting:
    """A published meeting two weeks from the real clock (the pages read it), from 9:00 to
    12:00 Paris time, so that moving its end by a few hours never crosses midnight."""
    day = (datetime.now(PARIS) + timedelta(days=14)).date()
    starts_at = datetime.combine(day, time(9, 0), tzinfo=PARIS).astimezone(UTC)
    values = {
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "organisers": list(organisers),
        "contact_name": "Judicaëlle Feron",
        "contact_email": "j.feron@example.org",
    }
    values.update(changes)
    return MeetingFactory(**values)


def directory(count: int, prefix: str = "person") -> list[Contact]:
    """`count` contacts spread over three organisations of different kinds and towns; another
    `prefix` gives another directory, with organisations of their own."""
    suffix = "" if prefix == "person" else f" {prefix}"
    homes = [
        Organisation(
            name=f"Centre social Agora{suffix}",
            town="Argenteuil",
            kind=OrganisationKind.SOCIAL_CENTRE,
        ),
        Organisation(
            name=f"Collège Jean Jaurès{suffix}", town="Bezons", kind=OrganisationKind.SCHOOL
        ),
        Organisation(
            name=f"École et Famille{suffix}", town="Argenteuil", kind=OrganisationKind.ASSOCIATION
        ),
    ]
    contacts = [
        Contact(
            first_name=f"Prénom{number}",
            last_name=f"Nom{number:05d}",
            email=f"{prefix}{number}@example.org",
            function="Animatrice",
            organisation=homes[number % len(homes)],
        )
        for number in range(count)
    ]
    db.session.add_all(homes + contacts)
    db.session.commit()
    return contacts


def invite_all(meeting: Meeting, contacts, invited_at: datetime | None = None) -> list[Invitation]:
    """Invitations of `contacts`, committed at once; sent at `invited_at` when given."""
    invitations = [
        Invitation(meeting_id=meeting.id, contact_id=contact.id, invited_at=invited_at)
        for contact in contacts
    ]
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


def with_link(invitation: Invitation, now: datetime = SEED_NOW) -> str:
    token = issue_link(invitation, now)
    db.session.commit()
    return token


def answer(invitation: Invitation, value: Answer, at: datetime = SEED_NOW, comment: str = ""):
    invitation.answer = value
    invitation.answered_at = at
    invitation.comment = comment
    invitation.waiting_since = at if value is Answer.WAITING else None
    db.session.commit()


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def invitation_count(meeting: Meeting) -> int:
    return db.session.scalar(
        select(func.count(Invitation.id)).where(Invitation.meeting_id == meeting.id)
    )
