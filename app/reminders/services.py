"""The organisers' side of reminders: a meeting's schedule, changing it, its texts, and what
each reminder sent."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from app.extensions import db
from app.meetings.services import MeetingStateError
from app.models import (
    DeliveryStatus,
    Meeting,
    MeetingStatus,
    MessageStatus,
    OutboxMessage,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderUnit,
)
from app.reminders import sending
from app.reminders.schedule import is_after_deadline, schedule, send_time

# A year before the anchor, whatever the unit.
MAX_AMOUNTS = {ReminderUnit.HOURS: 24 * 365, ReminderUnit.DAYS: 365, ReminderUnit.WEEKS: 52}

UNIT_LABELS = {
    ReminderUnit.HOURS: _l("hours"),
    ReminderUnit.DAYS: _l("days"),
    ReminderUnit.WEEKS: _l("weeks"),
}
ANCHOR_LABELS = {
    ReminderAnchor.START: _l("the start of the meeting"),
    ReminderAnchor.DEADLINE: _l("the answer deadline"),
}
AUDIENCE_LABELS = {
    ReminderAudience.COMING: _l("Those coming (reminder)"),
    ReminderAudience.UNANSWERED: _l("Those who have not answered (follow-up)"),
}

# What became of a reminder, as its row on the meeting's pages says.
PENDING = "pending"
SENT = "sent"
SKIPPED = "skipped"
UNSCHEDULED = "unscheduled"
NOT_SENT = "not_sent"
STATE_LABELS = {
    PENDING: _l("Planned"),
    SENT: _l("Sent"),
    SKIPPED: _l("Skipped"),
    UNSCHEDULED: _l("Not scheduled"),
    NOT_SENT: _l("Will not be sent"),
}


@dataclass(frozen=True)
class ReminderData:
    """A form's cleaned values on their way to the services."""

    amount: int
    unit: ReminderUnit = ReminderUnit.DAYS
    anchor: ReminderAnchor = ReminderAnchor.START
    audience: ReminderAudience = ReminderAudience.COMING


class InvalidReminder(ValueError):
    """The data breaks a reminder rule; `problems` maps form field names to messages."""

    def __init__(self, problems: dict[str, str]) -> None:
        # Field names only: the messages are lazy and need a request to pick their language.
        super().__init__(f"invalid reminder: {', '.join(problems)}")
        self.problems = problems


# Labels


def offset_label(amount: int, unit: ReminderUnit) -> str:
    if unit is ReminderUnit.HOURS:
        return ngettext("%(num)s hour", "%(num)s hours", amount)
    if unit is ReminderUnit.WEEKS:
        return ngettext("%(num)s week", "%(num)s weeks", amount)
    return ngettext("%(num)s day", "%(num)s days", amount)


def reminder_label(reminder: Reminder) -> str:
    """ "7 days before the start, to those coming", in the current language."""
    offset = offset_label(reminder.amount, reminder.unit)
    coming = reminder.audience is ReminderAudience.COMING
    if reminder.anchor is ReminderAnchor.DEADLINE:
        if coming:
            return _("%(offset)s before the answer deadline, to those coming", offset=offset)
        return _(
            "%(offset)s before the answer deadline, to those who have not answered",
            offset=offset,
        )
    if coming:
        return _("%(offset)s before the start, to those coming", offset=offset)
    return _("%(offset)s before the start, to those who have not answered", offset=offset)


# Rules


def _offset(amount: int, unit: ReminderUnit) -> tuple[str, int]:
    """Offsets naming the same moment compare equal: a week is seven days. Hours stay apart
    from days, which keep the local time of day across a change of clocks."""
    if unit is ReminderUnit.HOURS:
        return ("hours", amount)
    return ("days", amount * 7 if unit is ReminderUnit.WEEKS else amount)


def _is_duplicate(
    meeting: Meeting, data: ReminderData, moment: datetime | None, reminder: Reminder | None
) -> bool:
    offset = _offset(data.amount, data.unit)
    for other in meeting.reminders:
        if other is reminder or other.audience is not data.audience:
            continue
        if other.anchor is data.anchor and _offset(other.amount, other.unit) == offset:
            return True
        if moment is not None and other.send_at == moment:
            return True
    return False


def reminder_problems(
    meeting: Meeting, data: ReminderData, now: datetime, reminder: Reminder | None = None
) -> dict[str, str]:
    """Every rule a reminder of `meeting` must follow, as {form field name: message}; empty
    when valid. `reminder` is the one being changed, which may keep its own moment."""
    maximum = MAX_AMOUNTS[data.unit]
    if not 1 <= data.amount <= maximum:
        return {"amount": _l("Give a number from 1 to %(max)s.", max=maximum)}
    if data.anchor is ReminderAnchor.DEADLINE and meeting.answer_deadline is None:
        return {
            "anchor": _l(
                "This meeting has no answer deadline: count from its start, or give it a "
                "deadline first."
            )
        }
    moment = send_time(meeting, data.anchor, data.amount, data.unit)
    if _is_duplicate(meeting, data, moment, reminder):
        return {"amount": _l("There is already a reminder at this moment for these people.")}
    if moment <= now:
        return {"amount": _l("This moment has already passed: the reminder would never go out.")}
    if data.audience is ReminderAudience.UNANSWERED and is_after_deadline(meeting, moment):
        return {
            "amount": _l(
                "This moment is after the answer deadline: those who have not answered could no "
                "longer answer. Choose an earlier moment."
            )
        }
    return {}


