"""Moderated registrations: a confirmed registration awaits an organiser's approval and holds no
place until then; approval and refusal are e-mailed. Also the organisers' list of
registrations, its permissions, and the review of organisations typed in the public form."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Answer,
    Contact,
    Invitation,
    MeetingVisibility,
    Organisation,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from app.registrations import services
from tests.factories import OrganisationFactory, UserFactory
from tests.invitee_helpers import a_meeting, database_snapshot, invite, set_answer

CONFIRM_LINK = re.compile(r"http://localhost(/r/[A-Za-z0-9_-]+)")
PERSONAL_LINK = re.compile(r"http://localhost(/i/[A-Za-z0-9_-]+)")


def moderated_meeting(**fields):
    values = {
        "visibility": MeetingVisibility.OPEN,
        "slug": "atelier-parentalite",
        "title": "Atelier parentalité",
        "registrations_moderated": True,
    }
    values.update(fields)
    return a_meeting(now=datetime.now(UTC), **values)


def awaiting(meeting, email="zoe.lambert@example.net", organisation_name="") -> Registration:
    """A registration whose address is confirmed, awaiting approval."""
    now = datetime.now(UTC)
    data = services.RegistrationData(
        last_name="Lambert", first_name="Zoé", email=email, organisation_name=organisation_name
    )
    services.register(meeting, data, now)
    registration = db.session.scalar(
        select(Registration).where(Registration.email == email).order_by(Registration.id.desc())
    )
    assert services.confirm(registration, now) is None
    db.session.commit()
    return registration


def parts(message) -> dict:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


# Confirming on a moderated meeting


def test_a_confirmed_registration_awaits_approval_and_holds_no_place(app, english):
    meeting = moderated_meeting(capacity=1)
    english.post(
        f"/m/{meeting.slug}/register",
        data={
            "first_name": "Zoé",
            "last_name": "Lambert",
            "email": "zoe@example.net",
            "consent": "y",
        },
    )
    message = db.session.scalar(select(OutboxMessage))
    (path,) = set(CONFIRM_LINK.findall(message.text_body))

    response = english.post(path)

    assert response.location == path
    page = english.get(path).text
    assert "Your registration awaits the organisers' approval" in page
    registration = db.session.scalar(select(Registration))
    assert registration.status is RegistrationStatus.AWAITING_APPROVAL
    assert registration.confirmed_at is not None
    assert db.session.scalar(select(func.count(Contact.id))) == 0
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    assert "1 place left" in english.get(f"/m/{meeting.slug}").text


def test_registering_again_while_awaiting_approval_says_so_by_email(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    meeting = moderated_meeting()
    awaiting(meeting)
    data = services.RegistrationData(last_name="L", email="zoe.lambert@example.net")

    # Within ten minutes of the first e-mail, nothing more is sent.
    assert services.register(meeting, data, datetime.now(UTC)) == "throttled"
    outcome = services.register(meeting, data, datetime.now(UTC) + timedelta(minutes=11))

    assert outcome == "already"
    assert db.session.scalar(select(func.count(Registration.id))) == 1
    latest = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert latest.kind == "registration_already"
    assert "already awaits the organisers' approval" in latest.text_body
    assert not PERSONAL_LINK.search(latest.text_body)


# The organisers' list


def test_the_list_shows_registrations_with_counts_search_and_filter(app, english, login, organiser):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    awaiting(meeting, "zoe.lambert@example.net")
    awaiting(meeting, "paul.martin@example.net")
    services.register(
        meeting,
        services.RegistrationData(last_name="Nouveau", email="new@example.net"),
        datetime.now(UTC),
    )
    db.session.commit()

    page = english.get(f"/meetings/{meeting.id}/registrations").text
    searched = english.get(f"/meetings/{meeting.id}/registrations?q=paul").text
    filtered = english.get(f"/meetings/{meeting.id}/registrations?status=unconfirmed").text

    assert "zoe.lambert@example.net" in page and "new@example.net" in page
    assert "Awaiting approval</a>: <strong>2</strong>" in page
    assert "paul.martin@example.net" in searched and "zoe.lambert" not in searched
    assert "new@example.net" in filtered and "zoe.lambert" not in filtered
    assert page.count(">Approve</button>") == 2


def test_the_list_is_paginated(app, english, login, organiser):
    app.config["PAGE_SIZE"] = 2
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    for number in range(3):
        awaiting(meeting, f"person{number}@example.net")

    page = english.get(f"/meetings/{meeting.id}/registrations").text
    second = english.get(f"/meetings/{meeting.id}/registrations?page=2").text

    assert page.count("@example.net</a>") == 2
    assert second.count("@example.net</a>") == 1


def test_only_the_meetings_organisers_see_its_registrations(app, client, login, organiser):
    meeting = moderated_meeting(organisers=[organiser])
    registration = awaiting(meeting)
    paths = [
        ("get", f"/meetings/{meeting.id}/registrations"),
        ("post", f"/meetings/{meeting.id}/registrations/{registration.id}/approve"),
        ("get", f"/meetings/{meeting.id}/registrations/{registration.id}/refuse"),
        ("post", f"/meetings/{meeting.id}/registrations/{registration.id}/refuse"),
    ]

    for method, path in paths:
        response = getattr(client, method)(path)
        assert response.status_code == 302 and "/login" in response.location
    login(UserFactory())
    for method, path in paths:
        assert getattr(client, method)(path).status_code == 403
    assert registration.status is RegistrationStatus.AWAITING_APPROVAL


def test_another_meetings_registration_is_not_found(app, client, login, organiser):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    other = moderated_meeting(slug="autre")
    registration = awaiting(other)

    response = client.post(f"/meetings/{meeting.id}/registrations/{registration.id}/approve")

    assert response.status_code == 404


# Approving and refusing


def test_approving_makes_an_invitee_and_emails_them(app, english, login, organiser, smtp):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    OrganisationFactory(name="Collège Rameau", town="")
    registration = awaiting(meeting, organisation_name="College Rameau")

    response = english.post(f"/meetings/{meeting.id}/registrations/{registration.id}/approve")

    assert response.status_code == 302
    assert "is registered (Coming) and told by e-mail" in english.get(response.location).text
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.ACCEPTED
    assert registration.decided_by_id == organiser.id
    invitation = registration.invitation
    assert invitation.answer is Answer.COMING
    assert invitation.contact.self_registered is True
    assert invitation.contact.organisation.name == "Collège Rameau"
    # One e-mail after the link's: the approval, which carries what the confirmation would.
    assert [message.kind for message in db.session.scalars(select(OutboxMessage))] == [
        "registration_confirm",
        "registration_approved",
    ]
    message = smtp.messages[-1]
    assert smtp.recipients[-1] == "zoe.lambert@example.net"
    assert message["Subject"].endswith("Atelier parentalité")
    found = parts(message)
    assert "text/calendar" in found
    (path,) = set(PERSONAL_LINK.findall(found["text/plain"].get_content()))
    assert english.get(path).status_code == 200


def test_approving_when_full_puts_on_the_waiting_list(app, client, login, organiser, smtp):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser], capacity=1)
    taken, _token = invite(meeting)
    set_answer(taken, Answer.COMING)
    registration = awaiting(meeting)

    client.post(f"/meetings/{meeting.id}/registrations/{registration.id}/approve")

    db.session.refresh(registration)
    assert registration.invitation.answer is Answer.WAITING
    message = smtp.messages[-1]
    assert "text/calendar" not in parts(message)
    assert "liste d'attente" in parts(message)["text/plain"].get_content()


def test_refusing_asks_for_confirmation_then_emails_the_reason(
    app, english, login, organiser, smtp
):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    registration = awaiting(meeting)
    path = f"/meetings/{meeting.id}/registrations/{registration.id}/refuse"

    before = database_snapshot()
    page = english.get(path)
    assert database_snapshot() == before
    assert "Refuse the registration of Zoé Lambert" in page.text

    response = english.post(path, data={"reason": "Réservé aux bénévoles des écoles."})

    assert response.status_code == 302
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.REFUSED
    assert registration.refusal_reason == "Réservé aux bénévoles des écoles."
    assert registration.decided_at is not None
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    message = smtp.messages[-1]
    assert smtp.recipients[-1] == "zoe.lambert@example.net"
    assert db.session.scalars(select(OutboxMessage.kind)).all()[-1] == "registration_refused"
    assert "Réservé aux bénévoles des écoles." in parts(message)["text/plain"].get_content()
    assert "Réservé aux bénévoles des écoles." in parts(message)["text/html"].get_content()


def test_a_decided_registration_cannot_be_decided_again(app, english, login, organiser):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    registration = awaiting(meeting)
    english.post(f"/meetings/{meeting.id}/registrations/{registration.id}/refuse", data={})

    response = english.post(f"/meetings/{meeting.id}/registrations/{registration.id}/approve")

    assert "This registration is not awaiting approval." in english.get(response.location).text
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.REFUSED
    assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_approving_a_cancelled_meetings_registration_is_refused(app, english, login, organiser):
    login(organiser)
    meeting = moderated_meeting(organisers=[organiser])
    registration = awaiting(meeting)
    meeting.status = meeting.status.CANCELLED
    db.session.commit()

    response = english.post(f"/meetings/{meeting.id}/registrations/{registration.id}/approve")

    assert "This meeting is cancelled." in english.get(response.location).text
    assert db.session.scalar(select(func.count(Contact.id))) == 0


def test_the_refused_persons_link_says_so(app, english):
    meeting = moderated_meeting()
    now = datetime.now(UTC)
    services.register(meeting, services.RegistrationData(last_name="L", email="z@example.net"), now)
    db.session.commit()
    (path,) = set(CONFIRM_LINK.findall(db.session.scalar(select(OutboxMessage)).text_body))
    english.post(path)
    registration = db.session.scalar(select(Registration))
    services.refuse(registration, UserFactory(), "Complet pour les associations.", now)
    db.session.commit()

    page = english.get(path).text

    assert "Your registration was not accepted" in page
    assert "Complet pour les associations." in page


# Organisations to review


def test_organisations_from_registrations_are_marked_and_filtered(app, english, login, organiser):
    login(organiser)
    OrganisationFactory(name="Connue")
    new = OrganisationFactory(name="Tapée par un visiteur", pending_review=True)

    everyone = english.get("/organisations/").text
    to_review = english.get("/organisations/?to_review=y").text

    assert "To review" in everyone and "Connue" in everyone
    assert "Tapée par un visiteur" in to_review and "Connue" not in to_review
    assert "1 organisation added by a public registration awaits review." in everyone
    assert "Mark as reviewed" in english.get(f"/organisations/{new.id}").text


def test_marking_an_organisation_reviewed(app, english, login, organiser):
    login(organiser)
    new = OrganisationFactory(name="Tapée par un visiteur", pending_review=True)

    assert english.get(f"/organisations/{new.id}/reviewed").status_code == 405
    response = english.post(f"/organisations/{new.id}/reviewed")

    assert response.status_code == 302
    db.session.refresh(new)
    assert new.pending_review is False
    assert "Mark as reviewed" not in english.get(f"/organisations/{new.id}").text
    assert "awaits review" not in english.get("/organisations/").text


def test_marking_reviewed_needs_a_login_and_the_csrf_token(csrf_app, organiser):
    client = csrf_app.test_client()
    new = OrganisationFactory(pending_review=True)

    anonymous = client.post(f"/organisations/{new.id}/reviewed")
    with client.session_transaction() as session:
        session["_user_id"] = str(organiser.id)
    without_token = client.post(f"/organisations/{new.id}/reviewed")

    assert anonymous.status_code in (302, 400)
    assert without_token.status_code == 400
    db.session.refresh(new)
    assert new.pending_review is True


def test_expired_or_not_an_expiry_time_leaves_awaiting_ones(app):
    meeting = moderated_meeting()
    registration = awaiting(meeting)

    services.expire_registrations(datetime.now(UTC) + timedelta(days=60))

    assert registration.status is RegistrationStatus.AWAITING_APPROVAL
    assert db.session.scalar(select(func.count(Organisation.id))) == 0


def test_refused_registrations_are_deleted_30_days_after_the_refusal(app, organiser):
    meeting = moderated_meeting(organisers=[organiser])
    registration = awaiting(meeting)
    now = datetime.now(UTC)
    services.refuse(registration, organiser, "", now)
    db.session.commit()

    assert services.expire_registrations(now + timedelta(days=29)) == (0, 0)
    assert services.expire_registrations(now + timedelta(days=30, minutes=1)) == (0, 1)
    assert db.session.scalar(select(func.count(Registration.id))) == 0
