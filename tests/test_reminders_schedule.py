"""When reminders go out: offsets before the start or the deadline, across DST changes, and
reminders that follow the meeting when it moves."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.extensions import db
from app.meetings.services import MeetingData, create_meeting, local_to_utc, update_meeting
from app.models import Meeting, ReminderAnchor, ReminderAudience, ReminderUnit
from app.reminders.schedule import send_time
from tests.factories import UserFactory

PARIS = "Europe/Paris"


def meeting_at(day: date, clock: time, zone: str = PARIS, deadline: datetime | None = None):
    starts_at = local_to_utc(day, clock, zone)
    return Meeting(
        title="Réunion",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        timezone=zone,
        answer_deadline=deadline,
    )


def local(moment: datetime, zone: str = PARIS) -> datetime:
    return moment.astimezone(Meeting(timezone=zone).zone)


@pytest.mark.parametrize(
    ("day", "amount", "unit", "expected_day"),
    [
        # Clocks go forward in the night of Saturday 28 to Sunday 29 March 2026.
        (date(2026, 3, 30), 1, ReminderUnit.DAYS, date(2026, 3, 29)),
        (date(2026, 3, 30), 7, ReminderUnit.DAYS, date(2026, 3, 23)),
        (date(2026, 3, 30), 1, ReminderUnit.WEEKS, date(2026, 3, 23)),
        # Clocks go back in the night of Saturday 24 to Sunday 25 October 2026.
        (date(2026, 10, 26), 1, ReminderUnit.DAYS, date(2026, 10, 25)),
        (date(2026, 10, 26), 2, ReminderUnit.DAYS, date(2026, 10, 24)),
    ],
)
def test_days_keep_the_meeting_local_time_of_day_across_dst(day, amount, unit, expected_day):
    meeting = meeting_at(day, time(9, 0))

    moment = send_time(meeting, ReminderAnchor.START, amount, unit)

    assert local(moment).date() == expected_day
    assert local(moment).time() == time(9, 0)


def test_the_day_before_a_monday_after_the_spring_change_is_sunday_nine_paris_time():
    meeting = meeting_at(date(2026, 3, 30), time(9, 0))

    moment = send_time(meeting, ReminderAnchor.START, 1, ReminderUnit.DAYS)

    # Sunday 29 March is already summer time: 9:00 in Paris is 7:00 UTC.
    assert moment == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_hours_are_elapsed_time_across_the_autumn_change():
    # 1:30 on Sunday 25 October 2026, before the clocks go back at 3:00 (summer time).
    meeting = meeting_at(date(2026, 10, 25), time(4, 0))

    moment = send_time(meeting, ReminderAnchor.START, 3, ReminderUnit.HOURS)

    assert meeting.starts_at - moment == timedelta(hours=3)
    assert moment.tzinfo is UTC


def test_a_wall_time_in_the_spring_gap_lands_just_after_it():
    # 2:30 on Sunday 29 March 2026 does not exist in Paris.
    meeting = meeting_at(date(2026, 3, 30), time(2, 30))

    moment = send_time(meeting, ReminderAnchor.START, 1, ReminderUnit.DAYS)

    assert local(moment) == datetime(2026, 3, 29, 3, 30, tzinfo=local(moment).tzinfo)


def test_deadline_reminders_count_back_from_the_deadline():
    deadline = local_to_utc(date(2026, 6, 10), time(18, 0), PARIS)
    meeting = meeting_at(date(2026, 6, 20), time(9, 0), deadline=deadline)

    moment = send_time(meeting, ReminderAnchor.DEADLINE, 3, ReminderUnit.DAYS)

    assert local(moment) == datetime(2026, 6, 7, 18, 0, tzinfo=local(moment).tzinfo)


def test_a_deadline_reminder_without_a_deadline_has_no_time():
    meeting = meeting_at(date(2026, 6, 20), time(9, 0))

    assert send_time(meeting, ReminderAnchor.DEADLINE, 3, ReminderUnit.DAYS) is None


def test_another_time_zone_counts_days_on_its_own_clock():
    # New York changes to summer time on 8 March 2026, three weeks before Paris.
    meeting = meeting_at(date(2026, 3, 9), time(9, 0), zone="America/New_York")

    moment = send_time(meeting, ReminderAnchor.START, 1, ReminderUnit.DAYS)

    assert local(moment, "America/New_York").time() == time(9, 0)
    assert moment == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def meeting_data(day: date, clock: time, **fields) -> MeetingData:
    values = {
        "title": "Coordination",
        "start_date": day,
        "start_time": clock,
        "end_time": time(clock.hour + 2, 0),
        "venue_name": "Maison des associations",
    }
    values.update(fields)
    return MeetingData(**values)


def test_a_new_meeting_has_the_default_reminders(app):
    author = UserFactory()

    meeting = create_meeting(author, meeting_data(date(2026, 3, 30), time(9, 0)), datetime.now(UTC))
    db.session.commit()

    planned = [
        (reminder.amount, reminder.unit, reminder.anchor, reminder.audience)
        for reminder in meeting.reminders
    ]
    assert sorted(planned) == [
        (1, ReminderUnit.DAYS, ReminderAnchor.START, ReminderAudience.COMING),
        (7, ReminderUnit.DAYS, ReminderAnchor.START, ReminderAudience.COMING),
    ]
    assert {local(reminder.send_at).time() for reminder in meeting.reminders} == {time(9, 0)}


def test_moving_a_meeting_moves_its_reminders(app):
    author = UserFactory()
    now = datetime(2026, 3, 1, tzinfo=UTC)
    meeting = create_meeting(author, meeting_data(date(2026, 3, 30), time(9, 0)), now)
    db.session.commit()

    update_meeting(meeting, meeting_data(date(2026, 4, 14), time(14, 0)), author, now)
    db.session.commit()

    days = sorted(local(reminder.send_at) for reminder in meeting.reminders)
    assert [moment.date() for moment in days] == [date(2026, 4, 7), date(2026, 4, 13)]
    assert {moment.time() for moment in days} == {time(14, 0)}