def check_changeable(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("This meeting is cancelled: its reminders cannot change."))


def check_editable(reminder: Reminder) -> None:
    """Only a reminder still to be sent in its current round can change."""
    check_changeable(reminder.meeting)
    if reminder.done_at is not None:
        raise MeetingStateError(
            _l(
                "This reminder has gone out: it can no longer change. Delete it, or add "
                "another one."
            )
        )


def check_can_send_again(reminder: Reminder, now: datetime) -> None:
    """A reminder that went out can go again, at its time computed from the meeting as it
    is now (after a move), as long as that time and the meeting are still to come."""
    status = reminder.meeting.status_at(now)
    if status is MeetingStatus.CANCELLED:
        raise MeetingStateError(_l("This meeting is cancelled: no reminder will go out."))
    if status is MeetingStatus.HELD:
        raise MeetingStateError(_l("This meeting has taken place: no reminder will go out."))
    if reminder.done_at is None:
        raise MeetingStateError(_l("This reminder has not gone out yet: it will at its time."))
    moment = send_time(reminder.meeting, reminder.anchor, reminder.amount, reminder.unit)
    if moment is None:
        raise MeetingStateError(
            _l("This meeting has no answer deadline any more: the reminder has no time.")
        )
    if moment <= now:
        raise MeetingStateError(
            _l(
                "The time of this reminder has passed, so it cannot go out again. To write "
                "to the invitees now, send them a message."
            )
        )


# Changing the schedule


def add_reminder(meeting: Meeting, data: ReminderData, now: datetime) -> Reminder:
    check_changeable(meeting)
    problems = reminder_problems(meeting, data, now)
    if problems:
        raise InvalidReminder(problems)
    reminder = Reminder(
        amount=data.amount,
        unit=data.unit,
        anchor=data.anchor,
        audience=data.audience,
        created_at=now,
    )
    schedule(reminder, meeting)
    meeting.reminders.append(reminder)
    db.session.flush()
    return reminder


def update_reminder(reminder: Reminder, data: ReminderData, now: datetime) -> Reminder:
    check_editable(reminder)
    meeting = reminder.meeting
    problems = reminder_problems(meeting, data, now, reminder)
    if problems:
        raise InvalidReminder(problems)
    reminder.amount = data.amount
    reminder.unit = data.unit
    reminder.anchor = data.anchor
    reminder.audience = data.audience
    schedule(reminder, meeting)
    db.session.flush()
    return reminder


def delete_reminder(reminder: Reminder) -> None:
    """Delete a reminder, sent or not; the record of what it sent goes with it (the e-mails
    stay in the outbox)."""
    meeting = reminder.meeting
    check_changeable(meeting)
    # Removed from the collection too, so the meeting in this session forgets it at once.
    meeting.reminders.remove(reminder)
    db.session.delete(reminder)
    db.session.flush()


def send_again(reminder: Reminder, now: datetime) -> Reminder:
    """Start a new round: the reminder goes out again at its time, to everyone it concerns
    then, including those who received it before."""
    check_can_send_again(reminder, now)
    reminder.round += 1
    reminder.done_at = None
    schedule(reminder, reminder.meeting)
    db.session.flush()
    return reminder


def save_text(meeting: Meeting, audience: ReminderAudience, subject: str, message: str) -> None:
    """Keep the organiser's subject and message of the reminder or the follow-up; empty
    ones go back to the default text."""
    check_changeable(meeting)
    sending.save_reminder_text(meeting, audience, subject, message)


def uses_default_text(meeting: Meeting, audience: ReminderAudience) -> bool:
    if audience is ReminderAudience.COMING:
        return not (meeting.reminder_subject or meeting.reminder_message)
    return not (meeting.followup_subject or meeting.followup_message)


# What the meeting's pages show


@dataclass(frozen=True)
class RoundCounts:
    """What one round of a reminder did: e-mails still queued, sent, failed, and invitations
    skipped because the worker was down too long. `started_at` is its first record."""

    round: int
    started_at: datetime
    queued: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sent + self.failed + self.skipped


@dataclass(frozen=True)
class ReminderRow:
    reminder: Reminder
    label: str
    send_at: datetime | None
    state: str
    # Why a reminder will not go out, or what it waits for; empty when there is nothing to say.
    note: str
    # For a planned reminder: how many people it would go to now.
    recipients: int | None
    # Latest round first.
    rounds: tuple[RoundCounts, ...]
    editable: bool
    deletable: bool
    can_send_again: bool

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def current(self) -> RoundCounts | None:
        return current_round(self.reminder, self.rounds)


