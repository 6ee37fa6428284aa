"""The reminder job: due reminders queued into the outbox exactly once per invitation and
round, on time across daylight-saving changes, to the right people, with the right text; and
a worker that was down, or two workers at once."""

import re
import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import create_app
from app.extensions import db
from app.formatting import format_day
from app.invitations.tokens import invitation_for_token
from app.mail.delivery import request_delivery
from app.meetings.services import MeetingData, create_meeting, publish_meeting, update_meeting
from app.models import (
    Answer,
    Civility,
    DeliveryStatus,
    Invitation,
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
from app.reminders.sending import (
    QueueReport,
    due_reminders,
    preview_reminder,
    queue_due_reminders,
    recipient_counts,
    reminder_text,
    render_reminder,
    save_reminder_text,
)
from app.sqltypes import utcnow
from config import TestingConfig
from tests.conftest import USING_POSTGRES, application
from tests.factories import ContactFactory, UserFactory
from tests.invitee_helpers import a_meeting, invite, set_answer
from tests.reminder_helpers import (
    add_reminder,
    deliveries,
    emails,
    invitees,
    meeting_due_at,
    recipients,
    skipped,
)

# 10:00 in Paris: the time of the reminders of most tests.
SEND_AT = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
BEFORE = SEND_AT - timedelta(days=10)
MINUTE = timedelta(minutes=1)
LINK = re.compile(r"/i/([A-Za-z0-9_-]{40,})")


@pytest.fixture
def english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def run(now: datetime, after_each=None) -> QueueReport:
    """The periodic job at `now`: queue, then commit."""
    report = queue_due_reminders(now, after_each)
    db.session.commit()
    return report


def meeting_data(day: date, clock: time, **fields) -> MeetingData:
    values = {
        "title": "Coordination des centres sociaux",
        "start_date": day,
        "start_time": clock,
        "end_time": time(clock.hour + 3, 0),
        "venue_name": "Maison des associations",
    }
    values.update(fields)
    return MeetingData(**values)


def published_meeting(day: date, clock: time, now: datetime, **fields):
    """A meeting as organisers make it (default reminders), published at `now`."""
    author = UserFactory()
    meeting = create_meeting(author, meeting_data(day, clock, **fields), now)
    publish_meeting(meeting, now)
    db.session.commit()
    return meeting, author


# The schedule


def test_a_new_meeting_reminds_those_coming_7_days_then_1_day_before(app):
    meeting, _author = published_meeting(date(2026, 6, 2), time(9, 0), BEFORE)
    coming, _unanswered = invitees(meeting, [Answer.COMING, Answer.NONE], BEFORE)
    # 9:00 in Paris is 7:00 UTC in summer.
    seven_days_before = datetime(2026, 5, 26, 7, 0, tzinfo=UTC)
    one_day_before = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)

    assert run(seven_days_before - MINUTE) == QueueReport()
    assert run(seven_days_before) == QueueReport(reminders=1, queued=1)
    assert run(seven_days_before + MINUTE) == QueueReport()
    assert run(one_day_before - MINUTE) == QueueReport()
    assert run(one_day_before) == QueueReport(reminders=1, queued=1)

    assert recipients("reminder") == [coming.contact.email] * 2
    assert all(reminder.done_at is not None for reminder in meeting.reminders)


def test_a_custom_schedule_hours_before_the_start_and_a_follow_up_before_the_deadline(app):
    starts_at = datetime(2026, 6, 20, 7, 0, tzinfo=UTC)
    meeting = a_meeting(BEFORE, starts_at=starts_at, answer_deadline=starts_at - timedelta(days=5))
    two_hours = add_reminder(meeting, 2, ReminderUnit.HOURS)
    follow_up = add_reminder(
        meeting, 3, ReminderUnit.DAYS, ReminderAnchor.DEADLINE, ReminderAudience.UNANSWERED
    )
    coming, unanswered, _declined = invitees(
        meeting, [Answer.COMING, Answer.NONE, Answer.NOT_COMING], BEFORE
    )

    assert follow_up.send_at == datetime(2026, 6, 12, 7, 0, tzinfo=UTC)
    assert run(follow_up.send_at) == QueueReport(reminders=1, queued=1)
    assert recipients("followup") == [unanswered.contact.email]

    assert two_hours.send_at == starts_at - timedelta(hours=2)
    assert run(two_hours.send_at - MINUTE) == QueueReport()
    assert run(two_hours.send_at) == QueueReport(reminders=1, queued=1)
    assert recipients("reminder") == [coming.contact.email]


