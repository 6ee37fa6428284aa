"""Meeting operations shared by views, CLI and jobs: create, edit, publish, cancel, list."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, exists, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Group,
    Meeting,
    MeetingStatus,
    MeetingVisibility,
    ProgrammeItem,
    User,
    meeting_organiser,
)
from app.text import matches_folded, slug

DEFAULT_TIME_ZONE = "Europe/Paris"
# Where French social-sector networks meet: metropolitan France, the overseas departments
# and territories, and the neighbouring French-speaking countries.
TIME_ZONE_LABELS = {
    "Europe/Paris": _l("Metropolitan France (Paris)"),
    "America/Guadeloupe": _l("Guadeloupe"),
    "America/Martinique": _l("Martinique"),
    "America/Cayenne": _l("French Guiana (Cayenne)"),
    "Indian/Reunion": _l("Reunion (Saint-Denis)"),
    "Indian/Mayotte": _l("Mayotte"),
    "America/Miquelon": _l("Saint Pierre and Miquelon"),
    "Pacific/Noumea": _l("New Caledonia (Nouméa)"),
    "Pacific/Tahiti": _l("French Polynesia (Tahiti)"),
    "Pacific/Wallis": _l("Wallis and Futuna"),
    "Europe/Brussels": _l("Belgium (Brussels)"),
    "Europe/Luxembourg": _l("Luxembourg"),
    "Europe/Zurich": _l("Switzerland (Zurich)"),
}
STATUS_LABELS = {
    MeetingStatus.DRAFT: _l("Draft"),
    MeetingStatus.PUBLISHED: _l("Published"),
    MeetingStatus.HELD: _l("Held"),
    MeetingStatus.CANCELLED: _l("Cancelled"),
}
# An answer deadline given as a date only runs to the end of that day.
DEFAULT_DEADLINE_TIME = time(23, 59)
PERIODS = ("upcoming", "past")


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a daylight saving change (spring forward)."""


class InvalidMeetingData(ValueError):
    """The data breaks a meeting rule; `problems` maps form field names to messages."""

    def __init__(self, problems: dict[str, str]) -> None:
        # Field names only: the messages are lazy and need a request to pick their language.
        super().__init__(f"invalid meeting data: {', '.join(problems)}")
        self.problems = problems


class MeetingStateError(Exception):
    """The action is not possible in the meeting's current state; str() is the user message."""


@dataclass(frozen=True)
class ProgrammeLine:
    starts_at: time | None
    text: str


class ProgrammeError(ValueError):
    """A programme line whose leading time is impossible, such as "25:00 Closing"."""

    def __init__(self, number: int, line: str) -> None:
        super().__init__(number, line)
        self.number = number
        self.line = line

    def __str__(self) -> str:
        return str(
            _l(
                "Line %(number)s (“%(line)s”) starts with a time that does not exist.",
                number=self.number,
                line=self.line,
            )
        )


@dataclass
class MeetingData:
    """A form's cleaned values, in the meeting's local time, on their way to the services."""

    title: str
    start_date: date
    start_time: time
    end_time: time
    end_date: date | None = None
    timezone: str = DEFAULT_TIME_ZONE
    description: str = ""
    programme: list[ProgrammeLine] = field(default_factory=list)
    venue_name: str = ""
    venue_address: str = ""
    venue_postcode: str = ""
    venue_town: str = ""
    venue_access_notes: str = ""
    online_url: str = ""
    capacity: int | None = None
    deadline_date: date | None = None
    deadline_time: time | None = None
    organisers: list[User] = field(default_factory=list)
    # The working groups the meeting belongs to (several for a joint meeting).
    group_ids: list[int] = field(default_factory=list)
    contact_name: str = ""
    contact_function: str = ""
    contact_organisation: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    # None keeps the meeting's own (a meeting copied by a series keeps its visibility).
    visibility: MeetingVisibility | None = None
    registrations_moderated: bool | None = None


# "9:00", "9 h 30", "14h", "09.15", optionally after a bullet and before a dash or a colon.
_TIMED_LINE = re.compile(
    r"""^(?:[-–—•·*]\s+)?
    (?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2})|\s*[hH]\s*(?P<h_minute>\d{2})?)(?!\w)
    \s*(?:[-–—:]\s*)?
    (?P<text>.*)$""",
    re.VERBOSE,
)
_BULLET = re.compile(r"^[-–—•·*]\s+")


def zone_label(name: str) -> str:
    return str(TIME_ZONE_LABELS.get(name, name))


def local_to_utc(day: date, clock: time, zone_name: str) -> datetime:
    """The UTC moment of a wall-clock time; an ambiguous autumn time takes its first occurrence."""
    zone = ZoneInfo(zone_name)
    local = datetime.combine(day, clock, tzinfo=zone)  # fold=0: the first occurrence
    moment = local.astimezone(UTC)
    # zoneinfo quietly shifts a time inside the spring gap; the round trip reveals it.
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{day} {clock} does not exist in {zone_name}")
    return moment