def current_round(reminder: Reminder, rounds: tuple[RoundCounts, ...]) -> RoundCounts | None:
    """The counts of the reminder's current round, if it has any records."""
    return next((counts for counts in rounds if counts.round == reminder.round), None)


def _delivery_kind(delivery: DeliveryStatus, message: MessageStatus | None) -> str:
    if delivery is DeliveryStatus.SKIPPED:
        return "skipped"
    if message is MessageStatus.FAILED:
        return "failed"
    # The outbox only lets go of a message (the link is then empty) once it dealt with it.
    if message is None or message is MessageStatus.SENT:
        return "sent"
    return "queued"


def round_counts(meeting: Meeting) -> dict[int, tuple[RoundCounts, ...]]:
    """Per reminder of the meeting, the counts of each of its rounds, latest first: one
    aggregate query, whatever the number of reminders and invitees."""
    rows = db.session.execute(
        select(
            ReminderDelivery.reminder_id,
            ReminderDelivery.round,
            ReminderDelivery.status,
            OutboxMessage.status,
            func.count(ReminderDelivery.id),
            func.min(ReminderDelivery.created_at),
        )
        .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == ReminderDelivery.outbox_message_id)
        .where(Reminder.meeting_id == meeting.id)
        .group_by(
            ReminderDelivery.reminder_id,
            ReminderDelivery.round,
            ReminderDelivery.status,
            OutboxMessage.status,
        )
    )
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"queued": 0, "sent": 0, "failed": 0, "skipped": 0}
    )
    started: dict[tuple[int, int], datetime] = {}
    for reminder_id, number, delivery, message, count, first in rows:
        key = (reminder_id, number)
        counts[key][_delivery_kind(delivery, message)] += count
        started[key] = min(started.get(key, first), first)
    by_reminder: dict[int, list[RoundCounts]] = defaultdict(list)
    for (reminder_id, number), values in counts.items():
        by_reminder[reminder_id].append(
            RoundCounts(number, started[(reminder_id, number)], **values)
        )
    return {
        reminder_id: tuple(sorted(rounds, key=lambda counts: -counts.round))
        for reminder_id, rounds in by_reminder.items()
    }


def _state(
    reminder: Reminder,
    meeting: Meeting,
    status: MeetingStatus,
    current: RoundCounts | None,
    now: datetime,
) -> tuple[str, str]:
    """(state, note) of a reminder of `meeting`, whose status at `now` is `status`."""
    if reminder.done_at is not None:
        if current is None or current.total == 0:
            return SENT, _("There was nobody to send it to.")
        if current.skipped and not (current.queued or current.sent or current.failed):
            return SKIPPED, _("The e-mail worker was stopped for too long at its time.")
        return SENT, ""
    if status is MeetingStatus.CANCELLED:
        return NOT_SENT, _("The meeting is cancelled.")
    if status is MeetingStatus.HELD:
        return NOT_SENT, _("The meeting has taken place.")
    if reminder.send_at is None:
        return UNSCHEDULED, _("The meeting has no answer deadline.")
    published_late = meeting.published_at is not None and reminder.send_at < meeting.published_at
    if published_late or (status is MeetingStatus.DRAFT and reminder.send_at <= now):
        return NOT_SENT, _("Its time passed before the meeting was published.")
    if status is MeetingStatus.DRAFT:
        return PENDING, _("If the meeting is published by then.")
    return PENDING, ""


def _send_order(reminder: Reminder) -> tuple:
    # Those without a time (no deadline) last.
    return (reminder.send_at is None, reminder.send_at or reminder.created_at, reminder.id)


def reminder_overview(meeting: Meeting, now: datetime) -> list[ReminderRow]:
    """The meeting's reminders in the order they go out, each with its state, how many it
    would reach now (planned ones) and what each of its rounds did: a fixed number of
    queries, whatever the number of reminders and invitees."""
    reminders = sorted(meeting.reminders, key=_send_order)
    status = meeting.status_at(now)
    rounds = round_counts(meeting) if reminders else {}
    states = {}
    for reminder in reminders:
        current = current_round(reminder, rounds.get(reminder.id, ()))
        states[reminder.id] = _state(reminder, meeting, status, current, now)
    pending = [reminder for reminder in reminders if states[reminder.id][0] == PENDING]
    recipients = sending.recipient_counts(pending) if pending else {}
    open_meeting = status in (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED)
    rows = []
    for reminder in reminders:
        state, note = states[reminder.id]
        went_out = state in (SENT, SKIPPED)
        rows.append(
            ReminderRow(
                reminder=reminder,
                label=reminder_label(reminder),
                send_at=reminder.send_at,
                state=state,
                note=note,
                recipients=recipients.get(reminder.id, 0) if state == PENDING else None,
                rounds=rounds.get(reminder.id, ()),
                editable=open_meeting and not went_out,
                deletable=meeting.status is not MeetingStatus.CANCELLED,
                can_send_again=(
                    open_meeting
                    and went_out
                    and reminder.send_at is not None
                    and reminder.send_at > now
                ),
            )
        )
    return rows
