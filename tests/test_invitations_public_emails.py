"""The e-mails that follow an answer, delivered through a real SMTP server and read back as a
mail client would: both parts, Reply-To, a working personal link, and the calendar file."""

import re
from datetime import UTC, datetime

from icalendar import Calendar

from app.extensions import db
from app.invitations.answers import record_answer
from app.mail.delivery import request_delivery
from app.models import Answer, Civility
from tests.invitee_helpers import a_meeting, invite, set_answer

LINK = re.compile(r"http://localhost(/i/[A-Za-z0-9_-]+)")


def parts(message) -> dict[str, object]:
    """The message's leaf parts by content type (text/plain, text/html, text/calendar)."""
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def calendar_of(message) -> Calendar:
    return Calendar.from_ical(parts(message)["text/calendar"].get_content())


def paris_meeting(**fields):
    # Wednesday 5 June 2030, 9:00 in Paris, is 7:00 UTC.
    return a_meeting(
        starts_at=datetime(2030, 6, 5, 7, 0, tzinfo=UTC),
        title="Coordination réussite éducative",
        sequence=2,
        **fields,
    )


def test_answering_coming_sends_a_confirmation_with_the_calendar(app, client, smtp):
    meeting = paris_meeting()
    invitation, token = invite(meeting, civility=Civility.MS, last_name="Dupont")
    client.set_cookie("lang", "en")

    assert client.post(f"/i/{token}", data={"answer": "yes"}).status_code == 302

    (message,) = smtp.messages
    assert smtp.recipients == [invitation.contact.email]
    assert message["Reply-To"] == "Claire Martin <claire.martin@federation.example.org>"
    assert "Coordination réussite éducative" in message["Subject"]
    found = parts(message)
    assert {"text/plain", "text/html", "text/calendar"} <= set(found)
    text, html = found["text/plain"].get_content(), found["text/html"].get_content()
    # French by default, whatever the language of the page the person answered on.
    assert "mercredi 5 juin 2030, de 9 h 00 à 12 h 00" in text
    assert " Dupont," in text.splitlines()[0]
    assert "<img" not in html and "<link" not in html and "<script" not in html
    assert 'style="' in html

    (path,) = set(LINK.findall(text))
    assert path != f"/i/{token}"  # every e-mail carries a link of its own
    assert f"http://localhost{path}" in html
    assert client.get(path).status_code == 200

    event = calendar_of(message).walk("VEVENT")[0]
    assert calendar_of(message)["METHOD"] == "REQUEST"
    assert str(event["URL"]) == f"http://localhost{path}"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTSTART"].dt.replace(tzinfo=None) == datetime(2030, 6, 5, 9, 0)
    assert event["SEQUENCE"] == 2
    assert str(event["ATTENDEE"]) == f"mailto:{invitation.contact.email}"
    assert str(event["ORGANIZER"]) == "mailto:claire.martin@federation.example.org"
    assert "Accueil café" in str(event["DESCRIPTION"])
    assert "Maison des associations" in str(event["LOCATION"])
    assert calendar_of(message).walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"


def test_not_coming_and_waiting_confirmations_have_no_calendar(app, smtp):
    meeting = paris_meeting(capacity=1)
    coming, _ = invite(meeting)
    set_answer(coming, Answer.COMING)
    waiting, _ = invite(meeting)
    absent, _ = invite(meeting)
    now = datetime.now(UTC)

    record_answer(waiting, True, "", now)
    record_answer(absent, False, "Pris ailleurs", now)
    db.session.commit()
    request_delivery()

    by_recipient = dict(zip(smtp.recipients, smtp.messages, strict=True))
    waiting_message = by_recipient[waiting.contact.email]
    absent_message = by_recipient[absent.contact.email]
    for message in (waiting_message, absent_message):
        assert "text/calendar" not in parts(message)
        assert {"text/plain", "text/html"} <= set(parts(message))
    assert " 1" in parts(waiting_message)["text/plain"].get_content()
    assert "Pris ailleurs" in parts(absent_message)["text/plain"].get_content()


def test_the_promoted_person_gets_the_same_event_in_their_calendar(app, smtp):
    meeting = paris_meeting(capacity=1)
    coming, _ = invite(meeting)
    waiting, _ = invite(meeting)
    now = datetime.now(UTC)
    record_answer(coming, True, "", now)
    record_answer(waiting, True, "", now)
    db.session.commit()
    request_delivery()

    record_answer(coming, False, "", now)
    db.session.commit()
    request_delivery()

    assert waiting.answer is Answer.COMING
    latest = dict(zip(smtp.recipients[-2:], smtp.messages[-2:], strict=True))
    assert "text/calendar" not in parts(latest[coming.contact.email])
    promotion = calendar_of(latest[waiting.contact.email])
    first_confirmation = calendar_of(smtp.messages[0])
    assert promotion["METHOD"] == "REQUEST"
    uids = {calendar.walk("VEVENT")[0]["UID"] for calendar in (first_confirmation, promotion)}
    assert uids == {f"meeting-{meeting.id}@localhost"}