def is_web_link(url: str) -> bool:
    """True for an absolute http(s) address with a host name and no spaces."""
    if not url or any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # reading the port checks it is a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


def parse_programme(text: str) -> list[ProgrammeLine]:
    """One item per non-blank line, each with an optional leading time ("9 h 30 – Ateliers")."""
    lines = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        match = _TIMED_LINE.match(line)
        if match is None:
            lines.append(ProgrammeLine(None, _BULLET.sub("", line)))
            continue
        hour = int(match["hour"])
        minute = int(match["minute"] or match["h_minute"] or 0)
        if hour > 23 or minute > 59:
            raise ProgrammeError(number, line)
        text = match["text"].strip()
        # A time alone on its line says nothing to invitees: keep it as plain text.
        lines.append(ProgrammeLine(time(hour, minute), text) if text else ProgrammeLine(None, line))
    return lines


def format_programme(items: list[ProgrammeItem] | list[ProgrammeLine]) -> str:
    """The programme back as the form's text, one "9:00 Welcome" line per item."""
    lines = []
    for item in items:
        if item.starts_at is None:
            lines.append(item.text)
        else:
            lines.append(f"{item.starts_at.hour}:{item.starts_at.minute:02d} {item.text}")
    return "\n".join(lines)


def _schedule_problems(data: MeetingData) -> dict[str, str]:
    problems: dict[str, str] = {}
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return {"timezone": _l("Choose a time zone from the list.")}
    missing_hour = _l(
        "This time does not exist on that day: the clocks go forward. Choose another."
    )
    starts_at = ends_at = None
    try:
        starts_at = local_to_utc(data.start_date, data.start_time, data.timezone)
    except NonexistentLocalTime:
        problems["start_time"] = missing_hour
    end_date = data.end_date or data.start_date
    if end_date < data.start_date:
        problems["end_date"] = _l("The end date cannot be before the start date.")
    else:
        try:
            ends_at = local_to_utc(end_date, data.end_time, data.timezone)
        except NonexistentLocalTime:
            problems["end_time"] = missing_hour
    if starts_at and ends_at and ends_at <= starts_at:
        problems["end_time"] = _l("The meeting must end after it starts.")
    if data.deadline_date is None:
        if data.deadline_time is not None:
            problems["deadline_date"] = _l("Give the date of the answer deadline too.")
        return problems
    try:
        deadline = local_to_utc(
            data.deadline_date, data.deadline_time or DEFAULT_DEADLINE_TIME, data.timezone
        )
    except NonexistentLocalTime:
        problems["deadline_time"] = missing_hour
        return problems
    if starts_at and deadline > starts_at:
        problems["deadline_date"] = _l("The answer deadline must be before the meeting starts.")
    return problems


def place_problems(
    venue_name: str, venue_address: str, online_url: str, capacity: int | None
) -> dict[str, str]:
    """The rules on where a meeting happens and how many people fit, as in meeting_problems."""
    problems: dict[str, str] = {}
    if capacity is not None and capacity < 1:
        problems["capacity"] = _l("The capacity must be a positive number.")
    if online_url and not is_web_link(online_url):
        problems["online_url"] = _l("Enter a web address starting with http:// or https://.")
    if not (venue_name or venue_address or online_url):
        problems["venue_name"] = _l("Give a venue or an online link.")
    return problems


def meeting_problems(data: MeetingData) -> dict[str, str]:
    """Every rule a meeting must follow, as {form field name: message}; empty when valid."""
    return _schedule_problems(data) | place_problems(
        data.venue_name, data.venue_address, data.online_url, data.capacity
    )


def can_manage(user, meeting: Meeting) -> bool:
    """Only the meeting's organisers and administrators may change it."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or any(organiser.id == user.id for organiser in meeting.organisers)


def selectable_organisers(meeting: Meeting | None = None) -> list[User]:
    """Active accounts, plus the meeting's current organisers even if their account is closed."""
    accounts = {user.id: user for user in db.session.scalars(select(User).where(User.active))}
    if meeting is not None:
        accounts.update({user.id: user for user in meeting.organisers})
    return sorted(accounts.values(), key=lambda user: (user.name.casefold(), user.id))


def selectable_groups(meeting: Meeting | None = None) -> list[Group]:
    """Active groups, plus the meeting's own groups even if archived since, by name."""
    groups = {group.id: group for group in db.session.scalars(active_groups_query())}
    if meeting is not None:
        groups.update({group.id: group for group in meeting.groups})
    return sorted(groups.values(), key=lambda group: (group.search_key, group.id))


