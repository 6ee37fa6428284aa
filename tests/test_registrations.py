"""Self-registration to open meetings: the public form, the confirmation of the address by
e-mail (double opt-in, through a real SMTP server), capacity, expiry, and what the form never
reveals (whether an address is known)."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import expire_registrations_hourly
from app.models import (
    Answer,
    Civility,
    Contact,
    Invitation,
    MeetingQuestion,
    MeetingVisibility,
    Organisation,
    OutboxMessage,
    QuestionAnswer,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from app.registrations import services
from app.security import RedactPersonalLinks
from tests.factories import ContactFactory, OrganisationFactory
from tests.invitee_helpers import a_meeting, database_snapshot, invite, set_answer

CONFIRM_LINK = re.compile(r"http://localhost(/r/[A-Za-z0-9_-]+)")
PERSONAL_LINK = re.compile(r"http://localhost(/i/[A-Za-z0-9_-]+)")
CSRF_VALUE = re.compile(
    r'name="csrf_token" type="hidden" value="[^"]*"|value="[^"]*" name="csrf_token"'
)


def open_meeting(**fields):
    values = {
        "visibility": MeetingVisibility.OPEN,
        "slug": "forum-des-benevoles",
        "title": "Forum des bénévoles",
    }
    values.update(fields)
    return a_meeting(now=datetime.now(UTC), **values)


def form(**changes) -> dict:
    values = {
        "civility": "mme",
        "first_name": "Zoé",
        "last_name": "Lambert",
        "email": "Zoe.Lambert@example.net",
        "organisation": "Association Lire et faire lire",
        "function": "Bénévole",
        "consent": "y",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def register(client, meeting, **changes):
    return client.post(f"/m/{meeting.slug}/register", data=form(**changes))


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def confirm_path(message) -> str:
    (path,) = set(CONFIRM_LINK.findall(text_of(message)))
    return path


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


# Registering


def test_registering_stores_an_unconfirmed_registration_and_sends_the_link(app, english, smtp):
    meeting = open_meeting()
    before = datetime.now(UTC)

    response = register(english, meeting)

    assert response.status_code == 302
    assert response.location == f"/m/{meeting.slug}/registered"
    registration = db.session.scalar(select(Registration))
    assert registration.status is RegistrationStatus.UNCONFIRMED
    assert registration.email == "zoe.lambert@example.net"
    assert registration.civility is Civility.MS
    assert registration.organisation_name == "Association Lire et faire lire"
    assert "used only to organise this meeting" in registration.consent_text
    expires_in = registration.expires_at.replace(tzinfo=UTC) - before
    assert timedelta(hours=47, minutes=59) < expires_in <= timedelta(hours=48, minutes=1)
    # Nothing in the directory, no place taken.
    assert db.session.scalar(select(func.count(Contact.id))) == 0
    assert db.session.scalar(select(func.count(Invitation.id))) == 0

    (message,) = smtp.messages
    assert smtp.recipients == ["zoe.lambert@example.net"]
    assert "Forum des bénévoles" in message["Subject"]
    assert message["Reply-To"] == "Claire Martin <claire.martin@federation.example.org>"
    path = confirm_path(message)
    assert f"http://localhost{path}" in html_of(message)
    assert "Bonjour Mme Lambert," in text_of(message)
    # Only the hash of the link's token is kept.
    token = path.removeprefix("/r/")
    assert len(token) >= 43
    assert registration.token_hash == services.hash_token(token)
    assert token not in registration.token_hash


def test_the_check_your_inbox_page(english):
    meeting = open_meeting()

    page = english.get(f"/m/{meeting.slug}/registered").text

    assert "Check your inbox" in page
    assert "within 48 hours" in page


def test_errors_show_next_to_the_fields_and_keep_what_was_typed(english):
    meeting = open_meeting()

    response = register(english, meeting, email="not-an-address", last_name="", consent=None)

    assert response.status_code == 200
    page = response.text
    assert "This is not a valid e-mail address." in page
    assert "Please give your last name." in page
    assert "Please agree to register." in page
    assert 'value="Zoé"' in page
    assert 'value="Association Lire et faire lire"' in page
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_the_form_needs_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    meeting = open_meeting()

    response = client.post(f"/m/{meeting.slug}/register", data=form())

    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_no_registration_once_closed(english):
    meeting = open_meeting(answer_deadline=datetime.now(UTC) - timedelta(minutes=5))

    response = register(english, meeting)

    assert response.status_code == 302
    assert response.location == f"/m/{meeting.slug}"
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    assert "Registrations closed on" in english.get(response.location).text


# Confirming


def test_the_whole_double_opt_in_through_a_real_smtp_server(app, english, smtp):
    meeting = open_meeting(capacity=10)
    register(english, meeting)
    path = confirm_path(smtp.messages[0])

    before = database_snapshot()
    page = english.get(path)
    assert database_snapshot() == before  # GET changes nothing
    assert page.status_code == 200
    assert "Confirm my registration" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"

    response = english.post(path)

    assert response.status_code == 302
    assert PERSONAL_LINK.match(f"http://localhost{response.location}")
    registration = db.session.scalar(select(Registration))
    assert registration.status is RegistrationStatus.ACCEPTED
    assert registration.confirmed_at is not None
    contact = db.session.scalar(select(Contact))
    assert contact.email == "zoe.lambert@example.net"
    assert contact.self_registered is True
    assert (contact.first_name, contact.last_name) == ("Zoé", "Lambert")
    assert contact.function == "Bénévole"
    assert contact.civility is Civility.MS
    assert contact.organisation.name == "Association Lire et faire lire"
    assert contact.organisation.pending_review is True
    invitation = registration.invitation
    assert invitation.contact_id == contact.id
    assert invitation.answer is Answer.COMING
    assert invitation.invited_at is not None

    # The usual confirmation, with the calendar file and a personal link of its own.
    confirmation = smtp.messages[1]
    assert smtp.recipients[1] == "zoe.lambert@example.net"
    assert confirmation["Subject"] == "Votre place est confirmée : Forum des bénévoles"
    calendar = next(
        part for part in confirmation.walk() if part.get_content_type() == "text/calendar"
    )
    event = Calendar.from_ical(calendar.get_content()).walk("VEVENT")[0]
    assert str(event["ATTENDEE"]) == "mailto:zoe.lambert@example.net"
    (personal_path,) = set(PERSONAL_LINK.findall(text_of(confirmation)))
    assert english.get(personal_path).status_code == 200

    # The personal page the confirmation leads to.
    personal = english.get(response.location)
    assert personal.status_code == 200
    assert "You will attend." in personal.text


def test_confirming_needs_the_links_form_token(csrf_app):
    client = csrf_app.test_client()
    meeting = open_meeting()
    token = make_registration(meeting)

    refused = client.post(f"/r/{token}")
    other = client.post(f"/r/{token}", data={"csrf_token": "0" * 64})
    page = client.get(f"/r/{token}").text
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    accepted = client.post(f"/r/{token}", data={"csrf_token": form_token})

    assert refused.status_code == 400
    assert other.status_code == 400
    assert accepted.status_code == 302
    assert db.session.scalar(select(Registration)).status is RegistrationStatus.ACCEPTED


def make_registration(meeting, now=None, **changes) -> str:
    """A registration made through the service, and the token of its link."""
    now = now or datetime.now(UTC)
    data = services.RegistrationData(
        last_name=changes.pop("last_name", "Lambert"),
        email=changes.pop("email", "zoe.lambert@example.net"),
        first_name="Zoé",
        **changes,
    )
    assert services.register(meeting, data, now) == "registered"
    db.session.commit()
    message = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)
    ).one()
    (path,) = set(CONFIRM_LINK.findall(message.text_body))
    return path.removeprefix("/r/")


@pytest.mark.parametrize("token", ["A" * 43, "short", "é" * 43])
def test_bad_links_are_not_found(client, token):
    open_meeting()

    assert client.get(f"/r/{token}").status_code == 404
    assert client.post(f"/r/{token}").status_code == 404


def test_a_full_meeting_puts_the_registrant_on_the_waiting_list(app, english, smtp):
    meeting = open_meeting(capacity=1)
    taken, _token = invite(meeting)
    set_answer(taken, Answer.COMING)
    token = make_registration(meeting)

    response = english.post(f"/r/{token}")

    invitation = db.session.scalar(select(Registration)).invitation
    assert invitation.answer is Answer.WAITING
    assert "waiting list, in position 1" in english.get(response.location).text
    assert "liste d'attente, en position 1" in text_of(smtp.messages[-1])


def test_an_unconfirmed_registration_holds_no_place(app, english):
    meeting = open_meeting(capacity=1)
    make_registration(meeting, email="first@example.net")
    later = make_registration(meeting, email="second@example.net")

    english.post(f"/r/{later}")

    second = db.session.scalar(
        select(Registration).where(Registration.email == "second@example.net")
    )
    assert second.invitation.answer is Answer.COMING
    assert "Full — waiting list" in english.get(f"/m/{meeting.slug}").text


def test_a_known_address_attaches_to_its_contact(app, english):
    meeting = open_meeting()
    organisation = OrganisationFactory(name="Centre social Grésilles")
    known = ContactFactory(
        email="zoe.lambert@example.net", last_name="Lambert-Durand", organisation=organisation
    )
    token = make_registration(meeting, organisation_name="Autre chose")

    english.post(f"/r/{token}")

    assert db.session.scalar(select(func.count(Contact.id))) == 1
    invitation = db.session.scalar(select(Invitation))
    assert invitation.contact_id == known.id
    # What the organisers wrote stays.
    assert known.last_name == "Lambert-Durand"
    assert known.organisation_id == organisation.id
    assert known.self_registered is False
    assert db.session.scalar(select(func.count(Organisation.id))) == 1


def test_a_directory_organisation_named_exactly_is_chosen(app, english):
    meeting = open_meeting()
    existing = OrganisationFactory(name="Collège Rameau", town="Dijon")
    token = make_registration(meeting, organisation_name="college rameau")

    english.post(f"/r/{token}")

    contact = db.session.scalar(select(Contact))
    assert contact.organisation_id == existing.id
    assert db.session.scalar(select(func.count(Organisation.id))) == 1


def test_a_picked_suggestion_is_kept_when_the_text_matches_it(app, english):
    meeting = open_meeting()
    OrganisationFactory(name="Collège Rameau", town="Dijon")
    picked = OrganisationFactory(name="Collège Rameau", town="Chenôve")

    register(english, meeting, organisation="Collège Rameau (Chenôve)", organisation_id=picked.id)
    # A suggestion id that does not match the text is ignored.
    register(
        english, meeting, email="other@example.net", organisation="Autre", organisation_id=picked.id
    )

    first, second = db.session.scalars(select(Registration).order_by(Registration.id))
    assert first.organisation_id == picked.id
    assert second.organisation_id is None


def test_the_answers_to_the_questions_are_saved(app, english):
    meeting = open_meeting()
    diet = MeetingQuestion(
        meeting=meeting, position=1, kind=QuestionKind.SHORT_TEXT, label="Régime", required=True
    )
    workshop = MeetingQuestion(
        meeting=meeting,
        position=2,
        kind=QuestionKind.SINGLE_CHOICE,
        label="Atelier",
        choices="Lecture\nÉcriture",
    )
    db.session.add_all([diet, workshop])
    db.session.commit()

    page = english.get(f"/m/{meeting.slug}").text
    assert "Régime" in page and "Écriture" in page
    missing = register(english, meeting)
    assert missing.status_code == 200
    assert "Please answer this question." in missing.text

    register(
        english,
        meeting,
        **{f"question_{diet.id}": "Végétarien", f"question_{workshop.id}": "Écriture"},
    )
    registration = db.session.scalar(select(Registration))
    token_message = db.session.scalars(select(OutboxMessage)).one()
    (path,) = set(CONFIRM_LINK.findall(token_message.text_body))
    english.post(path)

    saved = {
        row.question_id: row.value
        for row in db.session.scalars(
            select(QuestionAnswer).where(QuestionAnswer.invitation_id == registration.invitation_id)
        )
    }
    assert saved == {diet.id: '["Végétarien"]', workshop.id: '["Écriture"]'}


# Used, expired and closed links


def test_a_used_link_says_the_registration_is_already_confirmed(app, english):
    meeting = open_meeting()
    token = make_registration(meeting)
    english.post(f"/r/{token}")
    links = db.session.scalar(select(func.count()).select_from(Invitation))

    again = english.post(f"/r/{token}")
    page = english.get(f"/r/{token}").text

    assert again.status_code == 302
    assert again.location == f"/r/{token}"
    assert "Your registration is already confirmed" in page
    assert "sent to you by e-mail" in page
    assert "Confirm my registration" not in page
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == links


def test_unconfirmed_registrations_expire_after_48_hours(app, english):
    meeting = open_meeting()
    now = datetime.now(UTC)
    token = make_registration(meeting, now=now)

    assert services.expire_registrations(now + timedelta(hours=47)) == (0, 0)
    assert services.expire_registrations(now + timedelta(hours=49)) == (1, 0)
    db.session.commit()

    registration = db.session.scalar(select(Registration))
    assert registration.status is RegistrationStatus.EXPIRED
    page = english.get(f"/r/{token}").text
    assert "This link has expired" in page
    assert f'href="/m/{meeting.slug}"' in page
    assert english.post(f"/r/{token}").location == f"/r/{token}"
    assert db.session.scalar(select(func.count(Contact.id))) == 0


def test_a_link_past_its_time_is_expired_before_the_job_runs(app, english):
    meeting = open_meeting()
    token = make_registration(meeting, now=datetime.now(UTC) - timedelta(hours=49))

    assert "This link has expired" in english.get(f"/r/{token}").text
    english.post(f"/r/{token}")

    assert db.session.scalar(select(Registration)).status is RegistrationStatus.UNCONFIRMED
    assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_expired_registrations_are_deleted_after_30_days(app):
    meeting = open_meeting()
    now = datetime.now(UTC)
    make_registration(meeting, now=now)
    services.expire_registrations(now + timedelta(hours=49))

    # Counted from the expiry, 48 hours after registering.
    assert services.expire_registrations(now + timedelta(days=31)) == (0, 0)
    assert services.expire_registrations(now + timedelta(days=32, hours=1)) == (0, 1)
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_the_hourly_job_expires_registrations(app):
    meeting = open_meeting()
    make_registration(meeting, now=datetime.now(UTC) - timedelta(hours=49))

    expire_registrations_hourly.call_local()

    db.session.expire_all()
    assert db.session.scalar(select(Registration)).status is RegistrationStatus.EXPIRED


def test_confirming_after_the_deadline_is_refused(app, english):
    meeting = open_meeting()
    token = make_registration(meeting)
    meeting.answer_deadline = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()

    response = english.post(f"/r/{token}")

    assert response.location == f"/r/{token}"
    assert "Registrations closed on" in english.get(f"/r/{token}").text
    assert db.session.scalar(select(Registration)).status is RegistrationStatus.UNCONFIRMED
    assert db.session.scalar(select(func.count(Contact.id))) == 0


# What the form never reveals


def test_a_known_address_gets_the_same_answer_and_its_personal_link(csrf_app):
    csrf_app.config["BABEL_DEFAULT_LOCALE"] = "en"
    client = csrf_app.test_client()
    client.set_cookie("lang", "en")
    meeting = open_meeting()
    invitation, _token = invite(meeting, email="known@example.net")
    page = client.get(f"/m/{meeting.slug}").text
    csrf_token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    csrf_token = csrf_token.group(1)

    responses = [
        client.post(f"/m/{meeting.slug}/register", data=form(email=address, csrf_token=csrf_token))
        for address in ("known@example.net", "unknown@example.net")
    ]

    known, unknown = responses
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    assert known.get_data() == unknown.get_data()
    pages = [client.get(response.location).text for response in responses]
    assert CSRF_VALUE.sub("", pages[0]) == CSRF_VALUE.sub("", pages[1])
    # Only the unknown address made a registration; the known one got its link.
    assert [each.email for each in db.session.scalars(select(Registration))] == [
        "unknown@example.net"
    ]
    already = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == "known@example.net")
    )
    assert already.kind == "registration_already"
    assert "already registered or invited" in already.text_body
    (path,) = set(PERSONAL_LINK.findall(already.text_body))
    assert client.get(path).status_code == 200
    assert invitation.answer is Answer.NONE


def test_the_already_registered_email_arrives_through_smtp(app, english, smtp):
    meeting = open_meeting()
    invite(meeting, email="known@example.net")

    register(english, meeting, email="KNOWN@example.net")

    (message,) = smtp.messages
    assert smtp.recipients == ["known@example.net"]
    assert "Forum des bénévoles" in message["Subject"]
    assert db.session.scalar(select(OutboxMessage.kind)) == "registration_already"
    assert PERSONAL_LINK.search(text_of(message))
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_one_email_per_address_and_meeting_in_ten_minutes(app, english):
    meeting = open_meeting()

    responses = [register(english, meeting) for _number in range(3)]

    assert {response.location for response in responses} == {f"/m/{meeting.slug}/registered"}
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert db.session.scalar(select(func.count(Registration.id))) == 1
    now = datetime.now(UTC)
    data = services.RegistrationData(last_name="Lambert", email="zoe.lambert@example.net")
    assert services.register(meeting, data, now + timedelta(minutes=11)) == "registered"


# Robots


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_kept(app, english, smtp):
    meeting = open_meeting()
    before = database_snapshot()

    response = register(english, meeting, website="https://spam.example")

    assert response.status_code == 302
    assert response.location == f"/m/{meeting.slug}/registered"
    assert database_snapshot() == before
    assert smtp.messages == []


def test_registrations_are_rate_limited_per_address(app, english):
    app.config["REGISTRATION_RATE_LIMIT"] = "2 per hour"
    meeting = open_meeting()

    statuses = [
        register(english, meeting, email=f"person{number}@example.net").status_code
        for number in range(3)
    ]
    other = english.post(
        f"/m/{meeting.slug}/register",
        data=form(email="elsewhere@example.net"),
        environ_base={"REMOTE_ADDR": "192.0.2.9"},
    )

    assert statuses == [302, 302, 429]
    assert other.status_code == 302
    # The page itself stays readable.
    assert english.get(f"/m/{meeting.slug}").status_code == 200


def test_the_confirmation_links_token_is_kept_out_of_the_logs(app):
    token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
    record = logging.LogRecord(
        "werkzeug", logging.INFO, "x", 1, '"%s" %s', (f"POST /r/{token} HTTP/1.1", 302), None
    )
    personal = logging.LogRecord("werkzeug", logging.INFO, "x", 1, f"GET /i/{token}", (), None)

    assert RedactPersonalLinks().filter(record) is True
    assert RedactPersonalLinks().filter(personal) is True

    assert record.getMessage() == '"POST /r/[redacted] HTTP/1.1" 302'
    assert personal.getMessage() == "GET /i/[redacted]"
    assert any(
        isinstance(each, RedactPersonalLinks) for each in logging.getLogger("werkzeug").filters
    )


def test_the_confirmation_page_sets_no_cookie_and_switches_language_by_its_token(csrf_app):
    client = csrf_app.test_client()
    meeting = open_meeting()
    token = make_registration(meeting)

    page = client.get(f"/r/{token}")
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = client.post(f"/r/{token}/language", data={"language": "en"})
    switched = client.post(
        f"/r/{token}/language", data={"language": "en", "csrf_token": form_token}
    )

    assert "Set-Cookie" not in page.headers
    assert refused.status_code == 400
    assert switched.status_code == 302
    assert switched.location == f"/r/{token}"
    assert switched.headers["Referrer-Policy"] == "no-referrer"
    assert "Confirm my registration" in client.get(f"/r/{token}").text
    assert db.session.scalar(select(Registration)).status is RegistrationStatus.UNCONFIRMED


def test_the_answer_list_says_who_registered_on_the_public_page(app, english, login):
    meeting = open_meeting()
    english.post(f"/r/{make_registration(meeting)}")
    walk_in, _token = invite(meeting)
    walk_in.invited_at = datetime.now(UTC)
    not_sent = Invitation(meeting=meeting, contact=ContactFactory(last_name="Attente"))
    db.session.add(not_sent)
    db.session.commit()
    login(meeting.organisers[0])

    page = english.get(f"/meetings/{meeting.id}/invitations/").text
    csv = english.get(f"/meetings/{meeting.id}/invitations/answers.csv").text

    assert csv.count("Registered on the public page") == 1
    assert csv.count("No invitation e-mail") == csv.count("Not sent yet") == 1
    for state in ("registered", "no_email", "not_sent"):
        assert page.count(f'class="email-state email-{state}"') == 1
        shown = english.get(f"/meetings/{meeting.id}/invitations/?email={state}").text
        assert shown.count('class="email-state ') == 1
        assert f'class="email-state email-{state}"' in shown