def test_the_day_before_a_monday_after_the_spring_change_goes_out_at_9_paris_time(app):
    meeting, _author = published_meeting(
        date(2026, 3, 30), time(9, 0), datetime(2026, 3, 1, tzinfo=UTC)
    )
    invitees(meeting, [Answer.COMING], datetime(2026, 3, 2, tzinfo=UTC))
    # Monday 23 March, 9:00 winter time; then Sunday 29 March, 9:00 summer time.
    assert run(datetime(2026, 3, 23, 8, 0, tzinfo=UTC)) == QueueReport(reminders=1, queued=1)

    assert run(datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == QueueReport()
    assert run(datetime(2026, 3, 29, 7, 0, tzinfo=UTC)) == QueueReport(reminders=1, queued=1)
    assert len(emails("reminder")) == 2


def test_the_day_before_a_monday_after_the_autumn_change_goes_out_at_9_paris_time(app):
    meeting, _author = published_meeting(
        date(2026, 10, 26), time(9, 0), datetime(2026, 10, 1, tzinfo=UTC)
    )
    invitees(meeting, [Answer.COMING], datetime(2026, 10, 2, tzinfo=UTC))
    # Monday 19 October, 9:00 summer time; then Sunday 25 October, 9:00 winter time: the
    # clocks went back at 3:00 that night, so 7:00 UTC is only 8:00 in Paris.
    assert run(datetime(2026, 10, 19, 7, 0, tzinfo=UTC)) == QueueReport(reminders=1, queued=1)

    assert run(datetime(2026, 10, 25, 7, 0, tzinfo=UTC)) == QueueReport()
    assert run(datetime(2026, 10, 25, 7, 59, tzinfo=UTC)) == QueueReport()
    assert run(datetime(2026, 10, 25, 8, 0, tzinfo=UTC)) == QueueReport(reminders=1, queued=1)


def test_a_meeting_moved_after_one_reminder_keeps_it_sent_and_moves_the_other(app):
    meeting, author = published_meeting(date(2026, 6, 2), time(9, 0), BEFORE)
    invitees(meeting, [Answer.COMING], BEFORE)
    assert run(datetime(2026, 5, 26, 7, 0, tzinfo=UTC)).queued == 1

    # A week later, at 14:00.
    moved_at = datetime(2026, 5, 27, 8, 0, tzinfo=UTC)
    update_meeting(meeting, meeting_data(date(2026, 6, 9), time(14, 0)), author, moved_at)
    db.session.commit()

    # Not at the old time of the 1-day reminder, nor the 7-day one again at its new time.
    assert run(datetime(2026, 6, 1, 7, 0, tzinfo=UTC)) == QueueReport()
    assert run(datetime(2026, 6, 2, 12, 0, tzinfo=UTC)) == QueueReport()
    assert run(datetime(2026, 6, 8, 11, 59, tzinfo=UTC)) == QueueReport()
    assert run(datetime(2026, 6, 8, 12, 0, tzinfo=UTC)) == QueueReport(reminders=1, queued=1)
    assert len(emails("reminder")) == 2


def test_a_reminder_sent_again_goes_to_everyone_once_more_in_a_new_round(app):
    meeting, reminder = meeting_due_at(SEND_AT)
    invitees(meeting, [Answer.COMING, Answer.COMING], BEFORE)
    assert run(SEND_AT).queued == 2

    reminder.round += 1
    reminder.done_at = None
    db.session.commit()

    assert run(SEND_AT + MINUTE) == QueueReport(reminders=1, queued=2)
    assert sorted(delivery.round for delivery in deliveries(reminder)) == [0, 0, 1, 1]


# Meetings that send nothing


@pytest.mark.parametrize(
    "fields",
    [
        {"status": MeetingStatus.DRAFT},
        {"status": MeetingStatus.CANCELLED, "cancellation_reason": "Grève des transports"},
    ],
)
def test_a_draft_or_cancelled_meeting_sends_no_reminder(app, fields):
    meeting, reminder = meeting_due_at(SEND_AT)
    invitees(meeting, [Answer.COMING], BEFORE)
    for name, value in fields.items():
        setattr(meeting, name, value)
    db.session.commit()

    assert due_reminders(SEND_AT) == []
    assert run(SEND_AT) == QueueReport()
    assert emails() == []
    assert reminder.done_at is None


@pytest.mark.parametrize("after_start", [timedelta(minutes=1), timedelta(hours=4)])
def test_a_meeting_that_has_started_or_taken_place_sends_no_reminder(app, after_start):
    starts_at = SEND_AT + timedelta(hours=2)
    meeting = a_meeting(BEFORE, starts_at=starts_at, ends_at=starts_at + timedelta(hours=3))
    # Due two hours before the start; the worker only runs after it, within the grace period.
    reminder = add_reminder(meeting, 2, ReminderUnit.HOURS)
    invitees(meeting, [Answer.COMING], BEFORE)

    assert run(starts_at + after_start) == QueueReport()
    assert emails() == []
    assert reminder.done_at is None


def test_a_reminder_whose_time_passed_before_the_meeting_was_published_never_goes_out(app):
    meeting, reminder = meeting_due_at(SEND_AT, published_at=SEND_AT + timedelta(hours=1))
    invitees(meeting, [Answer.COMING], SEND_AT + timedelta(hours=2))

    assert due_reminders(SEND_AT + timedelta(hours=3)) == []
    assert run(SEND_AT + timedelta(hours=3)) == QueueReport()
    assert reminder.done_at is None


# Who gets it


def test_an_invitee_added_after_the_reminder_time_does_not_get_that_reminder(app):
    meeting, reminder = meeting_due_at(SEND_AT)
    [early] = invitees(meeting, [Answer.COMING], BEFORE)
    [late] = invitees(meeting, [Answer.COMING], SEND_AT + timedelta(minutes=30))

    assert recipient_counts([reminder]) == {reminder.id: 1}
    assert run(SEND_AT + timedelta(hours=1)) == QueueReport(reminders=1, queued=1)
    assert recipients() == [early.contact.email]
    assert run(SEND_AT + timedelta(hours=2)) == QueueReport()
    assert late.id not in {delivery.invitation_id for delivery in deliveries()}


def test_those_coming_and_waiting_get_the_reminder_others_never(app, english):
    meeting, reminder = meeting_due_at(SEND_AT)
    coming, first_waiting, second_waiting, _declined, _unanswered = invitees(
        meeting,
        [Answer.COMING, Answer.WAITING, Answer.WAITING, Answer.NOT_COMING, Answer.NONE],
        BEFORE,
    )
    # On the list, invitation not sent yet.
    db.session.add(Invitation(meeting=meeting, contact=ContactFactory(), answer=Answer.COMING))
    db.session.commit()

    assert run(SEND_AT) == QueueReport(reminders=1, queued=3)

    by_address = {message.to_address: message for message in emails("reminder")}
    assert sorted(by_address) == sorted(
        invitation.contact.email for invitation in (coming, first_waiting, second_waiting)
    )
    assert "We look forward to seeing you." in by_address[coming.contact.email].text_body
    assert "waiting list" not in by_address[coming.contact.email].text_body
    for invitation, place in ((first_waiting, 1), (second_waiting, 2)):
        message = by_address[invitation.contact.email]
        expected = f"You are on the waiting list, in position {place}"
        assert expected in message.text_body
        assert expected in message.html_body
        assert "We look forward to seeing you." not in message.text_body


def test_a_follow_up_that_a_moved_deadline_left_behind_is_skipped(app):
    meeting, reminder = meeting_due_at(SEND_AT, audience=ReminderAudience.UNANSWERED)
    invitees(meeting, [Answer.NONE, Answer.NONE], BEFORE)
    # Moved after the follow-up was planned: the invitees can no longer answer at its time.
    meeting.answer_deadline = SEND_AT - timedelta(hours=2)
    db.session.commit()

    assert run(SEND_AT) == QueueReport(reminders=1, skipped=2)
    assert emails() == []
    db.session.expire_all()
    assert reminder.done_at == SEND_AT


def test_the_follow_up_goes_only_to_those_who_have_not_answered(app, english):
    meeting, reminder = meeting_due_at(SEND_AT, audience=ReminderAudience.UNANSWERED)
    _coming, _waiting, _declined, unanswered = invitees(
        meeting, [Answer.COMING, Answer.WAITING, Answer.NOT_COMING, Answer.NONE], BEFORE
    )

    assert recipient_counts([reminder]) == {reminder.id: 1}
    assert run(SEND_AT) == QueueReport(reminders=1, queued=1)

    [message] = emails()
    assert message.kind == "followup"
    assert message.to_address == unanswered.contact.email
    assert "?answer=yes" in message.text_body and "?answer=no" in message.text_body
    assert "?answer=yes" in message.html_body


def test_each_email_is_personal_with_a_new_link_and_recorded(app, english):
    meeting, reminder = meeting_due_at(SEND_AT)
    invitation, first_token = invite(meeting, BEFORE, civility=Civility.MS, last_name="Dupont")
    invitation.answer = Answer.COMING
    db.session.commit()

    run(SEND_AT)

    [message] = emails()
    assert message.kind == "reminder"
    assert message.to_address == invitation.contact.email
    assert message.to_name == invitation.contact.full_name
    assert message.reply_to_address == meeting.contact_email
    assert (message.meeting_id, message.invitation_id) == (meeting.id, invitation.id)
    assert "Hello Ms Dupont," in message.text_body
    [token] = set(LINK.findall(message.text_body))
    assert token != first_token
    assert invitation_for_token(token) == invitation
    assert token in message.html_body
    [delivery] = deliveries(reminder)
    assert (delivery.invitation_id, delivery.round) == (invitation.id, 0)
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.outbox_message_id == message.id


# A worker that was down, a second run, a failure


@pytest.mark.parametrize(
    ("late_by", "queued"),
    [
        (timedelta(hours=2), True),
        (timedelta(hours=6), True),
        (timedelta(hours=6, minutes=1), False),
        (timedelta(days=2), False),
    ],
)
def test_a_worker_that_was_down_catches_up_within_the_grace_period(app, late_by, queued):
    meeting = a_meeting(BEFORE, starts_at=SEND_AT + timedelta(days=3))
    reminder = add_reminder(meeting, 3)
    coming, waiting = invitees(meeting, [Answer.COMING, Answer.WAITING], BEFORE)

    report = run(SEND_AT + late_by)

    assert reminder.done_at == SEND_AT + late_by
    if queued:
        assert report == QueueReport(reminders=1, queued=2)
        assert skipped(reminder) == []
    else:
        assert report == QueueReport(reminders=1, skipped=2)
        assert emails() == []
        assert skipped(reminder) == sorted([coming.id, waiting.id])
        assert all(delivery.outbox_message_id is None for delivery in deliveries(reminder))
    assert run(SEND_AT + late_by + MINUTE) == QueueReport()


def test_the_grace_period_is_a_setting(app):
    app.config["REMINDER_GRACE_HOURS"] = 1
    meeting, reminder = meeting_due_at(SEND_AT)
    invitees(meeting, [Answer.COMING], BEFORE)

    [due] = due_reminders(SEND_AT + timedelta(hours=2))
    assert due.late
    assert run(SEND_AT + timedelta(hours=2)) == QueueReport(reminders=1, skipped=1)


def test_a_second_run_sends_nothing_again(app):
    meeting, _reminder = meeting_due_at(SEND_AT)
    invitees(meeting, [Answer.COMING] * 3, BEFORE)

    assert run(SEND_AT) == QueueReport(reminders=1, queued=3)
    assert run(SEND_AT) == QueueReport()
    assert run(SEND_AT + timedelta(hours=1)) == QueueReport()
    assert len(emails()) == 3


def test_an_invitation_already_recorded_for_the_round_is_left_out(app):
    meeting, reminder = meeting_due_at(SEND_AT)
    recorded, other = invitees(meeting, [Answer.COMING, Answer.COMING], BEFORE)
    db.session.add(ReminderDelivery(reminder=reminder, round=0, invitation_id=recorded.id))
    db.session.commit()

    assert recipient_counts([reminder]) == {reminder.id: 1}
    assert run(SEND_AT) == QueueReport(reminders=1, queued=1)
    assert recipients() == [other.contact.email]


def everyone_invited(due) -> list[Invitation]:
    """A recipients query that forgets who is already recorded, as a racing run would."""
    return db.session.scalars(
        select(Invitation)
        .where(Invitation.meeting_id == due.meeting_id)
        .options(joinedload(Invitation.contact))
        .order_by(Invitation.id)
    ).all()


def test_the_unique_key_rolls_back_the_emails_of_a_duplicate(app, monkeypatch):
    meeting, reminder = meeting_due_at(SEND_AT)
    recorded, _other = invitees(meeting, [Answer.COMING, Answer.COMING], BEFORE)
    db.session.add(ReminderDelivery(reminder=reminder, round=0, invitation_id=recorded.id))
    db.session.commit()
    monkeypatch.setattr(sending, "_recipients", everyone_invited)

    assert run(SEND_AT) == QueueReport(failed=1)

    assert emails() == []
    assert len(deliveries()) == 1
    db.session.refresh(reminder)
    assert reminder.done_at is None


def test_a_reminder_that_fails_is_rolled_back_and_the_others_are_kept(app, monkeypatch):
    failing, failing_reminder = meeting_due_at(SEND_AT)
    working, working_reminder = meeting_due_at(SEND_AT)
    invitees(failing, [Answer.COMING], BEFORE)
    invitees(working, [Answer.COMING], BEFORE)
    outbox_row = sending.outbox_row

    def broken_for_one_meeting(*arguments, meeting_id, **keywords):
        if meeting_id == failing.id:
            raise RuntimeError("template error")
        return outbox_row(*arguments, meeting_id=meeting_id, **keywords)

    monkeypatch.setattr(sending, "outbox_row", broken_for_one_meeting)

    assert run(SEND_AT, after_each=db.session.commit) == QueueReport(
        reminders=1, queued=1, failed=1
    )
    db.session.expire_all()
    assert failing_reminder.done_at is None
    assert working_reminder.done_at is not None
    assert [message.meeting_id for message in emails()] == [working.id]

    monkeypatch.undo()
    assert run(SEND_AT + MINUTE) == QueueReport(reminders=1, queued=1)


# Queries


def statements(count_queries, people: int) -> tuple[int, int]:
    """(reads and updates, inserts) of queueing one reminder to `people` invitees, one in
    five on the waiting list."""
    meeting, _reminder = meeting_due_at(SEND_AT)
    invitees(
        meeting, [Answer.WAITING if n % 5 == 0 else Answer.COMING for n in range(people)], BEFORE
    )
    db.session.expire_all()
    with count_queries() as counter:
        assert queue_due_reminders(SEND_AT).queued == people
    db.session.commit()
    inserts = [sql for sql in counter.statements if sql.lstrip().upper().startswith("INSERT")]
    return counter.count - len(inserts), len(inserts)


def test_the_statements_of_a_reminder_do_not_grow_with_its_invitees(app, count_queries):
    reads_for_5, inserts_for_5 = statements(count_queries, 5)
    reads_for_50, inserts_for_50 = statements(count_queries, 50)

    assert reads_for_50 == reads_for_5
    # Links, e-mails and records each in one statement.
    assert inserts_for_50 == inserts_for_5 == 3


def test_recipient_counts_is_one_query_for_many_reminders(app, count_queries):
    first, first_reminder = meeting_due_at(SEND_AT)
    second, second_reminder = meeting_due_at(SEND_AT)
    follow_up = add_reminder(second, 2, audience=ReminderAudience.UNANSWERED)
    invitees(first, [Answer.COMING, Answer.WAITING, Answer.NOT_COMING], BEFORE)
    invitees(second, [Answer.COMING, Answer.NONE, Answer.NONE], BEFORE)
    reminders = [first_reminder, second_reminder, follow_up]
    # Loaded, as on the pages that ask.
    assert all(reminder.id for reminder in reminders)

    with count_queries() as counter:
        counts = recipient_counts(reminders)

    assert counter.count == 1
    assert counts == {first_reminder.id: 2, second_reminder.id: 1, follow_up.id: 2}
    assert recipient_counts([]) == {}


def test_due_reminders_says_what_a_run_would_do(app):
    late = a_meeting(BEFORE, starts_at=SEND_AT + timedelta(days=2))
    late_reminder = add_reminder(late, 3)
    on_time, on_time_reminder = meeting_due_at(SEND_AT)
    later, _later_reminder = meeting_due_at(SEND_AT + timedelta(hours=1))
    invitees(on_time, [Answer.COMING, Answer.COMING], BEFORE)
    invitees(late, [Answer.COMING], BEFORE)

    due = due_reminders(SEND_AT + MINUTE)

    assert [(item.reminder, item.meeting, item.recipients, item.late) for item in due] == [
        (late_reminder, late, 1, True),
        (on_time_reminder, on_time, 2, False),
    ]
    assert [item.send_at for item in due] == [SEND_AT - timedelta(days=1), SEND_AT]
    assert later not in [item.meeting for item in due]
    # Listing changes nothing.
    assert on_time_reminder.done_at is None
    assert run(SEND_AT + MINUTE) == QueueReport(reminders=2, queued=2, skipped=1)


# Texts and e-mails


def test_default_texts_follow_the_meeting(app, english):
    meeting = a_meeting(BEFORE, title="Comité de pilotage", starts_at=SEND_AT)

    assert reminder_text(meeting, ReminderAudience.COMING) == (
        "Reminder: Comité de pilotage, Wednesday 20 May 2026",
        "This is a reminder of the meeting “Comité de pilotage”. You will find the date, the "
        "place and the programme below.",
    )
    subject, message = reminder_text(meeting, ReminderAudience.UNANSWERED)
    assert subject == "Your answer is awaited: Comité de pilotage, Wednesday 20 May 2026"
    assert "Please tell us whether you will attend" in message

    meeting.answer_deadline = SEND_AT - timedelta(days=3)
    _subject, message = reminder_text(meeting, ReminderAudience.UNANSWERED)
    assert "Please tell us before Sunday 17 May 2026 at 10:00 whether you will attend" in message


def test_default_texts_are_in_french_by_default(app):
    meeting = a_meeting(BEFORE, starts_at=SEND_AT)

    subject, _message = reminder_text(meeting, ReminderAudience.COMING)

    assert "mercredi 20 mai 2026" in subject


def test_saved_texts_keep_the_default_as_empty(app, english):
    meeting = a_meeting(BEFORE, starts_at=SEND_AT)
    default_subject, default_message = reminder_text(meeting, ReminderAudience.COMING)

    save_reminder_text(meeting, ReminderAudience.COMING, default_subject, default_message + "\n")
    assert (meeting.reminder_subject, meeting.reminder_message) == ("", "")

    save_reminder_text(
        meeting, ReminderAudience.UNANSWERED, "Relance\r\n", "Merci de répondre.  \r\n\r\nÀ bientôt"
    )
    db.session.commit()
    assert (meeting.followup_subject, meeting.followup_message) == (
        "Relance",
        "Merci de répondre.\n\nÀ bientôt",
    )
    assert reminder_text(meeting, ReminderAudience.UNANSWERED) == (
        "Relance",
        "Merci de répondre.\n\nÀ bientôt",
    )
    assert reminder_text(meeting, ReminderAudience.COMING) == (default_subject, default_message)


def test_the_organisers_text_is_in_both_parts_and_names_are_escaped_in_html(app, english):
    meeting = a_meeting(BEFORE, starts_at=SEND_AT)
    save_reminder_text(meeting, ReminderAudience.COMING, "À demain", "Première ligne\nSeconde")
    invitation, _token = invite(meeting, BEFORE, first_name="Zoé", last_name="<L'Herbier & Fils>")
    invitation.answer = Answer.COMING
    token = "t" * 43

    email = render_reminder(meeting, invitation, token, ReminderAudience.COMING)

    assert email.subject == "À demain"
    assert "Hello Zoé <L'Herbier & Fils>," in email.text
    assert "Zoé &lt;L&#39;Herbier &amp; Fils&gt;" in email.html
    assert "<L'Herbier" not in email.html
    assert "Première ligne\nSeconde" in email.text
    assert "Première ligne<br>Seconde" in email.html
    assert f"http://localhost/i/{token}" in email.text
    assert f'href="http://localhost/i/{token}"' in email.html
    assert "\x1e" not in email.text + email.html


def test_a_waiting_invitee_rendered_alone_gets_their_position(app, english):
    meeting = a_meeting(BEFORE, starts_at=SEND_AT)
    _first, second = invitees(meeting, [Answer.WAITING, Answer.WAITING], BEFORE)

    email = render_reminder(meeting, second, "t" * 43, ReminderAudience.COMING)

    assert "in position 2" in email.text


def test_previews_show_each_text_with_links_to_nowhere(app, english):
    meeting = a_meeting(BEFORE, starts_at=SEND_AT)

    coming = preview_reminder(meeting, ReminderAudience.COMING)
    waiting = preview_reminder(meeting, ReminderAudience.COMING, waiting=True)
    follow_up = preview_reminder(meeting, ReminderAudience.UNANSWERED)

    assert "Hello Ms Dupont," in coming.text
    assert "We look forward to seeing you." in coming.text and "?answer=" not in coming.text
    assert "You are on the waiting list, in position 1" in waiting.text
    assert "http://localhost/i/preview?answer=yes" in follow_up.text
    assert "Claire Martin" in follow_up.text and "Claire Martin" in follow_up.html
    assert db.session.scalar(select(func.count(Invitation.id))) == 0


# The periodic job


def test_the_periodic_job_queues_what_is_due_now(app):
    from app.jobs import queue_due_reminders_every_minute

    meeting, _reminder = meeting_due_at(utcnow().replace(microsecond=0) - MINUTE)
    invitees(meeting, [Answer.COMING], utcnow() - timedelta(days=1))

    queue_due_reminders_every_minute()

    assert len(emails("reminder")) == 1


# Two workers at the same moment


def run_worker(app: Flask, barrier: threading.Barrier, after_each, results, errors) -> None:
    """A worker as on another machine: its own application, engine and connections. The
    application is made before the threads start: Python 3.11 can fail ("AST constructor
    recursion depth mismatch") when two threads compile the URL rules at the same time."""
    try:
        with app.app_context():
            barrier.wait(timeout=10)
            results.append(queue_due_reminders(SEND_AT, db.session.commit if after_each else None))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    except Exception as error:  # reported to the test's thread, which asserts there is none
        errors.append(error)


@pytest.mark.parametrize("after_each", [False, True], ids=["one-commit", "commit-each"])
def test_two_workers_at_the_same_moment_send_each_reminder_once(tmp_path, after_each):
    settings = {}
    if not USING_POSTGRES:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/reminders.db"
    with application(**settings):
        invitation_ids = []
        for _meeting in range(8):
            meeting, _reminder = meeting_due_at(SEND_AT)
            people = invitees(meeting, [Answer.COMING] * 9 + [Answer.WAITING], BEFORE)
            invitation_ids += [invitation.id for invitation in people]
        db.session.close()

        barrier = threading.Barrier(2)
        results: list[QueueReport] = []
        errors: list[Exception] = []
        workers = [
            threading.Thread(
                target=run_worker,
                args=(create_app(TestingConfig, **settings), barrier, after_each, results, errors),
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)

        assert errors == []
        assert sum(report.reminders for report in results) == 8
        assert sum(report.queued for report in results) == 80
        sent = Counter(
            db.session.scalars(
                select(OutboxMessage.invitation_id).where(OutboxMessage.kind == "reminder")
            )
        )
        assert sent == Counter(dict.fromkeys(invitation_ids, 1))
        assert db.session.scalar(select(func.count(ReminderDelivery.id))) == 80
        assert (
            db.session.scalar(select(func.count(Reminder.id)).where(Reminder.done_at.is_(None)))
            == 0
        )


def test_the_delivery_records_are_unique_per_invitation_and_round(app):
    meeting, reminder = meeting_due_at(SEND_AT)
    [invitation] = invitees(meeting, [Answer.COMING], BEFORE)
    row = {"reminder_id": reminder.id, "round": 0, "invitation_id": invitation.id}
    db.session.execute(insert(ReminderDelivery), [row])
    db.session.commit()

    with pytest.raises(IntegrityError):
        db.session.execute(insert(ReminderDelivery), [row])
    db.session.rollback()


def test_french_is_the_language_of_the_emails_by_default(app):
    meeting, _reminder = meeting_due_at(SEND_AT)
    invitees(meeting, [Answer.COMING], BEFORE)

    run(SEND_AT)

    [message] = emails()
    assert "Date et horaires" in message.text_body
    assert "Ce lien vous est personnel" in message.text_body


# End to end


def test_a_reminder_reaches_a_real_smtp_server_and_its_link_works(app, smtp, client, english):
    now = utcnow().replace(microsecond=0)
    meeting, _reminder = meeting_due_at(now - MINUTE, title="Groupe de travail des centres sociaux")
    invitation, _token = invite(
        meeting,
        now - timedelta(days=2),
        civility=Civility.MS,
        first_name="Hélène",
        last_name="Dupont",
        email="helene@cs.example",
    )
    set_answer(invitation, Answer.COMING)

    assert run(now).queued == 1
    request_delivery()

    [message] = smtp.messages
    assert smtp.recipients == ["helene@cs.example"]
    assert message["To"].addresses[0].addr_spec == "helene@cs.example"
    assert message["To"].addresses[0].display_name == "Hélène Dupont"
    assert message["Reply-To"].addresses[0].addr_spec == meeting.contact_email
    assert message["Subject"] == "Reminder: Groupe de travail des centres sociaux, " + (
        format_day_en(meeting)
    )
    assert message["Message-ID"] and message["Date"] and message["From"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "Hello Ms Dupont," in part
        assert "We look forward to seeing you." in part
        assert "Claire Martin" in part
    [token] = set(LINK.findall(text))
    assert token in html
    page = client.get(f"/i/{token}")
    assert page.status_code == 200
    assert "Groupe de travail des centres sociaux" in page.get_data(as_text=True)
    db.session.expire_all()
    assert emails()[0].status is MessageStatus.SENT


def format_day_en(meeting) -> str:
    with force_locale("en"):
        return format_day(meeting.starts_at, meeting.zone)
