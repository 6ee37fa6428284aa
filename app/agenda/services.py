"""Which meetings the public agenda lists, the choices of its filters, the places left, and
its iCalendar feed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.feeds.services import Feed, feed_calendar
from app.models import Answer, Group, Invitation, Meeting, MeetingStatus, MeetingVisibility
from app.registrations.services import Places, registration_problem
from app.text import fold
from app.urls import absolute_url


@dataclass(frozen=True)
class AgendaFilters:
    group_id: int | None = None
    town: str = ""


def on_agenda(now: datetime) -> list:
    """SQL conditions on Meeting: open, published with its public address, not yet ended."""
    return [
        Meeting.status == MeetingStatus.PUBLISHED,
        Meeting.visibility == MeetingVisibility.OPEN,
        Meeting.slug.is_not(None),
        Meeting.ends_at > now,
    ]


def agenda_query(filters: AgendaFilters, now: datetime) -> Select:
    """The meetings on the agenda that match the filters, soonest first, with their groups."""
    query = select(Meeting).where(*on_agenda(now))
    if filters.group_id is not None:
        query = query.where(Meeting.groups.any(Group.id == filters.group_id))
    if filters.town:
        query = query.where(Meeting.venue_town == filters.town)
    return query.options(selectinload(Meeting.groups)).order_by(Meeting.starts_at, Meeting.id)


# Filters


def filter_groups(now: datetime, requested_id: int | None = None) -> list[Group]:
    """The groups to filter by: those not archived with a meeting on the agenda, and the group
    asked for if it is not archived (a bookmarked or subscribed filter keeps working while the
    group has nothing planned). One query."""
    wanted = Group.meetings.any(and_(*on_agenda(now)))
    if requested_id is not None:
        wanted = or_(wanted, Group.id == requested_id)
    return list(
        db.session.scalars(
            select(Group)
            .where(Group.archived_at.is_(None), wanted)
            .order_by(Group.search_key, Group.id)
        )
    )


def agenda_towns(now: datetime) -> list[str]:
    """The towns of the meetings on the agenda, in alphabetical order whatever their accents."""
    towns = db.session.scalars(
        select(Meeting.venue_town).where(*on_agenda(now), Meeting.venue_town != "").distinct()
    )
    return sorted(towns, key=lambda town: (fold(town), town))


# Places


def coming_counts(meeting_ids: Sequence[int]) -> dict[int, int]:
    """How many invitees are coming to each meeting, in one aggregate query."""
    if not meeting_ids:
        return {}
    rows = db.session.execute(
        select(Invitation.meeting_id, func.count(Invitation.id))
        .where(Invitation.meeting_id.in_(meeting_ids), Invitation.answer == Answer.COMING)
        .group_by(Invitation.meeting_id)
    )
    return {meeting_id: count for meeting_id, count in rows}


def places_of(meetings: Sequence[Meeting], now: datetime) -> dict[int, Places | None]:
    """Each meeting's places (by meeting id), as its public page counts them; None when
    registrations are closed (started, or past the deadline)."""
    coming = coming_counts([meeting.id for meeting in meetings])
    return {
        meeting.id: None
        if registration_problem(meeting, now)
        else Places(meeting.capacity, coming.get(meeting.id, 0))
        for meeting in meetings
    }


# Addresses and feed


def public_page_url(slug: str) -> str:
    """The absolute address of an open meeting's public page, /m/<slug>: absolute, as the
    feed and the framed list need it."""
    return absolute_url("registrations.public_page", slug=slug)


def agenda_feed(filters: AgendaFilters, name: str, now: datetime) -> Feed:
    """The meetings of the agenda as an iCalendar feed, each linking to its public page."""
    meetings = list(
        db.session.scalars(
            agenda_query(filters, now).options(selectinload(Meeting.programme_items))
        )
    )
    page_urls = {meeting.id: public_page_url(meeting.slug) for meeting in meetings}
    return feed_calendar(name, [(meeting, "CONFIRMED") for meeting in meetings], None, page_urls)
