"""Builders shared by the tests of the invitee's side: invitations with their personal links,
and a snapshot of the whole database to prove that a request changed nothing."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.invitations.tokens import issue_link
from app.models import Answer, Invitation, Meeting, ProgrammeItem
from tests.factories import ContactFactory, MeetingFactory, UserFactory

# Services take `now`; meetings in these tests are placed relative to it.
NOW = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)


def a_meeting(now: datetime = NOW, **fields) -> Meeting:
    """A published meeting two weeks after `now`, with its organiser (so the app is past its
    first-account setup), a contact person and a programme."""
    organiser = UserFactory()
    starts_at = fields.pop("starts_at", now.replace(microsecond=0) + timedelta(days=14))
    values = {
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "contact_name": "Claire Martin",
        "contact_email": "claire.martin@federation.example.org",
        "contact_function": "Chargée de mission",
        "created_by_id": organiser.id,
        "organisers": [organiser],
    }
    values.update(fields)
    meeting = MeetingFactory(**values)
    meeting.programme_items = [
        ProgrammeItem(position=0, starts_at=time(9, 0), text="Accueil café"),
        ProgrammeItem(position=1, starts_at=time(9, 30), text="Ateliers par territoire"),
        ProgrammeItem(position=2, text="Synthèse et suites"),
    ]
    db.session.commit()
    return meeting


def invite(meeting: Meeting, now: datetime = NOW, **contact_fields) -> tuple[Invitation, str]:
    """An invitation of a new contact to `meeting`, and the token of its personal link."""
    invitation = Invitation(meeting=meeting, contact=ContactFactory(**contact_fields))
    invitation.invited_at = now
    db.session.add(invitation)
    token = issue_link(invitation, now)
    db.session.commit()
    return invitation, token


def set_answer(invitation: Invitation, answer: Answer, since: datetime | None = None) -> None:
    """Put an invitation in a state directly, as if it had been answered earlier."""
    invitation.answer = answer
    invitation.answered_at = since or NOW
    invitation.waiting_since = (since or NOW) if answer is Answer.WAITING else None
    db.session.commit()


def database_snapshot() -> dict[str, list[str]]:
    """Every row of every table, as text, in a stable order."""
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        snapshot[table.name] = sorted(repr(tuple(row)) for row in rows)
    return snapshot
