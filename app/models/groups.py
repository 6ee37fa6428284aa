"""Working groups and recurring series: standing groups of contacts that meet repeatedly, and
the series of meetings a recurring rhythm creates."""

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.sqltypes import utcnow


class GroupRole(enum.Enum):
    LEAD = "lead"  # animateur·rice
    MEMBER = "member"
    PERMANENT_GUEST = "permanent_guest"  # invité·e permanent·e


# The accounts that manage a group; others may read it.
group_organiser = Table(
    "group_organiser",
    db.metadata,
    Column("group_id", ForeignKey("working_group.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)

# The organisations leading a group ("animé par").
group_lead_organisation = Table(
    "group_lead_organisation",
    db.metadata,
    Column("group_id", ForeignKey("working_group.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)

# The groups a meeting belongs to: several for a joint meeting.
meeting_group = Table(
    "meeting_group",
    db.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "group_id", ForeignKey("working_group.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Group(db.Model):
    """A standing working group ("groupe de travail"). Named working_group in the database:
    GROUP is a reserved word of SQL."""

    __tablename__ = "working_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Folded name, for accent-insensitive search.
    search_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Archived groups are kept with their history, and take no new meetings or members.
    archived_at: Mapped[datetime | None]
    # The SHA-256 of the secret token of the group's calendar feed; None until one is made,
    # or after it was revoked.
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    organisers: Mapped[list["User"]] = relationship(secondary=group_organiser)  # noqa: F821
    lead_organisations: Mapped[list["Organisation"]] = relationship(  # noqa: F821
        secondary=group_lead_organisation, order_by="Organisation.name_key"
    )
    memberships: Mapped[list["GroupMembership"]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )
    meetings: Mapped[list["Meeting"]] = relationship(  # noqa: F821
        secondary=meeting_group, back_populates="groups", order_by="Meeting.starts_at"
    )

    def __repr__(self) -> str:
        return f"<Group {self.id} {self.name!r}>"


class GroupMembership(db.Model):
    """A contact's time in a group: from `joined_on` until `left_on` (None: still a member). A
    contact who leaves and comes back has a row for each time; at most one is current."""

    __tablename__ = "group_membership"
    __table_args__ = (
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="left_after_joining"),
        Index(
            "uq_group_membership_current",
            "group_id",
            "contact_id",
            unique=True,
            sqlite_where=Column("left_on").is_(None),
            postgresql_where=Column("left_on").is_(None),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[GroupRole] = mapped_column(default=GroupRole.MEMBER)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship(back_populates="memberships")
    contact: Mapped["Contact"] = relationship()  # noqa: F821


class SeriesFrequency(enum.Enum):
    # Every `step` weeks on the start date's weekday.
    WEEKLY = "weekly"
    # Every `step` months on the Nth weekday ("le 2e mardi"; -1: the last one).
    MONTHLY_BY_WEEKDAY = "monthly_by_weekday"
    # Every `step` months on the start date's day of the month.
    MONTHLY_BY_DAY = "monthly_by_day"


class Series(db.Model):
    """A recurring rhythm and the meetings it created. Each meeting is then its own: it can be
    edited or cancelled alone, or with all the following ones."""

    __table_args__ = (
        CheckConstraint("step > 0", name="step_positive"),
        CheckConstraint(
            "(end_date IS NULL) <> (occurrences IS NULL)", name="ends_by_date_or_occurrences"
        ),
        CheckConstraint("occurrences IS NULL OR occurrences > 0", name="occurrences_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[SeriesFrequency]
    # Every `step` weeks or months (2 and MONTHLY_BY_WEEKDAY: every two months).
    step: Mapped[int] = mapped_column(default=1)
    # For MONTHLY_BY_WEEKDAY: which weekday of the month (1 to 4, or -1 for the last).
    week_of_month: Mapped[int | None]
    start_date: Mapped[date] = mapped_column(Date)
    # The series ends on a date, or after a number of meetings: one of the two.
    end_date: Mapped[date | None] = mapped_column(Date)
    occurrences: Mapped[int | None]
    # Local time of day of every meeting, in `timezone`.
    starts_at_time: Mapped[time]
    ends_at_time: Mapped[time]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # The organiser's own subject and text of the e-mail inviting to the whole series; empty:
    # the default text.
    invitation_subject: Mapped[str] = mapped_column(String(300), default="")
    invitation_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    skipped_dates: Mapped[list["SeriesSkippedDate"]] = relationship(
        back_populates="series",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SeriesSkippedDate.day",
    )
    meetings: Mapped[list["Meeting"]] = relationship(  # noqa: F821
        back_populates="series", order_by="Meeting.starts_at"
    )


class SeriesSkippedDate(db.Model):
    """A date the rhythm skips (school holidays, a bank holiday)."""

    __tablename__ = "series_skipped_date"
    __table_args__ = (UniqueConstraint("series_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)

    series: Mapped[Series] = relationship(back_populates="skipped_dates")
