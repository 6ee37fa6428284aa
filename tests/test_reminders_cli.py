"""`flask reminders due / send-due`: what would be sent at a moment, and queueing it now."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, MessageStatus, OutboxMessage, Reminder
from app.reminders import sending
from app.sqltypes import utcnow
from tests.invitee_helpers import a_meeting
from tests.reminder_helpers import add_reminder, invitees, meeting_due_at

# Tuesday 2 June 2026, 9:00 in Paris (summer time).
STARTS_AT = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def committee(app):
    """A meeting reminding its two people coming 1 day before, Monday 1 June at 9:00."""
    meeting = a_meeting(STARTS_AT - timedelta(days=20), title="Comité de pilotage")
    meeting.starts_at, meeting.ends_at = STARTS_AT, STARTS_AT + timedelta(hours=3)
    add_reminder(meeting)
    invitees(meeting, [Answer.COMING, Answer.COMING, Answer.NONE], STARTS_AT - timedelta(days=20))
    return meeting


def test_due_lists_what_would_be_sent_at_that_moment_in_local_time(runner, english, committee):
    result = runner.invoke(args=["reminders", "due", "--at", "2026-06-01T09:00"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Reminders due on Monday 1 June 2026 at 9:00:",
        "- Comité de pilotage (Tuesday 2 June 2026 at 9:00): 1 day before the start, to those "
        "coming, due on Monday 1 June 2026 at 9:00, 2 recipients",
    ]
    # Listing sends nothing and marks nothing.
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.scalars(select(Reminder.done_at)).all() == [None]


def test_due_before_the_time_lists_nothing(runner, english, committee):
    result = runner.invoke(args=["reminders", "due", "--at", "2026-06-01T08:59"])

    assert result.exit_code == 0, result.output
    assert result.output == "No reminder is due on Monday 1 June 2026 at 8:59.\n"


def test_due_says_which_reminders_are_too_late_to_be_sent(runner, english, committee):
    # 20:00 in Paris, given with its offset: eleven hours late.
    result = runner.invoke(args=["reminders", "due", "--at", "2026-06-01T18:00:00+00:00"])

    assert result.exit_code == 0, result.output
    assert "2 recipients" in result.output
    assert "late by more than 6 hours: will be recorded as skipped, not sent" in result.output


@pytest.mark.parametrize("moment", ["tomorrow", "2026-13-01T09:00", "01/06/2026 9:00"])
def test_due_refuses_what_is_not_a_date_and_time(runner, english, moment):
    result = runner.invoke(args=["reminders", "due", "--at", moment])

    assert result.exit_code == 2
    assert "Invalid value for --at" in result.output
    assert f"“{moment}” is not a date and time: write it as 2026-03-29T09:00" in result.output


def test_due_speaks_french_by_default_and_looks_at_now(runner, app):
    meeting, _reminder = meeting_due_at(utcnow().replace(microsecond=0) - timedelta(minutes=1))
    invitees(meeting, [Answer.COMING], utcnow() - timedelta(days=1))

    result = runner.invoke(args=["reminders", "due"])

    assert result.exit_code == 0, result.output
    assert meeting.title in result.output
    # French times: "9 h 05".
    assert re.search(r"\d h \d\d", result.output)


def test_send_due_queues_commits_and_delivers(runner, english, smtp):
    meeting, reminder = meeting_due_at(utcnow().replace(microsecond=0) - timedelta(minutes=1))
    people = invitees(meeting, [Answer.COMING, Answer.WAITING], utcnow() - timedelta(days=1))

    result = runner.invoke(args=["reminders", "send-due"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Reminders done: 1. E-mails queued: 2. Recorded as skipped (too late): 0.\n"
    )
    assert sorted(smtp.recipients) == sorted(person.contact.email for person in people)
    db.session.expire_all()
    assert reminder.done_at is not None
    assert {message.status for message in db.session.scalars(select(OutboxMessage))} == {
        MessageStatus.SENT
    }

    again = runner.invoke(args=["reminders", "send-due"])
    assert "Reminders done: 0. E-mails queued: 0." in again.output
    assert len(smtp.messages) == 2


def test_send_due_says_when_a_reminder_failed(runner, english, monkeypatch):
    meeting, reminder = meeting_due_at(utcnow().replace(microsecond=0) - timedelta(minutes=1))
    invitees(meeting, [Answer.COMING], utcnow() - timedelta(days=1))

    def broken(*arguments, **keywords):
        raise RuntimeError("template error")

    monkeypatch.setattr(sending, "outbox_row", broken)

    result = runner.invoke(args=["reminders", "send-due"])

    assert result.exit_code == 1
    assert "Reminders done: 0. E-mails queued: 0." in result.output
    assert "1 reminder could not be queued (see the log): it will be tried again" in result.output
    db.session.expire_all()
    assert reminder.done_at is None
