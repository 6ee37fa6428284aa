"""Calendar feeds: the meetings a feed lists, the feed's iCalendar text, and the secret tokens
of the groups' feeds (random, only their SHA-256 stored, as for personal links)."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from app.extensions import db
from app.invitations.calendar import PRODUCT_ID, meeting_event
from app.invitations.tokens import TOKEN_BYTES, TOKEN_LENGTHS, hash_token
from app.models import Answer, Group, Invitation, Meeting, MeetingStatus

# Feeds list the meetings from three months ago on: enough to look back at the last ones,
# without the whole history in every poll of a calendar app.
HISTORY = relativedelta(months=3)


@dataclass(frozen=True)
class Feed:
    """A feed's iCalendar text and the latest change among what it lists (None when empty)."""

    content: str
    last_modified: datetime | None


def shown_in_feeds():
    """SQL condition on Meeting: published, or cancelled after it was published (calendars
    that had it then show it cancelled). Drafts, and meetings cancelled as drafts, nobody saw."""
    return or_(
        Meeting.status == MeetingStatus.PUBLISHED,
        and_(Meeting.status == MeetingStatus.CANCELLED, Meeting.published_at.is_not(None)),
    )


def feed_calendar(
    name: str,
    events: list[tuple[Meeting, str]],
    url: str | None,
    page_urls: Mapping[int, str] | None = None,
) -> Feed:
    """The calendar of (meeting, STATUS) pairs, each event as meeting_calendar makes it (same
    UID and SEQUENCE), with a VTIMEZONE per zone used. Its DTSTAMP is the latest change, not
    the time of the request: the same data gives the same text, and so the same ETag.
    `page_urls` (meeting id → address) gives events a public page to link to."""
    changes = [meeting.updated_at for meeting, _status in events if meeting.updated_at]
    last_modified = max(changes) if changes else None
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for meeting, status in events:
        event = meeting_event(meeting, "PUBLISH", last_modified, None, url)
        del event["STATUS"]
        event.add("status", status)
        if page_urls and meeting.id in page_urls:
            add_page_link(event, page_urls[meeting.id])
        calendar.add_component(event)
    if events:
        calendar.add_missing_timezones(
            first_date=date(min(m.local_starts_at.year for m, _s in events), 1, 1),
            last_date=date(max(m.local_ends_at.year for m, _s in events) + 2, 1, 1),
        )
    return Feed(calendar.to_ical().decode("utf-8"), last_modified)


def add_page_link(event: Event, page_url: str) -> None:
    """The meeting's page as the event's URL, and at the end of its notes, which more calendar
    applications show."""
    event.add("url", page_url)
    link = _("Details and registration: %(url)s", url=page_url)
    description = str(event.get("DESCRIPTION", ""))
    if "DESCRIPTION" in event:
        del event["DESCRIPTION"]
    event.add("description", f"{description}\n\n{link}" if description else link)


# Group feeds


def group_for_feed_token(token: str) -> Group | None:
    """The group whose live feed token this is; None for unknown, malformed or revoked ones."""
    if len(token) not in TOKEN_LENGTHS or not token.isascii():
        return None
    return db.session.scalar(select(Group).where(Group.feed_token_hash == hash_token(token)))


def issue_feed_token(group: Group) -> str:
    """A new secret token for the group's feed, replacing any former one; returns it, as it is
    never stored: its address is shown once, to the organiser who made it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    group.feed_token_hash = hash_token(token)
    db.session.flush()
    return token


def revoke_feed_token(group: Group) -> None:
    """The feed's address stops working; calendars subscribed to it get 404."""
    group.feed_token_hash = None
    db.session.flush()


def group_meetings(group: Group, now: datetime) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.groups.any(Group.id == group.id),
                Meeting.starts_at >= now - HISTORY,
                shown_in_feeds(),
            )
            .options(selectinload(Meeting.programme_items))
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def group_feed(group: Group, now: datetime) -> Feed:
    events = [
        (meeting, "CANCELLED" if meeting.status is MeetingStatus.CANCELLED else "CONFIRMED")
        for meeting in group_meetings(group, now)
    ]
    return feed_calendar(group.name, events, None)


# Personal feeds


def contact_invitations(contact_id: int, since: datetime) -> list[Invitation]:
    """The contact's invitations to meetings shown in feeds starting from `since`, by date."""
    return list(
        db.session.scalars(
            select(Invitation)
            .join(Invitation.meeting)
            .where(Invitation.contact_id == contact_id, Meeting.starts_at >= since)
            .where(shown_in_feeds())
            .options(
                contains_eager(Invitation.meeting).selectinload(Meeting.programme_items),
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def personal_status(invitation: Invitation) -> str:
    """The invitee's answer as the event's status."""
    if invitation.meeting.status is MeetingStatus.CANCELLED:
        return "CANCELLED"
    if invitation.answer is Answer.COMING:
        return "CONFIRMED"
    if invitation.answer is Answer.NOT_COMING:
        return "CANCELLED"
    return "TENTATIVE"


def personal_feed(contact_id: int, name: str, now: datetime, url: str) -> Feed:
    """The meetings the contact is invited to, from three months ago, each with their answer in
    its status; `url` (their own page) in each event. An answer changes the feed, and its
    Last-Modified: the invitation has no updated_at, its answered_at is its latest change."""
    invitations = contact_invitations(contact_id, now - HISTORY)
    feed = feed_calendar(name, [(i.meeting, personal_status(i)) for i in invitations], url)
    answered = [i.answered_at for i in invitations if i.answered_at]
    if answered and feed.last_modified and max(answered) > feed.last_modified:
        return Feed(feed.content, max(answered))
    return feed
