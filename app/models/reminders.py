"""Reminders and messages to invitees: the schedule of each meeting's reminders, the record of
what each invitation received from it, and the messages organisers write to a segment."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.sqltypes import utcnow


class ReminderAnchor(enum.Enum):
    """What a reminder's offset counts back from."""

    START = "start"
    DEADLINE = "deadline"


class ReminderUnit(enum.Enum):
    # Hours are elapsed time ("2 hours before"); days and weeks are calendar days at the
    # anchor's local time of day, so "1 day before" 9:00 stays 9:00 across a DST change.
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


class ReminderAudience(enum.Enum):
    # Those coming, and those on the waiting list (who get a text of their own).
    COMING = "coming"
    # The follow-up ("relance"): those whose invitation went out and who have not answered.
    UNANSWERED = "unanswered"


class Reminder(db.Model):
    """One planned reminder of a meeting. `send_at` is computed from the meeting (reminders
    services), recomputed whenever the meeting moves. The periodic job queues it once per
    `round`: `done_at` is set when it was queued or skipped; asking to send it again after a
    move starts a new round."""

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    anchor: Mapped[ReminderAnchor] = mapped_column(default=ReminderAnchor.START)
    amount: Mapped[int]
    unit: Mapped[ReminderUnit] = mapped_column(default=ReminderUnit.DAYS)
    audience: Mapped[ReminderAudience] = mapped_column(default=ReminderAudience.COMING)
    # None when the anchor does not exist (a deadline reminder of a meeting without deadline).
    send_at: Mapped[datetime | None] = mapped_column(index=True)
    round: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped["Meeting"] = relationship(back_populates="reminders")  # noqa: F821
    deliveries: Mapped[list["ReminderDelivery"]] = relationship(
        back_populates="reminder", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return (
            f"<Reminder {self.id} {self.amount} {self.unit.value} before {self.anchor.value}"
            f" to {self.audience.value}>"
        )


class DeliveryStatus(enum.Enum):
    # An e-mail is in the outbox (its own status says whether it went out).
    QUEUED = "queued"
    # The worker was down beyond the grace period: recorded, not sent.
    SKIPPED = "skipped"


class ReminderDelivery(db.Model):
    """One invitation's share of one round of a reminder: the unique key makes it at most
    once, whatever the number of workers or overlapping runs."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (UniqueConstraint("reminder_id", "round", "invitation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminder.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(default=0)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(default=DeliveryStatus.QUEUED)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reminder: Mapped[Reminder] = relationship(back_populates="deliveries")
    invitation: Mapped["Invitation"] = relationship()  # noqa: F821
    outbox_message: Mapped["OutboxMessage | None"] = relationship()  # noqa: F821


class Segment(enum.Enum):
    """Who a message to invitees goes to; always among those whose invitation went out."""

    ALL = "all"
    COMING = "coming"
    NOT_COMING = "not_coming"
    NO_ANSWER = "no_answer"
    WAITING = "waiting"


class MeetingMessage(db.Model):
    """A message an organiser wrote to a segment of a meeting's invitees; its e-mails are
    outbox messages pointing back to it."""

    __tablename__ = "meeting_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    segment: Mapped[Segment]
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    recipient_count: Mapped[int] = mapped_column(default=0)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    meeting: Mapped["Meeting"] = relationship()  # noqa: F821
    sent_by: Mapped["User | None"] = relationship()  # noqa: F821
