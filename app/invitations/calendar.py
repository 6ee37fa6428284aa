"""iCalendar files (RFC 5545) of a meeting: attached to e-mails and offered on the personal page."""

from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from app.formatting import format_clock
from app.models import Contact, Meeting, MeetingStatus

METHODS = ("REQUEST", "CANCEL", "PUBLISH")
PRODUCT_ID = "-//Rencontres//Rencontres//FR"


def meeting_uid(meeting: Meeting) -> str:
    """The event's UID, the same in every file sent about this meeting, so that calendars
    update the event they already have instead of adding a second one."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"meeting-{meeting.id}@{host}"


def meeting_location(meeting: Meeting) -> str:
    """Venue name, address, "postcode town"; the online link when there is no venue."""
    town = f"{meeting.venue_postcode} {meeting.venue_town}".strip()
    parts = [meeting.venue_name, meeting.venue_address, town]
    location = ", ".join(part for part in parts if part)
    return location or meeting.online_url


def meeting_description(meeting: Meeting, personal_url: str | None) -> str:
    """The event's notes: description, programme with its times, access, online link, page."""
    paragraphs = []
    if meeting.description:
        paragraphs.append(meeting.description)
    if meeting.programme_items:
        lines = [_("Programme:")]
        for item in meeting.programme_items:
            clock = f"{format_clock(item.starts_at)} " if item.starts_at else ""
            lines.append(f"- {clock}{item.text}")
        paragraphs.append("\n".join(lines))
    if meeting.venue_access_notes:
        paragraphs.append(_("Access: %(notes)s", notes=meeting.venue_access_notes))
    if meeting.online_url:
        paragraphs.append(_("Online link: %(url)s", url=meeting.online_url))
    if personal_url:
        paragraphs.append(_("Your answer, to see or change: %(url)s", url=personal_url))
    return "\n\n".join(paragraphs)


def _address(email: str, name: str, **parameters: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    for key, value in parameters.items():
        address.params[key.replace("_", "-").upper()] = value
    return address


def meeting_event(
    meeting: Meeting,
    method: str,
    now: datetime,
    attendee: Contact | None,
    personal_url: str | None,
) -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    if meeting.updated_at:
        event.add("last-modified", meeting.updated_at.astimezone(UTC))
    # Local times with their TZID (and the VTIMEZONE added by the caller): a calendar shows
    # the meeting at the time on the invitation even across daylight saving changes.
    event.add("dtstart", meeting.local_starts_at)
    event.add("dtend", meeting.local_ends_at)
    event.add("summary", meeting.title)
    location = meeting_location(meeting)
    if location:
        event.add("location", location)
    description = meeting_description(meeting, personal_url)
    if description:
        event.add("description", description)
    if personal_url:
        event.add("url", personal_url)
    organiser_email = meeting.contact_email or current_app.config["MAIL_DEFAULT_SENDER"]
    event.add("organizer", _address(organiser_email, meeting.contact_name))
    if attendee is not None and method in ("REQUEST", "CANCEL"):
        event.add(
            "attendee",
            _address(
                attendee.email,
                attendee.full_name,
                role="REQ-PARTICIPANT",
                partstat="ACCEPTED",
                rsvp="FALSE",
            ),
        )
    cancelled = method == "CANCEL" or meeting.status is MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def meeting_calendar(
    meeting: Meeting,
    method: str,
    *,
    attendee: Contact | None = None,
    personal_url: str | None = None,
    now: datetime | None = None,
) -> str:
    """The meeting as an iCalendar file: METHOD REQUEST (confirmations, promotions, updates),
    CANCEL (cancellation) or PUBLISH (the personal page's download). `now` is the DTSTAMP."""
    if method not in METHODS:
        raise ValueError(f"unknown iCalendar method: {method!r}")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(
        meeting_event(meeting, method, now or datetime.now(UTC), attendee, personal_url)
    )
    # The zone's rules over the meeting's years only: a few lines instead of seventy years of
    # transitions, and the file is rebuilt whenever the meeting moves.
    calendar.add_missing_timezones(
        first_date=date(meeting.local_starts_at.year, 1, 1),
        last_date=date(meeting.local_ends_at.year + 2, 1, 1),
    )
    return calendar.to_ical().decode("utf-8")
