"""Meetings: one dated event with a venue or an online link, its programme and its organisers."""

import enum
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.sqltypes import utcnow
from app.text import fold


class MeetingVisibility(enum.Enum):
    # Only the people on the list know of it (the default).
    INVITATION_ONLY = "invitation_only"
    # Once published, it has a public page where anyone may register, and is on the agenda.
    OPEN = "open"


class MeetingStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    # Never stored: a published meeting whose end has passed is shown as held.
    HELD = "held"


meeting_organiser = Table(
    "meeting_organiser",
    db.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Meeting(db.Model):
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "answer_deadline IS NULL OR answer_deadline <= starts_at", name="deadline_before_start"
        ),
        CheckConstraint(
            "venue_name <> '' OR venue_address <> '' OR online_url <> ''", name="venue_or_link"
        ),
        CheckConstraint("status <> 'held'", name="held_is_derived"),
        CheckConstraint("max_proxies_per_holder > 0", name="max_proxies_positive"),
        CheckConstraint(
            "quorum_numerator IS NULL OR (quorum_numerator > 0 AND (quorum_denominator IS NULL"
            " OR quorum_denominator >= quorum_numerator))",
            name="quorum_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MeetingStatus] = mapped_column(default=MeetingStatus.DRAFT, index=True)
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(String(300), default="")
    venue_postcode: Mapped[str] = mapped_column(String(10), default="")
    venue_town: Mapped[str] = mapped_column(String(120), default="")
    venue_access_notes: Mapped[str] = mapped_column(Text, default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None]
    answer_deadline: Mapped[datetime | None]
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_function: Mapped[str] = mapped_column(String(200), default="")
    contact_organisation: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    # Folded title, venue and town for accent-insensitive search.
    search_key: Mapped[str] = mapped_column(String(700), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The invitation e-mail's subject and opening text, editable per meeting; empty means the
    # default text built from the meeting.
    invitation_subject: Mapped[str] = mapped_column(String(300), default="")
    invitation_message: Mapped[str] = mapped_column(Text, default="")
    # iCalendar SEQUENCE: raised whenever the time or the place changes.
    sequence: Mapped[int] = mapped_column(default=0)
    # The reminder's and the follow-up's subject and opening text; empty means the default.
    reminder_subject: Mapped[str] = mapped_column(String(300), default="")
    reminder_message: Mapped[str] = mapped_column(Text, default="")
    followup_subject: Mapped[str] = mapped_column(String(300), default="")
    followup_message: Mapped[str] = mapped_column(Text, default="")
    # Attendance: closed once the organiser has checked the record after the meeting.
    attendance_closed_at: Mapped[datetime | None]
    # Proxies ("pouvoirs") between invitees, and how many one person may hold.
    proxies_allowed: Mapped[bool] = mapped_column(default=False)
    max_proxies_per_holder: Mapped[int] = mapped_column(default=1)
    # Quorum of a deliberative meeting: a number of people (denominator None) or a fraction
    # of the members invited (2/3: numerator 2, denominator 3); None when there is none.
    quorum_numerator: Mapped[int | None]
    quorum_denominator: Mapped[int | None]
    # Invitation-only, or open: a public page and registrations once published.
    visibility: Mapped[MeetingVisibility] = mapped_column(default=MeetingVisibility.INVITATION_ONLY)
    # The readable public address (/m/<slug>) of an open meeting, from its title and date; set
    # when it is first published open, then never changed, so shared links keep working.
    slug: Mapped[str | None] = mapped_column(String(250), unique=True)
    # Registrations wait for an organiser's approval before they hold a place.
    registrations_moderated: Mapped[bool] = mapped_column(default=False)
    # The series that created this meeting, if any (app/models/groups.py).
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )

    organisers: Mapped[list["User"]] = relationship(secondary=meeting_organiser)  # noqa: F821
    groups: Mapped[list["Group"]] = relationship(  # noqa: F821
        secondary="meeting_group", back_populates="meetings", order_by="Group.name"
    )
    series: Mapped["Series | None"] = relationship(back_populates="meetings")  # noqa: F821
    invitations: Mapped[list["Invitation"]] = relationship(  # noqa: F821
        back_populates="meeting", cascade="all, delete-orphan", passive_deletes=True
    )
    reminders: Mapped[list["Reminder"]] = relationship(  # noqa: F821
        back_populates="meeting",
        order_by="Reminder.send_at, Reminder.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    programme_items: Mapped[list["ProgrammeItem"]] = relationship(
        back_populates="meeting",
        order_by="ProgrammeItem.position",
        cascade="all, delete-orphan",
    )
    questions: Mapped[list["MeetingQuestion"]] = relationship(  # noqa: F821
        back_populates="meeting",
        order_by="MeetingQuestion.position, MeetingQuestion.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_starts_at(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_ends_at(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    def status_at(self, now: datetime) -> MeetingStatus:
        """The status shown to people: a published meeting that has ended counts as held."""
        if self.status is MeetingStatus.PUBLISHED and self.ends_at <= now:
            return MeetingStatus.HELD
        return self.status

    @property
    def has_venue(self) -> bool:
        return bool(self.venue_name or self.venue_address)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.title!r}>"


class ProgrammeItem(db.Model):
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int]
    # Local time of day in the meeting's zone, when the item is timed.
    starts_at: Mapped[time | None]
    text: Mapped[str] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="programme_items")


@event.listens_for(Meeting, "before_insert")
@event.listens_for(Meeting, "before_update")
def _meeting_search_key(mapper, connection, meeting: Meeting) -> None:
    # Column defaults are only applied by the INSERT itself, so unset parts are still None here.
    parts = [meeting.title, meeting.venue_name, meeting.venue_town, meeting.contact_name]
    # Cut to the column's length: the four parts at their longest (and "œ" folded to "oe")
    # would overflow it, which PostgreSQL refuses.
    meeting.search_key = fold(" ".join(part or "" for part in parts))[:700]
