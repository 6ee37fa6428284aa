"""The home page after login: the organiser's upcoming meetings with their answer counts, the
reminders going out in the next 48 hours and the failed e-mails to look at."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.mail.outbox import RenderedEmail, queue_email
from app.main import services
from app.main.services import dashboard
from app.models import (
    Answer,
    Invitation,
    Meeting,
    MeetingStatus,
    MessageStatus,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Reminder,
    ReminderAudience,
    ReminderUnit,
    User,
)
from tests.factories import ContactFactory, MeetingFactory, UserFactory

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def a_meeting(organiser: User, starts_in: timedelta = timedelta(days=10), **fields) -> Meeting:
    """A meeting of `organiser` starting `starts_in` after the real clock (pages read it)."""
    starts_at = fields.pop("starts_at", datetime.now(UTC).replace(microsecond=0) + starts_in)
    return MeetingFactory(
        organisers=[organiser],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        **fields,
    )


def invite(meeting: Meeting, *answers: Answer) -> None:
    for answer in answers:
        db.session.add(
            Invitation(
                meeting=meeting,
                contact=ContactFactory(),
                answer=answer,
                invited_at=meeting.starts_at - timedelta(days=20),
            )
        )
    db.session.commit()


def a_reminder(meeting: Meeting, send_at: datetime, **fields) -> Reminder:
    values = {"amount": 1, "unit": ReminderUnit.DAYS, "audience": ReminderAudience.COMING}
    values.update(fields)
    reminder = Reminder(meeting=meeting, send_at=send_at, **values)
    db.session.add(reminder)
    db.session.commit()
    return reminder


def an_email(
    meeting: Meeting | None,
    status: MessageStatus = MessageStatus.FAILED,
    to_address: str = "someone@example.org",
    subject: str = "Invitation",
    created_at: datetime = NOW,
) -> OutboxMessage:
    message = queue_email(
        "invitation",
        to_address,
        RenderedEmail(subject=subject, text="Bonjour", html="<p>Bonjour</p>"),
        created_at,
        meeting=meeting,
    )
    message.status = status
    if status is MessageStatus.FAILED:
        message.last_error = "550 5.1.1 Mailbox unavailable"
    db.session.commit()
    return message


def english_page(client) -> str:
    client.set_cookie("lang", "en")
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# The page


def test_anonymous_visitor_is_sent_to_login(client, admin):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_organiser_sees_their_upcoming_meetings_with_answer_counts(as_organiser, organiser):
    mine = a_meeting(organiser, title="Réseau des centres sociaux")
    invite(mine, Answer.COMING, Answer.COMING, Answer.NOT_COMING, Answer.NONE, Answer.WAITING)
    draft = a_meeting(organiser, timedelta(days=20), title="Brouillon du groupe")
    draft.status = MeetingStatus.DRAFT
    a_meeting(UserFactory(), title="La réunion d'un collègue")
    a_meeting(organiser, timedelta(days=-3), title="Déjà passée")
    a_meeting(organiser, title="Annulée", status=MeetingStatus.CANCELLED)
    db.session.commit()

    page = english_page(as_organiser)

    assert page.count("<h1>") == 1
    assert "Réseau des centres sociaux" in page
    assert "Brouillon du groupe" in page
    assert "collègue" not in page
    assert "Déjà passée" not in page
    assert "Annulée" not in page
    assert page.index("Réseau des centres sociaux") < page.index("Brouillon du groupe")
    assert "<strong>5</strong> invited" in page
    assert "<strong>2</strong> coming" in page
    assert "<strong>1</strong> not coming" in page
    assert "<strong>1</strong> no answer" in page
    assert "<strong>1</strong> on the waiting list" in page
    assert f'href="/meetings/{mine.id}/invitations/"' in page
    assert "No one is invited yet." in page


def test_only_the_first_upcoming_meetings_are_listed_with_a_link_to_all(as_organiser, organiser):
    for number in range(services.MEETING_LIMIT + 2):
        a_meeting(organiser, timedelta(days=number + 1), title=f"Rencontre numéro {number:02}")

    page = english_page(as_organiser)

    assert f"Rencontre numéro {services.MEETING_LIMIT - 1:02}" in page
    assert f"Rencontre numéro {services.MEETING_LIMIT:02}" not in page
    assert "All meetings (2 more of yours to come)" in page
    assert 'href="/meetings/"' in page


def test_new_organiser_is_invited_to_create_a_first_meeting(as_organiser):
    page = english_page(as_organiser)

    assert "Create your first meeting" in page
    assert 'href="/meetings/new"' in page
    assert "No reminder goes out in the next 48 hours." in page
    assert "No failed e-mail" in page


def test_organiser_without_meetings_to_come_is_told_so(as_organiser, organiser):
    a_meeting(organiser, timedelta(days=-10))

    page = english_page(as_organiser)

    assert "You have no meeting to come." in page
    assert "Create your first meeting" not in page


def test_reminders_of_the_next_48_hours_are_listed(as_organiser, organiser):
    meeting = a_meeting(organiser, timedelta(days=3), title="Réunion de jeudi")
    a_reminder(meeting, datetime.now(UTC) + timedelta(hours=20), amount=2)
    a_reminder(meeting, datetime.now(UTC) + timedelta(hours=60), amount=7)

    page = english_page(as_organiser)

    assert "2 days before the start, to those coming" in page
    assert "7 days before the start" not in page
    assert f'href="/meetings/{meeting.id}/reminders"' in page


def test_recipient_counts_come_from_the_sending_rules(as_organiser, organiser, monkeypatch):
    meeting = a_meeting(organiser, timedelta(days=1))
    reminder = a_reminder(meeting, datetime.now(UTC) + timedelta(hours=2))
    asked = []

    def recipient_counts(reminders):
        asked.append([item.id for item in reminders])
        return {reminder.id: 37}

    monkeypatch.setattr(services, "recipient_counts", recipient_counts)

    page = english_page(as_organiser)

    assert asked == [[reminder.id]]
    assert re.search(r'<td class="numeric">\s*37\s*</td>', page)


def test_organiser_sees_the_failed_emails_of_their_meetings(as_organiser, organiser):
    mine = a_meeting(organiser, title="Ma réunion")
    theirs = a_meeting(UserFactory(), title="Leur réunion")
    an_email(mine, to_address="bounced@example.org")
    an_email(mine, MessageStatus.SENT, to_address="delivered@example.org")
    an_email(theirs, to_address="not-mine@example.org")
    an_email(None, to_address="no-meeting@example.org")

    page = english_page(as_organiser)

    assert "bounced@example.org" in page
    assert "550 5.1.1 Mailbox unavailable" in page
    assert f'href="/meetings/{mine.id}/invitations/?email=failed"' in page
    assert "delivered@example.org" not in page
    assert "not-mine@example.org" not in page
    assert "no-meeting@example.org" not in page
    assert "/emails/" not in page, "only administrators open the E-mails pages"


def test_administrator_sees_every_failed_email(as_admin, organiser):
    theirs = a_meeting(organiser, title="Leur réunion")
    failed = an_email(theirs, to_address="not-mine@example.org")
    an_email(None, to_address="no-meeting@example.org")
    for number in range(services.FAILED_EMAIL_LIMIT):
        an_email(None, to_address=f"old{number}@example.org", created_at=NOW - timedelta(days=1))

    page = english_page(as_admin)

    assert "not-mine@example.org" in page
    assert "no-meeting@example.org" in page
    assert f'href="/emails/{failed.id}"' in page
    assert "12 e-mails could not be delivered." in page
    assert "See all failed e-mails (2 more)" in page
    assert 'href="/emails/?status=failed"' in page


def test_page_queries_do_not_grow_with_meetings_invitations_and_emails(
    as_organiser, organiser, count_queries
):
    def page_queries(meetings: int) -> int:
        for number in range(meetings):
            meeting = a_meeting(organiser, timedelta(days=1, hours=number))
            invite(meeting, Answer.COMING, Answer.NOT_COMING, Answer.NONE)
            a_reminder(meeting, datetime.now(UTC) + timedelta(hours=number + 1))
            an_email(meeting)
        db.session.expire_all()
        with count_queries() as counter:
            assert as_organiser.get("/").status_code == 200
        return counter.count

    # Once the app knows an account exists, it stops asking.
    as_organiser.get("/")
    few = page_queries(2)
    # A third and more of the meetings, reminders and e-mails are beyond the page's limits.
    assert page_queries(18) == few


# The service


@pytest.fixture
def user(app):
    return UserFactory()


def test_upcoming_meetings_exclude_started_cancelled_and_others(user):
    soon = MeetingFactory(organisers=[user], starts_at=NOW + timedelta(hours=1))
    MeetingFactory(organisers=[user], starts_at=NOW - timedelta(hours=1))
    MeetingFactory(organisers=[user], status=MeetingStatus.CANCELLED)
    MeetingFactory(organisers=[UserFactory()])

    result = dashboard(user, NOW)

    assert [item.meeting for item in result.meetings] == [soon]
    assert result.meeting_total == 1
    assert result.has_meetings


def test_reminders_are_those_pending_in_the_next_48_hours_of_published_meetings(user):
    published = MeetingFactory(organisers=[user], starts_at=NOW + timedelta(days=3))
    draft = MeetingFactory(
        organisers=[user], starts_at=NOW + timedelta(days=1), status=MeetingStatus.DRAFT
    )
    others = MeetingFactory(organisers=[UserFactory()], starts_at=NOW + timedelta(days=1))
    in_one_hour = a_reminder(published, NOW + timedelta(hours=1))
    in_48_hours = a_reminder(published, NOW + timedelta(hours=48))
    a_reminder(published, NOW + timedelta(hours=48, minutes=1))
    a_reminder(published, NOW + timedelta(hours=2), done_at=NOW - timedelta(minutes=5))
    a_reminder(published, NOW - timedelta(minutes=1))
    a_reminder(published, None)
    a_reminder(draft, NOW + timedelta(hours=3))
    a_reminder(others, NOW + timedelta(hours=3))

    result = dashboard(user, NOW)

    assert [item.reminder for item in result.reminders] == [in_one_hour, in_48_hours]


def test_failed_emails_are_newest_first_and_counted(user):
    meeting = MeetingFactory(organisers=[user])
    older = an_email(meeting, created_at=NOW - timedelta(hours=2))
    newer = an_email(meeting, created_at=NOW - timedelta(hours=1))

    result = dashboard(user, NOW)

    assert result.failed_emails == [newer, older]
    assert result.failed_total == 2
    assert result.more_failed_emails == 0


def test_a_new_organiser_has_an_empty_dashboard(user):
    result = dashboard(user, NOW)

    assert result.meetings == [] and result.reminders == [] and result.failed_emails == []
    assert not result.has_meetings


def test_registrations_awaiting_approval_are_shown_with_a_link(as_organiser, organiser):
    meeting = a_meeting(organiser, registrations_moderated=True)
    other = a_meeting(organiser)
    now = datetime.now(UTC)
    for number, status in enumerate(
        [RegistrationStatus.AWAITING_APPROVAL] * 2 + [RegistrationStatus.UNCONFIRMED]
    ):
        db.session.add(
            Registration(
                meeting=meeting,
                status=status,
                last_name="Lambert",
                email=f"zoe{number}@example.net",
                token_hash=f"{number:064d}",
                expires_at=now + timedelta(hours=48),
            )
        )
    db.session.commit()
    as_organiser.set_cookie("lang", "en")

    page = as_organiser.get("/").text

    assert page.count("registrations await your approval") == 1
    assert "2 registrations await your approval" in page
    link = f"/meetings/{meeting.id}/registrations?status=awaiting_approval"
    assert link in page
    assert services.dashboard(organiser, now).meetings[1].meeting == other
