"""The rules of a meeting's reminder schedule: adding, changing, deleting and sending again a
reminder, its label, and the overview the meeting's pages show."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.meetings.services import MeetingStateError
from app.models import (
    DeliveryStatus,
    MeetingStatus,
    MessageStatus,
    OutboxMessage,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderUnit,
)
from app.reminders import sending, services
from app.reminders.schedule import add_default_reminders, reschedule_reminders
from app.reminders.services import InvalidReminder, ReminderData
from tests.invitee_helpers import a_meeting, invite

HOURS, DAYS, WEEKS = ReminderUnit.HOURS, ReminderUnit.DAYS, ReminderUnit.WEEKS
START, DEADLINE = ReminderAnchor.START, ReminderAnchor.DEADLINE
COMING, UNANSWERED = ReminderAudience.COMING, ReminderAudience.UNANSWERED

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# Monday 30 March 2026 at 9:00 in Paris, the day after the clocks go forward.
MONDAY = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
# Wednesday 25 March 2026 at 23:59 in Paris (winter time).
DEADLINE_MOMENT = datetime(2026, 3, 25, 22, 59, tzinfo=UTC)


def monday_meeting(**fields):
    """A published meeting on MONDAY with the default reminders: 7 days and 1 day before."""
    meeting = a_meeting(NOW, starts_at=fields.pop("starts_at", MONDAY), **fields)
    add_default_reminders(meeting)
    db.session.commit()
    return meeting


def reminder_of(meeting, amount: int, unit: ReminderUnit = DAYS) -> Reminder:
    return next(r for r in meeting.reminders if (r.amount, r.unit) == (amount, unit))


def deliver(
    reminder: Reminder,
    invitation,
    status: MessageStatus | None = MessageStatus.SENT,
    round_number: int = 0,
    at: datetime = NOW,
) -> ReminderDelivery:
    """A record of `reminder` for `invitation`: its e-mail in the outbox with `status`, or
    skipped when `status` is None."""
    message = None
    if status is not None:
        message = OutboxMessage(
            kind="reminder",
            status=status,
            to_address=invitation.contact.email,
            subject="Rappel",
            text_body="Rappel",
            html_body="<p>Rappel</p>",
            message_id=f"<{uuid4()}@rencontres.test>",
            meeting_id=reminder.meeting_id,
            invitation_id=invitation.id,
        )
    delivery = ReminderDelivery(
        reminder=reminder,
        round=round_number,
        invitation_id=invitation.id,
        status=DeliveryStatus.QUEUED if message else DeliveryStatus.SKIPPED,
        outbox_message=message,
        created_at=at,
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


def mark_done(reminder: Reminder, at: datetime | None = None) -> None:
    reminder.done_at = at or reminder.send_at
    db.session.commit()


def problems_of(call) -> dict:
    with pytest.raises(InvalidReminder) as refusal:
        call()
    return refusal.value.problems


# Adding


def test_a_new_reminder_counts_back_from_the_start(app):
    meeting = monday_meeting()

    reminder = services.add_reminder(meeting, ReminderData(2, HOURS, START, COMING), NOW)
    db.session.commit()

    assert reminder.send_at == MONDAY - timedelta(hours=2)
    assert reminder.created_at == NOW
    assert reminder.round == 0 and reminder.done_at is None
    assert reminder in meeting.reminders


def test_a_follow_up_can_count_back_from_the_answer_deadline(app):
    meeting = monday_meeting(answer_deadline=DEADLINE_MOMENT)

    reminder = services.add_reminder(meeting, ReminderData(3, DAYS, DEADLINE, UNANSWERED), NOW)

    # Sunday 22 March at 23:59 in Paris, still winter time.
    assert reminder.send_at == datetime(2026, 3, 22, 22, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "unit"),
    [(0, DAYS), (-1, HOURS), (366, DAYS), (53, WEEKS), (8761, HOURS)],
)
def test_an_amount_out_of_range_is_refused(app, amount, unit):
    meeting = monday_meeting()

    problems = problems_of(
        lambda: services.add_reminder(meeting, ReminderData(amount, unit, START, COMING), NOW)
    )

    assert set(problems) == {"amount"}
    assert len(meeting.reminders) == 2


def test_a_follow_up_after_the_answer_deadline_is_refused(app):
    meeting = monday_meeting(answer_deadline=DEADLINE_MOMENT)

    problems = problems_of(
        lambda: services.add_reminder(meeting, ReminderData(2, DAYS, START, UNANSWERED), NOW)
    )
    # Those coming may still be reminded then.
    services.add_reminder(meeting, ReminderData(2, DAYS, START, COMING), NOW)

    with force_locale("en"):
        assert "after the answer deadline" in str(problems["amount"])


def test_a_reminder_counted_from_the_deadline_needs_a_deadline(app):
    meeting = monday_meeting()

    problems = problems_of(
        lambda: services.add_reminder(meeting, ReminderData(3, DAYS, DEADLINE, UNANSWERED), NOW)
    )

    assert set(problems) == {"anchor"}


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        (7, DAYS),
        # A week is seven days.
        (1, WEEKS),
        # Sunday and Monday are both summer time: 24 hours before is the same moment as 1 day.
        (24, HOURS),
    ],
)
def test_a_second_reminder_at_the_same_moment_for_the_same_people_is_refused(app, amount, unit):
    meeting = monday_meeting()

    problems = problems_of(
        lambda: services.add_reminder(meeting, ReminderData(amount, unit, START, COMING), NOW)
    )

    assert set(problems) == {"amount"}


@pytest.mark.parametrize(
    ("amount", "unit", "audience"),
    [
        (7, DAYS, UNANSWERED),
        # 168 hours before Monday 9:00 summer time is Monday 23 March at 8:00 winter time,
        # an hour before "7 days before".
        (168, HOURS, COMING),
    ],
)
def test_another_moment_or_audience_is_no_duplicate(app, amount, unit, audience):
    meeting = monday_meeting()

    services.add_reminder(meeting, ReminderData(amount, unit, START, audience), NOW)

    assert len(meeting.reminders) == 3


def test_a_moment_already_passed_is_refused(app):
    meeting = monday_meeting(starts_at=NOW + timedelta(days=3))

    problems = problems_of(
        lambda: services.add_reminder(meeting, ReminderData(1, WEEKS, START, COMING), NOW)
    )

    assert set(problems) == {"amount"}


def test_a_cancelled_meeting_keeps_its_reminders_as_they_are(app):
    meeting = monday_meeting(status=MeetingStatus.CANCELLED)
    reminder = reminder_of(meeting, 7)

    with pytest.raises(MeetingStateError):
        services.add_reminder(meeting, ReminderData(2, HOURS, START, COMING), NOW)
    with pytest.raises(MeetingStateError):
        services.update_reminder(reminder, ReminderData(3, DAYS, START, COMING), NOW)
    with pytest.raises(MeetingStateError):
        services.delete_reminder(reminder)
    db.session.rollback()

    assert sorted((r.amount, r.unit) for r in meeting.reminders) == [(1, DAYS), (7, DAYS)]


# Changing and deleting


def test_changing_a_planned_reminder_moves_it(app):
    meeting = monday_meeting(answer_deadline=DEADLINE_MOMENT)
    reminder = reminder_of(meeting, 7)

    services.update_reminder(reminder, ReminderData(2, DAYS, DEADLINE, UNANSWERED), NOW)
    db.session.commit()

    assert (reminder.amount, reminder.unit, reminder.anchor, reminder.audience) == (
        2,
        DAYS,
        DEADLINE,
        UNANSWERED,
    )
    assert reminder.send_at == DEADLINE_MOMENT - timedelta(days=2)


def test_saving_a_reminder_unchanged_is_no_duplicate_of_itself(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)

    services.update_reminder(reminder, ReminderData(1, WEEKS, START, COMING), NOW)

    assert reminder.send_at == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_changing_into_another_reminder_is_refused(app):
    meeting = monday_meeting()

    problems = problems_of(
        lambda: services.update_reminder(
            reminder_of(meeting, 7), ReminderData(1, DAYS, START, COMING), NOW
        )
    )

    assert set(problems) == {"amount"}


def test_a_reminder_that_went_out_cannot_change(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    mark_done(reminder)

    with pytest.raises(MeetingStateError):
        services.update_reminder(reminder, ReminderData(6, DAYS, START, COMING), NOW)


def test_deleting_a_reminder_that_went_out_deletes_its_record_not_the_emails(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    invitation, _token = invite(meeting, NOW)
    deliver(reminder, invitation)
    mark_done(reminder)

    services.delete_reminder(reminder)
    db.session.commit()

    assert [(r.amount, r.unit) for r in meeting.reminders] == [(1, DAYS)]
    assert db.session.scalar(select(func.count(ReminderDelivery.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


# Sending again


def move(meeting, by: timedelta) -> None:
    meeting.starts_at += by
    meeting.ends_at += by
    reschedule_reminders(meeting)
    db.session.commit()


def test_a_reminder_sent_before_the_meeting_moved_can_go_out_again(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    later = NOW + timedelta(days=22)
    mark_done(reminder)
    move(meeting, timedelta(weeks=2))

    services.send_again(reminder, later)
    db.session.commit()

    assert reminder.round == 1
    assert reminder.done_at is None
    assert reminder.send_at == datetime(2026, 4, 6, 7, 0, tzinfo=UTC)


def test_a_reminder_whose_time_has_passed_cannot_go_out_again(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    mark_done(reminder)

    with pytest.raises(MeetingStateError):
        services.send_again(reminder, reminder.send_at + timedelta(hours=1))
    assert reminder.round == 0


def test_a_planned_reminder_is_not_sent_again(app):
    meeting = monday_meeting()

    with pytest.raises(MeetingStateError):
        services.send_again(reminder_of(meeting, 7), NOW)


@pytest.mark.parametrize("state", ["cancelled", "held"])
def test_no_reminder_goes_out_again_for_a_meeting_cancelled_or_over(app, state):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    mark_done(reminder)
    move(meeting, timedelta(weeks=2))
    now = NOW
    if state == "cancelled":
        meeting.status = MeetingStatus.CANCELLED
    else:
        now = meeting.ends_at + timedelta(hours=1)

    with pytest.raises(MeetingStateError):
        services.send_again(reminder, now)
    assert reminder.round == 0


# Labels


@pytest.mark.parametrize(
    ("amount", "unit", "anchor", "audience", "label"),
    [
        (7, DAYS, START, COMING, "7 days before the start, to those coming"),
        (1, DAYS, START, COMING, "1 day before the start, to those coming"),
        (2, HOURS, START, COMING, "2 hours before the start, to those coming"),
        (1, WEEKS, START, UNANSWERED, "1 week before the start, to those who have not answered"),
        (
            3,
            DAYS,
            DEADLINE,
            UNANSWERED,
            "3 days before the answer deadline, to those who have not answered",
        ),
        (1, HOURS, DEADLINE, COMING, "1 hour before the answer deadline, to those coming"),
    ],
)
def test_a_reminder_reads_as_a_sentence(app, amount, unit, anchor, audience, label):
    reminder = Reminder(amount=amount, unit=unit, anchor=anchor, audience=audience)

    with force_locale("en"):
        assert services.reminder_label(reminder) == label


# The overview


def rows_by_amount(meeting, now: datetime = NOW) -> dict:
    return {row.reminder.amount: row for row in services.reminder_overview(meeting, now)}


def test_the_overview_lists_the_reminders_in_the_order_they_go_out(app, monkeypatch):
    meeting = monday_meeting()
    asked = []

    def recipient_counts(reminders):
        asked.extend(reminders)
        return {reminder.id: 12 for reminder in reminders}

    monkeypatch.setattr(sending, "recipient_counts", recipient_counts)
    services.add_reminder(meeting, ReminderData(2, HOURS, START, COMING), NOW)

    rows = services.reminder_overview(meeting, NOW)

    assert [(row.reminder.amount, row.reminder.unit) for row in rows] == [
        (7, DAYS),
        (1, DAYS),
        (2, HOURS),
    ]
    assert [row.send_at for row in rows] == [
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 5, 0, tzinfo=UTC),
    ]
    assert {row.state for row in rows} == {services.PENDING}
    assert [row.recipients for row in rows] == [12, 12, 12]
    assert len(asked) == 3
    assert all(row.editable and row.deletable and not row.can_send_again for row in rows)


def test_the_overview_counts_what_a_reminder_sent(app, monkeypatch):
    monkeypatch.setattr(sending, "recipient_counts", lambda reminders: {})
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    invitations = [invite(meeting, NOW)[0] for _ in range(6)]
    statuses = [
        MessageStatus.SENT,
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.CLAIMED,
        MessageStatus.QUEUED,
        None,
    ]
    for invitation, status in zip(invitations, statuses, strict=True):
        deliver(reminder, invitation, status, at=reminder.send_at)
    mark_done(reminder)

    row = rows_by_amount(meeting, reminder.send_at + timedelta(minutes=5))[7]

    assert row.state == services.SENT
    assert row.recipients is None
    assert row.current == services.RoundCounts(
        round=0, started_at=reminder.send_at, queued=2, sent=2, failed=1, skipped=1
    )
    assert not row.editable and row.deletable and not row.can_send_again


def test_a_reminder_whose_every_invitation_was_skipped_shows_as_skipped(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    for _ in range(2):
        deliver(reminder, invite(meeting, NOW)[0], None)
    mark_done(reminder)

    row = rows_by_amount(meeting)[7]

    assert row.state == services.SKIPPED
    assert row.current.skipped == 2


def test_a_reminder_that_went_out_to_nobody_says_so(app):
    meeting = monday_meeting()
    mark_done(reminder_of(meeting, 7))

    with force_locale("en"):
        row = rows_by_amount(meeting)[7]

    assert row.state == services.SENT
    assert row.rounds == ()
    assert row.note == "There was nobody to send it to."


def test_each_round_of_a_reminder_sent_again_is_counted_apart(app):
    meeting = monday_meeting()
    reminder = reminder_of(meeting, 7)
    first, second = invite(meeting, NOW)[0], invite(meeting, NOW)[0]
    deliver(reminder, first, at=reminder.send_at)
    deliver(reminder, second, MessageStatus.FAILED, at=reminder.send_at)
    mark_done(reminder)
    move(meeting, timedelta(weeks=2))
    services.send_again(reminder, NOW + timedelta(days=22))
    deliver(reminder, first, round_number=1, at=reminder.send_at)
    mark_done(reminder)

    row = rows_by_amount(meeting, reminder.send_at + timedelta(hours=1))[7]

    assert [(counts.round, counts.sent, counts.failed) for counts in row.rounds] == [
        (1, 1, 0),
        (0, 1, 1),
    ]
    assert row.current.round == 1
    assert row.rounds[1].started_at == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_a_sent_reminder_can_go_out_again_once_the_meeting_moved_later(app):
    meeting = monday_meeting()
    mark_done(reminder_of(meeting, 7))
    move(meeting, timedelta(weeks=2))

    row = rows_by_amount(meeting, NOW + timedelta(days=22))[7]

    assert row.state == services.SENT
    assert row.can_send_again


def test_a_deadline_reminder_of_a_meeting_without_deadline_is_not_scheduled(app):
    meeting = monday_meeting(answer_deadline=DEADLINE_MOMENT)
    services.add_reminder(meeting, ReminderData(3, DAYS, DEADLINE, UNANSWERED), NOW)
    meeting.answer_deadline = None
    reschedule_reminders(meeting)
    db.session.commit()

    rows = services.reminder_overview(meeting, NOW)

    assert rows[-1].state == services.UNSCHEDULED
    assert rows[-1].send_at is None
    assert rows[-1].editable


@pytest.mark.parametrize(
    ("fields", "now", "note"),
    [
        ({"status": MeetingStatus.CANCELLED}, NOW, "The meeting is cancelled."),
        ({}, MONDAY + timedelta(hours=4), "The meeting has taken place."),
        (
            {"status": MeetingStatus.DRAFT},
            datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
            "Its time passed before the meeting was published.",
        ),
        (
            {"published_at": datetime(2026, 3, 24, 8, 0, tzinfo=UTC)},
            datetime(2026, 3, 24, 9, 0, tzinfo=UTC),
            "Its time passed before the meeting was published.",
        ),
    ],
)
def test_a_reminder_that_will_not_go_out_says_why(app, fields, now, note):
    meeting = monday_meeting(**fields)

    with force_locale("en"):
        row = rows_by_amount(meeting, now)[7]

    assert row.state == services.NOT_SENT
    assert row.note == note
    assert row.recipients is None


def test_a_draft_meeting_reminder_waits_for_publication(app):
    meeting = monday_meeting(status=MeetingStatus.DRAFT)

    with force_locale("en"):
        row = rows_by_amount(meeting)[7]

    assert row.state == services.PENDING
    assert row.note == "If the meeting is published by then."


def overview_queries(meeting, count_queries) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        services.reminder_overview(meeting, NOW + timedelta(days=25))
    return counter.count


def test_the_overview_costs_the_same_queries_for_any_number_of_reminders(app, count_queries):
    small = monday_meeting()
    mark_done(reminder_of(small, 7))
    deliver(reminder_of(small, 7), invite(small, NOW)[0])
    large = monday_meeting(starts_at=MONDAY + timedelta(weeks=3))
    for hours in range(2, 12):
        services.add_reminder(large, ReminderData(hours, HOURS, START, COMING), NOW)
    for days in (7, 1):
        mark_done(reminder_of(large, days))
    invitations = [invite(large, NOW)[0] for _ in range(30)]
    for index, invitation in enumerate(invitations):
        deliver(reminder_of(large, 7), invitation, [MessageStatus.SENT, None][index % 2])
        deliver(reminder_of(large, 1), invitation, MessageStatus.FAILED)

    assert overview_queries(large, count_queries) == overview_queries(small, count_queries)