def active_groups_query() -> Select:
    return select(Group).where(Group.archived_at.is_(None)).order_by(Group.search_key, Group.id)


def _set_groups(meeting: Meeting, group_ids: list[int]) -> None:
    """An archived group takes no new meeting, but a meeting keeps the group it had."""
    wanted = set(group_ids)
    groups = (
        list(db.session.scalars(select(Group).where(Group.id.in_(wanted)).order_by(Group.id)))
        if wanted
        else []
    )
    kept = {group.id for group in meeting.groups}
    if any(group.archived_at is not None and group.id not in kept for group in groups):
        raise InvalidMeetingData({"groups": _l("An archived group takes no new meeting.")})
    meeting.groups = groups


def _unique(users: list[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())


def _apply(meeting: Meeting, data: MeetingData) -> None:
    problems = meeting_problems(data)
    if problems:
        raise InvalidMeetingData(problems)
    meeting.title = data.title
    meeting.description = data.description
    meeting.timezone = data.timezone
    meeting.starts_at = local_to_utc(data.start_date, data.start_time, data.timezone)
    meeting.ends_at = local_to_utc(data.end_date or data.start_date, data.end_time, data.timezone)
    meeting.answer_deadline = None
    if data.deadline_date is not None:
        meeting.answer_deadline = local_to_utc(
            data.deadline_date, data.deadline_time or DEFAULT_DEADLINE_TIME, data.timezone
        )
    meeting.venue_name = data.venue_name
    meeting.venue_address = data.venue_address
    meeting.venue_postcode = data.venue_postcode
    meeting.venue_town = data.venue_town
    meeting.venue_access_notes = data.venue_access_notes
    meeting.online_url = data.online_url
    meeting.capacity = data.capacity
    meeting.contact_name = data.contact_name
    meeting.contact_function = data.contact_function
    meeting.contact_organisation = data.contact_organisation
    meeting.contact_email = data.contact_email
    meeting.contact_phone = data.contact_phone
    if data.visibility is not None:
        meeting.visibility = data.visibility
    if data.registrations_moderated is not None:
        meeting.registrations_moderated = data.registrations_moderated
    _set_programme(meeting, data.programme)


def _set_programme(meeting: Meeting, lines: list[ProgrammeLine]) -> None:
    # Rows are rewritten in place: inserting new rows before the old ones are deleted would
    # break the unique (meeting, position) constraint within one flush.
    items = list(meeting.programme_items)
    for position, line in enumerate(lines):
        if position < len(items):
            items[position].starts_at = line.starts_at
            items[position].text = line.text
        else:
            meeting.programme_items.append(
                ProgrammeItem(position=position, starts_at=line.starts_at, text=line.text)
            )
    for item in items[len(lines) :]:
        meeting.programme_items.remove(item)


def create_meeting(author: User, data: MeetingData, now: datetime) -> Meeting:
    """A new draft meeting; its author is always one of its organisers."""
    meeting = Meeting(status=MeetingStatus.DRAFT, created_by_id=author.id, created_at=now)
    _apply(meeting, data)
    meeting.updated_at = now
    meeting.organisers = _unique([author, *data.organisers])
    _set_groups(meeting, data.group_ids)
    # Imported here, as the other domains that build on this module.
    from app.reminders.schedule import add_default_reminders

    add_default_reminders(meeting)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def check_editable(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("A cancelled meeting cannot be changed."))


def check_publishable(meeting: Meeting) -> None:
    if meeting.status is not MeetingStatus.DRAFT:
        raise MeetingStateError(_l("Only a draft meeting can be published."))


def check_cancellable(meeting: Meeting, now: datetime) -> None:
    if meeting.status_at(now) not in (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED):
        raise MeetingStateError(_l("Only a draft or a meeting still to come can be cancelled."))


def check_deletable(meeting: Meeting) -> None:
    if meeting.status is not MeetingStatus.DRAFT:
        raise MeetingStateError(_l("Only a draft meeting can be deleted."))


def allowed_actions(user, meeting: Meeting, now: datetime) -> set[str]:
    """The actions to offer `user`: those they may take and the meeting's state allows."""
    if not can_manage(user, meeting):
        return set()
    checks = {
        "edit": lambda: check_editable(meeting),
        "publish": lambda: check_publishable(meeting),
        "cancel": lambda: check_cancellable(meeting, now),
        "delete": lambda: check_deletable(meeting),
    }
    allowed = set()
    for action, check in checks.items():
        try:
            check()
        except MeetingStateError:
            continue
        allowed.add(action)
    return allowed


# What calendars hold of a meeting: a change to one of these is a new version of the event.
TIME_FIELDS = ("starts_at", "ends_at", "timezone")
PLACE_FIELDS = (
    "venue_name",
    "venue_address",
    "venue_postcode",
    "venue_town",
    "venue_access_notes",
    "online_url",
)


def time_and_place(meeting: Meeting) -> dict[str, object]:
    """The meeting's time and place, to compare before and after an edit."""
    return {name: getattr(meeting, name) for name in (*TIME_FIELDS, *PLACE_FIELDS)}


def _capacity_raised(before: int | None, after: int | None) -> bool:
    return before is not None and (after is None or after > before)


def update_meeting(meeting: Meeting, data: MeetingData, editor: User, now: datetime) -> Meeting:
    """Change a draft, published or held meeting; a cancelled one stays as it was.

    A new time or place raises the iCalendar SEQUENCE, so calendars take the next file sent
    as a newer version of the event; a larger capacity gives free places to people waiting."""
    check_editable(meeting)
    # Neither the creator nor an organiser who is editing can be dropped: the one would lose
    # the meeting they started, the other would lock themselves out by accident.
    kept = [user for user in meeting.organisers if user.id in (meeting.created_by_id, editor.id)]
    before, capacity_before = time_and_place(meeting), meeting.capacity
    _apply(meeting, data)
    if time_and_place(meeting) != before:
        meeting.sequence += 1
    # Pending reminders follow the meeting's start and deadline.
    from app.reminders.schedule import reschedule_reminders

    reschedule_reminders(meeting)
    meeting.organisers = _unique([*kept, *data.organisers])
    _set_groups(meeting, data.group_ids)
    meeting.updated_at = now
    set_public_slug(meeting)
    db.session.flush()
    if _capacity_raised(capacity_before, meeting.capacity):
        # Imported here: the invitations domain builds on this module.
        from app.invitations.answers import promote_waiting

        promote_waiting(meeting, now)
    return meeting


def publish_meeting(meeting: Meeting, now: datetime) -> Meeting:
    check_publishable(meeting)
    meeting.status = MeetingStatus.PUBLISHED
    meeting.published_at = now
    meeting.updated_at = now
    set_public_slug(meeting)
    db.session.flush()
    return meeting


def set_public_slug(meeting: Meeting) -> None:
    """Give a published open meeting its public address (/m/<slug>), from its title and local
    date: "reunion-des-centres-sociaux-2026-12-08", with -2, -3… when taken. Set once: a
    later change of title or date keeps it, so the links already shared keep working."""
    if (
        meeting.slug is not None
        or meeting.status is not MeetingStatus.PUBLISHED
        or meeting.visibility is not MeetingVisibility.OPEN
    ):
        return
    base = f"{slug(meeting.title, 200) or 'meeting'}-{meeting.local_starts_at.date().isoformat()}"
    taken = set(
        db.session.scalars(
            select(Meeting.slug).where(
                (Meeting.slug == base) | Meeting.slug.startswith(f"{base}-", autoescape=True)
            )
        )
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    meeting.slug = candidate


def cancel_meeting(meeting: Meeting, reason: str, now: datetime) -> Meeting:
    """Cancel a draft or upcoming meeting; the reason is shown to everyone who sees it."""
    reason = reason.strip()
    if not reason:
        raise InvalidMeetingData({"reason": _l("Give the reason for the cancellation.")})
    check_cancellable(meeting, now)
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancellation_reason = reason
    meeting.cancelled_at = now
    # A cancellation is a change calendars must apply over the event they hold (RFC 5545).
    meeting.sequence += 1
    meeting.updated_at = now
    db.session.flush()
    return meeting


def delete_draft(meeting: Meeting) -> None:
    check_deletable(meeting)
    db.session.delete(meeting)
    db.session.flush()


def meeting_list_query(
    viewer_id: int,
    now: datetime,
    period: str = "upcoming",
    state: MeetingStatus | None = None,
    text: str = "",
) -> Select:
    """Meetings of a period, the viewer's own first, then by date (latest first for the past)."""
    query = select(Meeting).options(selectinload(Meeting.organisers))
    if period == "past":
        query = query.where(Meeting.ends_at <= now)
        by_date = (Meeting.starts_at.desc(), Meeting.id.desc())
    else:
        query = query.where(Meeting.ends_at > now)
        by_date = (Meeting.starts_at, Meeting.id)
    if state is MeetingStatus.HELD:
        query = query.where(Meeting.status == MeetingStatus.PUBLISHED, Meeting.ends_at <= now)
    elif state is MeetingStatus.PUBLISHED:
        query = query.where(Meeting.status == MeetingStatus.PUBLISHED, Meeting.ends_at > now)
    elif state is not None:
        query = query.where(Meeting.status == state)
    if text.strip():
        query = query.where(matches_folded(text, Meeting.search_key))
    is_own = exists().where(
        meeting_organiser.c.meeting_id == Meeting.id, meeting_organiser.c.user_id == viewer_id
    )
    return query.order_by(case((is_own, 0), else_=1), *by_date)
