"""Builders shared by the tests of the reminder job: a published meeting with one reminder,
its invitees, and what the job left in the outbox and the delivery records."""

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Answer,
    DeliveryStatus,
    Meeting,
    OutboxMessage,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderUnit,
)
from app.reminders.schedule import schedule
from tests.invitee_helpers import a_meeting, invite, set_answer


def add_reminder(
    meeting: Meeting,
    amount: int = 1,
    unit: ReminderUnit = ReminderUnit.DAYS,
    anchor: ReminderAnchor = ReminderAnchor.START,
    audience: ReminderAudience = ReminderAudience.COMING,
) -> Reminder:
    reminder = Reminder(amount=amount, unit=unit, anchor=anchor, audience=audience)
    schedule(reminder, meeting)
    meeting.reminders.append(reminder)
    db.session.commit()
    return reminder


def meeting_due_at(send_at: datetime, audience=ReminderAudience.COMING, **fields):
    """A published meeting whose one reminder ("1 day before") goes out at `send_at`."""
    meeting = a_meeting(send_at, starts_at=send_at + timedelta(days=1), **fields)
    return meeting, add_reminder(meeting, audience=audience)


def invitees(meeting: Meeting, answers, invited_at: datetime) -> list:
    """One invitation per answer in `answers`, sent at `invited_at`."""
    invitations = []
    for number, answer in enumerate(answers):
        invitation, _token = invite(meeting, invited_at)
        if answer is not Answer.NONE:
            set_answer(invitation, answer, invited_at + timedelta(minutes=number))
        invitations.append(invitation)
    return invitations


def emails(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def recipients(kind: str | None = None) -> list[str]:
    return sorted(message.to_address for message in emails(kind))


def deliveries(reminder: Reminder | None = None) -> list[ReminderDelivery]:
    query = select(ReminderDelivery).order_by(ReminderDelivery.id)
    if reminder is not None:
        query = query.where(ReminderDelivery.reminder_id == reminder.id)
    return list(db.session.scalars(query))


def skipped(reminder: Reminder) -> list[int]:
    return sorted(
        delivery.invitation_id
        for delivery in deliveries(reminder)
        if delivery.status is DeliveryStatus.SKIPPED
    )
