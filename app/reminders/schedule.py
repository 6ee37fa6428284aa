"""When reminders go out: a time before the meeting's start or its answer deadline, right
across daylight-saving changes. Pure functions of the meeting, plus keeping `send_at` current.
"""

from datetime import UTC, datetime, timedelta

from app.models import Meeting, Reminder, ReminderAnchor, ReminderAudience, ReminderUnit

# (amount, unit, anchor, audience) of the reminders every new meeting starts with.
DEFAULT_REMINDERS = (
    (7, ReminderUnit.DAYS, ReminderAnchor.START, ReminderAudience.COMING),
    (1, ReminderUnit.DAYS, ReminderAnchor.START, ReminderAudience.COMING),
)


def anchor_time(meeting: Meeting, anchor: ReminderAnchor) -> datetime | None:
    if anchor is ReminderAnchor.DEADLINE:
        return meeting.answer_deadline
    return meeting.starts_at


def send_time(
    meeting: Meeting, anchor: ReminderAnchor, amount: int, unit: ReminderUnit
) -> datetime | None:
    """The UTC moment of a reminder `amount` `unit` before the anchor, or None without one.

    Days and weeks are counted on the wall clock of the meeting's zone: "1 day before"
    Monday 30 March 2026 at 9:00 in Paris is Sunday 29 March at 9:00 in Paris, although the
    clocks went forward that night. A wall time that does not exist (in the spring gap) is
    read with the offset before the change, so it lands just after the gap."""
    moment = anchor_time(meeting, anchor)
    if moment is None:
        return None
    if unit is ReminderUnit.HOURS:
        return (moment - timedelta(hours=amount)).astimezone(UTC)
    days = amount * 7 if unit is ReminderUnit.WEEKS else amount
    wall = moment.astimezone(meeting.zone).replace(tzinfo=None) - timedelta(days=days)
    return wall.replace(tzinfo=meeting.zone).astimezone(UTC)


def is_after_deadline(meeting: Meeting, moment: datetime) -> bool:
    """Whether a follow-up at `moment` would come when the meeting no longer takes answers."""
    return meeting.answer_deadline is not None and moment >= meeting.answer_deadline


def schedule(reminder: Reminder, meeting: Meeting) -> None:
    """Set the reminder's `send_at` from the meeting as it is now."""
    reminder.send_at = send_time(meeting, reminder.anchor, reminder.amount, reminder.unit)


def reschedule_reminders(meeting: Meeting) -> None:
    """After the meeting's start, deadline or zone changed: every reminder follows it. Those
    already sent stay sent (their round is done) unless the organiser sends them again."""
    for reminder in meeting.reminders:
        schedule(reminder, meeting)


def add_default_reminders(meeting: Meeting) -> None:
    for amount, unit, anchor, audience in DEFAULT_REMINDERS:
        reminder = Reminder(amount=amount, unit=unit, anchor=anchor, audience=audience)
        schedule(reminder, meeting)
        meeting.reminders.append(reminder)
