"""Sending a colleague in one's place ("je me fais remplacer") from the personal page."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Contact, Invitation, OutboxMessage
from tests.factories import ContactFactory
from tests.invitee_helpers import a_meeting, database_snapshot, invite, set_answer


def upcoming_meeting(**fields):
    return a_meeting(datetime.now(UTC), **fields)


def invite_now(meeting, **fields):
    return invite(meeting, datetime.now(UTC), **fields)


def send(client, token: str, **values):
    data = {"first_name": "Bruno", "last_name": "Martin", "email": "bruno.martin@example.org"}
    data.update(values)
    return client.post(f"/i/{token}/substitute", data=data)


def emails(kind: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def test_a_new_colleague_takes_the_place_and_gets_their_own_link(client):
    client.set_cookie("lang", "en")
    meeting = upcoming_meeting(capacity=1)
    invitation, token = invite_now(meeting, first_name="Anne", last_name="Koenders")
    set_answer(invitation, Answer.COMING)
    _waiting, _ = invite_now(meeting)
    set_answer(_waiting, Answer.WAITING)

    response = send(client, token)

    assert response.status_code == 302
    page = client.get(f"/i/{token}").text
    assert "Bruno Martin will attend in your place" in page
    db.session.expire_all()
    assert invitation.answer is Answer.NOT_COMING
    substitute = db.session.scalar(
        select(Invitation).where(Invitation.replaces_id == invitation.id)
    )
    # The place passes to the colleague, not to the first person waiting.
    assert substitute.answer is Answer.COMING and _waiting.answer is Answer.WAITING
    colleague = substitute.contact
    assert (colleague.first_name, colleague.last_name) == ("Bruno", "Martin")
    assert colleague.organisation_id == invitation.contact.organisation_id
    [email] = emails("substitute")
    assert email.to_address == "bruno.martin@example.org"
    assert "Anne Koenders" in email.subject and email.calendar_method == "REQUEST"
    [link] = set(re.findall(r"/i/([A-Za-z0-9_-]{40,})", email.text_body))
    assert link != token and "Bruno Martin" in client.get(f"/i/{link}").text
    assert invitation.contact.email in [message.to_address for message in emails("confirmation")]


def test_a_colleague_in_the_directory_is_found_by_address(client):
    meeting = upcoming_meeting()
    invitation, token = invite_now(meeting)
    colleague = ContactFactory(email="chloe@example.org", first_name="Chloé")
    db.session.commit()

    send(client, token, first_name="", last_name="X", email=" Chloe@Example.org ")

    substitute = db.session.scalar(
        select(Invitation).where(Invitation.replaces_id == invitation.id)
    )
    assert substitute.contact_id == colleague.id
    assert db.session.scalar(select(Contact).where(Contact.last_name == "X")) is None


def test_without_a_place_the_colleague_follows_the_capacity(client):
    meeting = upcoming_meeting(capacity=1)
    taken, _ = invite_now(meeting)
    set_answer(taken, Answer.COMING)
    invitation, token = invite_now(meeting)

    send(client, token)

    substitute = db.session.scalar(
        select(Invitation).where(Invitation.replaces_id == invitation.id)
    )
    assert substitute.answer is Answer.WAITING
    assert "position 1" in emails("substitute")[0].text_body.replace("\n", " ")


def test_mistakes_are_shown_next_to_their_field_and_the_details_kept(client):
    client.set_cookie("lang", "en")
    meeting = upcoming_meeting()
    invitation, token = invite_now(meeting, email="anne@example.org")
    _other, _ = invite_now(meeting, email="deja@example.org", first_name="Déjà", last_name="Là")
    before = database_snapshot()

    cases = [
        ({"last_name": ""}, "Please give a last name."),
        ({"email": "pas-une-adresse"}, "This is not a valid e-mail address."),
        ({"email": "anne@example.org"}, "Give the address of the colleague, not yours."),
        ({"email": "deja@example.org"}, "Déjà Là is already invited"),
    ]
    for values, message in cases:
        response = send(client, token, **values)
        assert response.status_code == 400
        assert message in response.text
        assert 'class="invitee-substitute" open' in response.text
        assert 'value="Bruno"' in response.text
    assert database_snapshot() == before


def test_after_the_deadline_nobody_is_sent(client):
    client.set_cookie("lang", "en")
    meeting = upcoming_meeting(answer_deadline=datetime.now(UTC) - timedelta(hours=1))
    invitation, token = invite_now(meeting)

    response = send(client, token)

    assert response.status_code == 302
    assert "Answers closed on" in client.get(f"/i/{token}").text
    assert (
        db.session.scalar(select(Invitation).where(Invitation.replaces_id == invitation.id)) is None
    )
    assert "Send a colleague in my place" not in client.get(f"/i/{token}").text


def test_the_link_and_its_token_are_checked(csrf_app):
    client = csrf_app.test_client()
    _invitation, token = invite_now(upcoming_meeting())
    assert send(client, token).status_code == 400
    assert send(client, "A" * 43).status_code == 404


def test_the_organisers_list_says_who_replaces_whom(client, login):
    meeting = upcoming_meeting()
    invitation, token = invite_now(meeting, first_name="Anne", last_name="Koenders")
    send(client, token)
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")

    page = client.get(f"/meetings/{meeting.id}/invitations/").text

    assert "replaced by Bruno Martin" in page
    assert "in place of Anne Koenders" in page
