"""iCalendar files of a meeting, read back with the `icalendar` parser as calendars would."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from icalendar import Calendar

from app.extensions import db
from app.invitations.calendar import meeting_calendar
from app.models import MeetingStatus
from tests.factories import ContactFactory
from tests.invitee_helpers import NOW, a_meeting

PARIS = ZoneInfo("Europe/Paris")
PERSONAL_URL = "http://localhost/i/personal-token-for-the-test-0123456789abcdefgh"


def parse(content: str):
    calendar = Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def summer_meeting(**fields):
    # 5 June 2026, 9:00 to 12:30 in Paris: 7:00 to 10:30 UTC (summer time).
    return a_meeting(
        starts_at=datetime(2026, 6, 5, 7, 0, tzinfo=UTC),
        ends_at=datetime(2026, 6, 5, 10, 30, tzinfo=UTC),
        title="Réussite éducative : groupe de travail",
        sequence=3,
        **fields,
    )


def test_request_carries_everything_calendars_need(app):
    meeting = summer_meeting(online_url="https://visio.example.org/salle-42")
    contact = ContactFactory(first_name="Hélène", last_name="Dupont", email="helene@example.org")

    with force_locale("en"):
        content = meeting_calendar(
            meeting, "REQUEST", attendee=contact, personal_url=PERSONAL_URL, now=NOW
        )
    calendar, event = parse(content)

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"meeting-{meeting.id}@localhost"
    assert event["SEQUENCE"] == 3
    assert event["DTSTAMP"].dt == NOW
    assert event["SUMMARY"] == "Réussite éducative : groupe de travail"
    assert event["STATUS"] == "CONFIRMED"
    start, end = event["DTSTART"], event["DTEND"]
    assert start.params["TZID"] == "Europe/Paris" == end.params["TZID"]
    assert start.dt == datetime(2026, 6, 5, 9, 0, tzinfo=PARIS)
    assert start.dt.replace(tzinfo=None) == datetime(2026, 6, 5, 9, 0)
    assert end.dt.replace(tzinfo=None) == datetime(2026, 6, 5, 12, 30)
    assert event["LOCATION"] == "Maison des associations, 2 rue des Corroyeurs, 21000 Dijon"
    description = str(event["DESCRIPTION"])
    assert "9:00 Accueil café" in description
    assert "9:30 Ateliers par territoire" in description
    assert "Synthèse et suites" in description
    assert "https://visio.example.org/salle-42" in description
    assert PERSONAL_URL in description
    assert str(event["URL"]) == PERSONAL_URL
    organiser = event["ORGANIZER"]
    assert str(organiser) == "mailto:claire.martin@federation.example.org"
    assert organiser.params["CN"] == "Claire Martin"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:helene@example.org"
    assert attendee.params["CN"] == "Hélène Dupont"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"


def test_the_time_zone_is_described_by_a_vtimezone(app):
    calendar, event = parse(meeting_calendar(summer_meeting(), "PUBLISH", now=NOW))

    (timezone,) = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Paris"
    assert {component.name for component in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert calendar.get_missing_tzids() == set()
    # The zone's rules give the right offset on the day: summer time, UTC+2.
    local = timezone.to_tz()
    assert local.utcoffset(datetime(2026, 6, 5, 9, 0)) == timedelta(hours=2)
    assert local.utcoffset(datetime(2026, 12, 5, 9, 0)) == timedelta(hours=1)


def test_a_winter_meeting_overseas_keeps_its_own_zone(app):
    meeting = a_meeting(
        starts_at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC), timezone="Indian/Reunion"
    )

    calendar, event = parse(meeting_calendar(meeting, "PUBLISH", now=NOW))

    assert event["DTSTART"].params["TZID"] == "Indian/Reunion"
    assert event["DTSTART"].dt.replace(tzinfo=None) == datetime(2026, 12, 1, 9, 0)
    assert [timezone["TZID"] for timezone in calendar.walk("VTIMEZONE")] == ["Indian/Reunion"]


def test_uid_is_stable_and_sequence_follows_the_meeting(app):
    meeting = summer_meeting()
    _, first = parse(meeting_calendar(meeting, "PUBLISH", now=NOW))
    meeting.sequence = 4
    db.session.commit()
    _, second = parse(meeting_calendar(meeting, "REQUEST", now=NOW + timedelta(days=1)))

    assert first["UID"] == second["UID"]
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (3, 4)


def test_publish_has_no_attendee_and_cancel_says_cancelled(app):
    meeting = summer_meeting()
    contact = ContactFactory()

    calendar, published = parse(meeting_calendar(meeting, "PUBLISH", attendee=contact, now=NOW))
    assert calendar["METHOD"] == "PUBLISH"
    assert "ATTENDEE" not in published
    assert "URL" not in published

    calendar, cancelled = parse(meeting_calendar(meeting, "CANCEL", attendee=contact, now=NOW))
    assert calendar["METHOD"] == "CANCEL"
    assert cancelled["STATUS"] == "CANCELLED"
    assert str(cancelled["ATTENDEE"]) == f"mailto:{contact.email}"


def test_a_cancelled_meeting_is_published_as_cancelled(app):
    meeting = summer_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Grève")

    _, event = parse(meeting_calendar(meeting, "PUBLISH", now=NOW))

    assert event["STATUS"] == "CANCELLED"


def test_online_meeting_location_is_its_link(app):
    meeting = summer_meeting(
        venue_name="",
        venue_address="",
        venue_postcode="",
        venue_town="",
        online_url="https://visio.example.org/salle-42",
    )

    _, event = parse(meeting_calendar(meeting, "PUBLISH", now=NOW))

    assert event["LOCATION"] == "https://visio.example.org/salle-42"


def test_organiser_falls_back_to_the_sender_address(app):
    meeting = summer_meeting(contact_name="", contact_email="")

    _, event = parse(meeting_calendar(meeting, "PUBLISH", now=NOW))

    assert str(event["ORGANIZER"]) == "mailto:rencontres@localhost"
    assert "CN" not in event["ORGANIZER"].params


def test_lines_are_folded_with_crlf(app):
    meeting = summer_meeting(description="Une très longue description " * 10)

    content = meeting_calendar(meeting, "PUBLISH", personal_url=PERSONAL_URL, now=NOW)

    assert content.endswith("\r\n")
    lines = content.split("\r\n")
    assert "\n" not in "".join(lines)
    assert max(len(line.encode("utf-8")) for line in lines) <= 75


def test_unknown_method_is_refused(app):
    with pytest.raises(ValueError):
        meeting_calendar(summer_meeting(), "REPLY")
