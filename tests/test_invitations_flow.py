"""End to end through a real SMTP server: invite, receive the e-mail, follow its link, answer,
receive the confirmation and its calendar file; a full meeting's waiting list and promotion."""

import re
from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Civility, Invitation, MeetingStatus
from tests.factories import ContactFactory, MeetingFactory

LINK = re.compile(r"https?://[^\s\"<>]+/i/([A-Za-z0-9_-]{40,})(\?answer=(yes|no))?")


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def calendar_of(message) -> icalendar.Calendar | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_content())
    return None


def personal_path(text: str, answer: str | None = None) -> str:
    for match in LINK.finditer(text):
        if match.group(3) == answer:
            return "/i/" + match.group(1) + (f"?answer={answer}" if answer else "")
    raise AssertionError(f"no personal link with answer={answer} in:\n{text}")


def answer_by_link(app, path: str, coming: bool, comment: str = "") -> None:
    """What the invitee does on their phone: open the link, then send the form."""
    invitee = app.test_client()
    page = invitee.get(path)
    assert page.status_code == 200
    token_path = path.split("?")[0]
    response = invitee.post(
        token_path, data={"answer": "yes" if coming else "no", "comment": comment}
    )
    assert response.status_code == 302


def invite_and_send(client, meeting, contacts) -> None:
    response = client.post(
        f"/meetings/{meeting.id}/invitations/invite",
        data={"contacts": [contact.id for contact in contacts], "invite_selected": "1"},
    )
    assert response.status_code == 302
    response = client.post(f"/meetings/{meeting.id}/invitations/send")
    assert response.status_code == 302


def test_invitation_answer_and_confirmation_through_a_real_smtp_server(
    app, smtp, as_organiser, organiser
):
    meeting = MeetingFactory(
        title="Groupe de travail des centres sociaux",
        organisers=[organiser],
        starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=20),
        contact_name="Nadia Chargée",
        contact_email="nadia@federation.example",
        contact_function="Chargée de mission",
    )
    helene = ContactFactory(
        civility=Civility.MS, first_name="Hélène", last_name="Dupont", email="helene@cs.example"
    )

    invite_and_send(as_organiser, meeting, [helene])

    [invitation_mail] = smtp.messages
    assert smtp.recipients == ["helene@cs.example"]
    assert invitation_mail["To"].addresses[0].addr_spec == "helene@cs.example"
    assert invitation_mail["Reply-To"].addresses[0].addr_spec == "nadia@federation.example"
    assert invitation_mail["Message-ID"] and invitation_mail["Date"]
    assert "Groupe de travail des centres sociaux" in invitation_mail["Subject"]
    text, html = parts(invitation_mail)
    assert "Dupont" in text and "Nadia Chargée" in text
    assert "/i/" in html

    # A mail scanner opens every link first: nothing changes.
    scanner = app.test_client()
    for answer in (None, "yes", "no"):
        assert scanner.get(personal_path(text, answer)).status_code == 200
    invitation = db.session.scalars(select(Invitation)).one()
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NONE

    answer_by_link(app, personal_path(text, "yes"), coming=True, comment="Avec une collègue")

    db.session.refresh(invitation)
    assert invitation.answer is Answer.COMING
    assert invitation.comment == "Avec une collègue"
    confirmation = smtp.messages[-1]
    assert confirmation["Message-ID"] != invitation_mail["Message-ID"]
    calendar = calendar_of(confirmation)
    assert calendar is not None
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == meeting.starts_at.astimezone(meeting.zone)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert calendar.walk("VTIMEZONE")
    assert str(event["SUMMARY"]) == "Groupe de travail des centres sociaux"
    # Every message was delivered exactly once.
    ids = [message["Message-ID"] for message in smtp.messages]
    assert len(ids) == len(set(ids))


def test_full_meeting_waiting_list_and_promotion_by_email(app, smtp, as_organiser, organiser):
    meeting = MeetingFactory(organisers=[organiser], capacity=1, status=MeetingStatus.PUBLISHED)
    first = ContactFactory(email="first@example.org")
    second = ContactFactory(email="second@example.org")
    invite_and_send(as_organiser, meeting, [first, second])
    links = {}
    for message in smtp.messages:
        text, _html = parts(message)
        links[message["To"].addresses[0].addr_spec] = personal_path(text)

    answer_by_link(app, links["first@example.org"], coming=True)
    answer_by_link(app, links["second@example.org"], coming=True)

    answers = dict(db.session.execute(select(Invitation.contact_id, Invitation.answer)).all())
    assert answers == {first.id: Answer.COMING, second.id: Answer.WAITING}

    before = len(smtp.messages)
    answer_by_link(app, links["first@example.org"], coming=False)

    db.session.expire_all()
    answers = dict(db.session.execute(select(Invitation.contact_id, Invitation.answer)).all())
    assert answers == {first.id: Answer.NOT_COMING, second.id: Answer.COMING}
    recipients = [message["To"].addresses[0].addr_spec for message in smtp.messages[before:]]
    assert sorted(recipients) == ["first@example.org", "second@example.org"]
    promotion = next(
        message
        for message in smtp.messages[before:]
        if message["To"].addresses[0].addr_spec == "second@example.org"
    )
    assert calendar_of(promotion) is not None
