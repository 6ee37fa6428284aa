"""The organiser's reminder pages: the schedule and its form, changing, deleting and sending
again a reminder, the texts of the e-mails, and the reminders on the meeting page."""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import escape

import pytest

from app.extensions import db
from app.models import (
    MeetingStatus,
    MessageStatus,
    Reminder,
    ReminderAudience,
    ReminderUnit,
)
from app.reminders import sending
from app.reminders.schedule import add_default_reminders, schedule
from tests.factories import UserFactory
from tests.invitations_organiser_helpers import PARIS, directory, invite_all, upcoming_meeting
from tests.test_reminders_services import deliver

# Enough for every form to pass its checks, so that only the permission can stop it.
FORM = {
    "amount": "3",
    "unit": "hours",
    "anchor": "start",
    "audience": "coming",
    "coming-subject": "Objet",
    "coming-message": "Texte",
    "coming-save": "1",
}


@pytest.fixture
def owner(app):
    return UserFactory(name="Paula Propriétaire")


@pytest.fixture
def as_owner(client, login, owner):
    login(owner)
    client.set_cookie("lang", "en")
    return client


def meeting_with_reminders(organisers, **changes):
    """A published meeting two weeks ahead (the pages read the real clock) with the default
    reminders: 7 days and 1 day before."""
    meeting = upcoming_meeting(organisers, **changes)
    add_default_reminders(meeting)
    db.session.commit()
    return meeting


@pytest.fixture
def meeting(owner):
    return meeting_with_reminders([owner])


def reminder_of(meeting, amount: int, unit: ReminderUnit = ReminderUnit.DAYS) -> Reminder:
    return next(r for r in meeting.reminders if (r.amount, r.unit) == (amount, unit))


def went_out(reminder: Reminder) -> Reminder:
    """As if the reminder had gone out before the meeting moved to its present date: its
    (new) time is still to come."""
    reminder.done_at = datetime.now(UTC) - timedelta(days=1)
    db.session.commit()
    return reminder


def reminder_rows(meeting) -> list[tuple]:
    db.session.expire_all()
    return sorted(
        (r.amount, r.unit.value, r.anchor.value, r.audience.value, r.round)
        for r in meeting.reminders
    )


DEFAULT_ROWS = [(1, "days", "start", "coming", 0), (7, "days", "start", "coming", 0)]


def page_of(response) -> str:
    return response.get_data(as_text=True)


def invalid_fields(page: str) -> set[str]:
    """The ids of the form controls marked aria-invalid="true"."""
    tags = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    return {re.search(r'\bid="([^"]+)"', tag)[1] for tag in tags if 'aria-invalid="true"' in tag}


def error_of(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page)
    return match[1] if match else ""


# Who may do what

ACTIONS = [
    ("post", ""),
    ("get", "/{pending}/edit"),
    ("post", "/{pending}/edit"),
    ("get", "/{pending}/delete"),
    ("post", "/{pending}/delete"),
    ("get", "/{sent}/send-again"),
    ("post", "/{sent}/send-again"),
    ("get", "/texts"),
    ("post", "/texts"),
    ("get", "/texts/coming/preview"),
]
READ_ONLY = [("get", "")]


def path_for(meeting, template: str) -> str:
    pending, sent = reminder_of(meeting, 1), reminder_of(meeting, 7)
    return f"/meetings/{meeting.id}/reminders" + template.format(pending=pending.id, sent=sent.id)


@pytest.fixture
def one_sent(meeting):
    went_out(reminder_of(meeting, 7))
    return meeting


def unchanged(meeting) -> None:
    assert reminder_rows(meeting) == DEFAULT_ROWS
    assert meeting.reminder_subject == ""


@pytest.mark.parametrize(("method", "template"), ACTIONS + READ_ONLY)
def test_anonymous_visitors_are_sent_to_login(client, one_sent, method, template):
    response = getattr(client, method)(path_for(one_sent, template), data=FORM)

    assert response.status_code == 302
    assert "/login" in response.location
    unchanged(one_sent)


@pytest.mark.parametrize(("method", "template"), ACTIONS)
def test_another_organiser_cannot_change_the_reminders_of_someone_elses_meeting(
    as_organiser, one_sent, method, template
):
    response = getattr(as_organiser, method)(path_for(one_sent, template), data=FORM)

    assert response.status_code == 403
    unchanged(one_sent)


def test_another_organiser_can_read_the_schedule_without_its_actions(as_organiser, one_sent):
    as_organiser.set_cookie("lang", "en")

    page = page_of(as_organiser.get(f"/meetings/{one_sent.id}/reminders"))

    assert "7 days before the start, to those coming" in page
    assert "Add a reminder" not in page
    assert "/edit" not in page and "/delete" not in page and "/send-again" not in page
    assert "/reminders/texts" not in page


@pytest.mark.parametrize(("method", "template"), ACTIONS + READ_ONLY)
def test_an_administrator_may_do_everything(as_admin, one_sent, method, template):
    response = getattr(as_admin, method)(path_for(one_sent, template), data=FORM)

    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert "/login" not in response.location


def test_missing_meetings_and_reminders_are_not_found(as_owner, meeting):
    base = f"/meetings/{meeting.id}/reminders"

    assert as_owner.get("/meetings/999/reminders").status_code == 404
    assert as_owner.get(f"{base}/999/edit").status_code == 404
    assert as_owner.get(f"{base}/texts/nobody/preview").status_code == 404


@pytest.mark.parametrize("action", ["edit", "delete", "send-again"])
def test_a_reminder_of_another_meeting_is_not_found(as_owner, owner, meeting, action):
    other = meeting_with_reminders([owner])
    theirs = went_out(reminder_of(other, 7))

    response = as_owner.post(f"/meetings/{meeting.id}/reminders/{theirs.id}/{action}", data=FORM)

    assert response.status_code == 404
    assert reminder_rows(other) == [
        (1, "days", "start", "coming", 0),
        (7, "days", "start", "coming", 0),
    ]


# The schedule


def test_the_schedule_shows_each_reminder_in_the_meeting_local_time(as_owner, owner):
    # Clocks go forward in the night of Saturday 27 to Sunday 28 March 2027: the day before
    # Monday 29 March at 9:00 is Sunday at 9:00, and 7 days before is still winter time.
    starts_at = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    meeting = meeting_with_reminders(
        [owner], starts_at=starts_at, ends_at=starts_at + timedelta(hours=3)
    )
    two_hours = Reminder(amount=2, unit=ReminderUnit.HOURS)
    schedule(two_hours, meeting)
    meeting.reminders.append(two_hours)
    db.session.commit()

    page = page_of(as_owner.get(f"/meetings/{meeting.id}/reminders"))

    assert page.index("Monday 22 March 2027 at 9:00") < page.index("Sunday 28 March 2027 at 9:00")
    assert page.index("Sunday 28 March 2027 at 9:00") < page.index("Monday 29 March 2027 at 7:00")
    assert "1 day before the start, to those coming" in page
    assert "2 hours before the start, to those coming" in page


def test_the_meeting_page_shows_the_reminders_in_local_time_in_french(client, login, owner):
    # Clocks go back in the night of Saturday 30 to Sunday 31 October 2027.
    starts_at = datetime.combine(date(2027, 11, 1), time(9, 0), tzinfo=PARIS).astimezone(UTC)
    meeting = meeting_with_reminders(
        [owner], starts_at=starts_at, ends_at=starts_at + timedelta(hours=3)
    )
    login(owner)

    page = page_of(client.get(f"/meetings/{meeting.id}"))

    assert starts_at == datetime(2027, 11, 1, 8, 0, tzinfo=UTC)
    assert "dimanche 31 octobre 2027 à 9 h 00" in page
    assert "lundi 25 octobre 2027 à 9 h 00" in page
    assert f"/meetings/{meeting.id}/reminders" in page


def test_the_meeting_page_counts_what_a_reminder_sent(client, login, owner, meeting):
    reminder = went_out(reminder_of(meeting, 7))
    invitations = invite_all(meeting, directory(5), invited_at=datetime.now(UTC))
    for invitation, status in zip(
        invitations,
        [MessageStatus.SENT, MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.QUEUED, None],
        strict=True,
    ):
        deliver(reminder, invitation, status)
    login(owner)
    client.set_cookie("lang", "en")

    page = page_of(client.get(f"/meetings/{meeting.id}"))

    section = page[page.index('id="reminders-heading"') :]
    assert "2 sent" in section
    assert "1 failed" in section
    assert "1 skipped" in section
    assert "1 queued" in section
    assert "Manage the reminders" in section


def test_the_meeting_page_offers_to_manage_the_reminders_only_to_its_managers(
    as_organiser, meeting
):
    as_organiser.set_cookie("lang", "en")

    page = page_of(as_organiser.get(f"/meetings/{meeting.id}"))

    assert "7 days before the start, to those coming" in page
    assert "Manage the reminders" not in page
    assert f'href="/meetings/{meeting.id}/reminders"' in page


def schedule_queries(client, meeting, count_queries) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(f"/meetings/{meeting.id}/reminders")
    assert response.status_code == 200
    return counter.count


def test_the_schedule_costs_the_same_queries_for_any_number_of_reminders(
    as_owner, owner, count_queries
):
    small = meeting_with_reminders([owner])
    large = meeting_with_reminders([owner])
    for hours in range(2, 12):
        two_hours = Reminder(amount=hours, unit=ReminderUnit.HOURS)
        schedule(two_hours, large)
        large.reminders.append(two_hours)
    for meeting, size in ((small, 1), (large, 40)):
        reminder = went_out(reminder_of(meeting, 7))
        for invitation in invite_all(meeting, directory(size, prefix=f"m{meeting.id}")):
            deliver(reminder, invitation)

    # The app's first request checks that an account exists, once: keep it out of the count.
    as_owner.get(f"/meetings/{small.id}/reminders")

    assert schedule_queries(as_owner, large, count_queries) == schedule_queries(
        as_owner, small, count_queries
    )


# Adding


def test_an_organiser_adds_a_reminder(as_owner, meeting):
    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders",
        data={"amount": "2", "unit": "hours", "anchor": "start", "audience": "coming"},
    )

    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{meeting.id}/reminders")
    page = page_of(as_owner.get(response.location))
    assert "The reminder is added: it goes out on" in page
    assert "2 hours before the start, to those coming" in page
    assert (2, "hours", "start", "coming", 0) in reminder_rows(meeting)


def test_the_add_form_labels_every_field(as_owner, meeting):
    page = page_of(as_owner.get(f"/meetings/{meeting.id}/reminders"))

    for name in ("amount", "unit", "anchor", "audience"):
        assert f'<label for="{name}">' in page
    assert '<option selected value="days">days</option>' in page
    assert 'value="deadline">the answer deadline</option>' in page
    assert "Those who have not answered (follow-up)" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "0"}, "amount", "Give a number from 1 to 365."),
        ({"amount": "53", "unit": "weeks"}, "amount", "Give a number from 1 to 52."),
        ({"amount": "deux"}, "amount", "Not a valid integer value."),
        ({"amount": ""}, "amount", "Give a number."),
        ({"amount": "1", "unit": "weeks"}, "amount", "There is already a reminder at this"),
        (
            {"anchor": "deadline", "audience": "unanswered"},
            "anchor",
            "This meeting has no answer deadline",
        ),
        ({"unit": "months"}, "unit", "Not a valid choice"),
    ],
)
def test_a_wrong_reminder_is_shown_next_to_its_field(as_owner, meeting, changes, field, message):
    data = {"amount": "3", "unit": "days", "anchor": "start", "audience": "coming", **changes}

    response = as_owner.post(f"/meetings/{meeting.id}/reminders", data=data)

    assert response.status_code == 200
    page = page_of(response)
    assert invalid_fields(page) == {field}
    assert error_of(page, field).startswith(escape(message, quote=False))
    assert "Please correct the errors below." in page
    assert reminder_rows(meeting) == DEFAULT_ROWS


def test_a_cancelled_meeting_gets_no_new_reminder(as_owner, owner):
    meeting = meeting_with_reminders([owner], status=MeetingStatus.CANCELLED)

    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders",
        data={"amount": "2", "unit": "hours", "anchor": "start", "audience": "coming"},
        follow_redirects=True,
    )

    page = page_of(response)
    assert "This meeting is cancelled: its reminders cannot change." in page
    assert "Add a reminder" not in page
    assert "/edit" not in page and "/delete" not in page
    assert reminder_rows(meeting) == DEFAULT_ROWS


def test_a_cancelled_meeting_keeps_its_reminders(as_owner, owner):
    meeting = meeting_with_reminders([owner], status=MeetingStatus.CANCELLED)
    reminder = reminder_of(meeting, 7)
    base = f"/meetings/{meeting.id}/reminders/{reminder.id}"

    for path in (f"{base}/edit", f"{base}/delete"):
        assert as_owner.get(path).location.endswith(f"/meetings/{meeting.id}/reminders")
        as_owner.post(path, data={"amount": "3", "unit": "days"})

    assert reminder_rows(meeting) == DEFAULT_ROWS


# Changing, deleting, sending again


def test_the_edit_form_starts_from_the_reminder(as_owner, meeting):
    reminder = reminder_of(meeting, 7)

    page = page_of(as_owner.get(f"/meetings/{meeting.id}/reminders/{reminder.id}/edit"))

    assert 'value="7"' in page
    assert '<option selected value="days">days</option>' in page
    assert 'name="csrf_token"' in page


def test_an_organiser_changes_a_planned_reminder(as_owner, meeting):
    reminder = reminder_of(meeting, 7)

    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders/{reminder.id}/edit",
        data={"amount": "3", "unit": "days", "anchor": "start", "audience": "unanswered"},
    )

    assert response.status_code == 302
    assert reminder_rows(meeting) == [
        (1, "days", "start", "coming", 0),
        (3, "days", "start", "unanswered", 0),
    ]
    assert reminder.send_at == meeting.starts_at - timedelta(days=3)


def test_a_wrong_change_is_shown_next_to_its_field(as_owner, meeting):
    reminder = reminder_of(meeting, 7)

    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders/{reminder.id}/edit",
        data={"amount": "24", "unit": "hours", "anchor": "start", "audience": "coming"},
    )

    page = page_of(response)
    assert response.status_code == 200
    assert invalid_fields(page) == {"amount"}
    assert reminder_rows(meeting) == DEFAULT_ROWS


def test_a_reminder_that_went_out_cannot_be_changed(as_owner, meeting):
    reminder = went_out(reminder_of(meeting, 7))

    response = as_owner.get(
        f"/meetings/{meeting.id}/reminders/{reminder.id}/edit", follow_redirects=True
    )

    assert "This reminder has gone out: it can no longer change." in page_of(response)


def test_deleting_a_planned_reminder_asks_first(as_owner, meeting):
    reminder = reminder_of(meeting, 7)
    path = f"/meetings/{meeting.id}/reminders/{reminder.id}/delete"

    page = page_of(as_owner.get(path))
    assert "Delete this reminder?" in page
    assert "It will not go out." in page
    assert 'name="csrf_token"' in page
    assert reminder_rows(meeting) == DEFAULT_ROWS

    response = as_owner.post(path)
    assert response.status_code == 302
    assert reminder_rows(meeting) == [(1, "days", "start", "coming", 0)]


def test_deleting_a_reminder_that_went_out_says_its_record_goes_with_it(as_owner, meeting):
    reminder = went_out(reminder_of(meeting, 7))
    (invitation,) = invite_all(meeting, directory(1), invited_at=datetime.now(UTC))
    deliver(reminder, invitation)

    page = page_of(as_owner.get(f"/meetings/{meeting.id}/reminders/{reminder.id}/delete"))

    assert "The record of who received it goes with it" in page
    assert "1 sent" in page


def test_a_reminder_that_went_out_before_the_meeting_moved_is_sent_again(as_owner, meeting):
    reminder = went_out(reminder_of(meeting, 7))
    path = f"/meetings/{meeting.id}/reminders/{reminder.id}/send-again"

    page = page_of(as_owner.get(path))
    assert "Send this reminder again?" in page
    assert 'name="csrf_token"' in page

    response = as_owner.post(path)
    assert response.status_code == 302
    db.session.expire_all()
    assert reminder.round == 1
    assert reminder.done_at is None
    assert reminder.send_at == meeting.starts_at - timedelta(days=7)


def test_the_schedule_offers_to_send_again_only_what_can_go_again(as_owner, meeting):
    sent = went_out(reminder_of(meeting, 7))
    pending = reminder_of(meeting, 1)

    page = page_of(as_owner.get(f"/meetings/{meeting.id}/reminders"))

    assert f"/reminders/{sent.id}/send-again" in page
    assert f"/reminders/{sent.id}/edit" not in page
    assert f"/reminders/{pending.id}/send-again" not in page
    assert f"/reminders/{pending.id}/edit" in page


def test_a_reminder_whose_time_has_passed_is_not_sent_again(as_owner, owner):
    meeting = meeting_with_reminders([owner])
    reminder = went_out(reminder_of(meeting, 7))
    reminder.send_at = datetime.now(UTC) - timedelta(days=1)
    meeting.starts_at = reminder.send_at + timedelta(days=7)
    meeting.ends_at = meeting.starts_at + timedelta(hours=3)
    db.session.commit()

    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders/{reminder.id}/send-again", follow_redirects=True
    )

    assert "The time of this reminder has passed" in page_of(response)
    db.session.expire_all()
    assert reminder.round == 0


# Forms carry their CSRF token


def test_the_reminder_forms_need_the_csrf_token(csrf_app):
    owner = UserFactory()
    meeting = meeting_with_reminders([owner])
    sent = went_out(reminder_of(meeting, 7))
    pending = reminder_of(meeting, 1)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(owner.id)
        session["_fresh"] = True
    base = f"/meetings/{meeting.id}/reminders"
    data = {"amount": "2", "unit": "hours", "anchor": "start", "audience": "coming"}

    for path in ("", f"/{pending.id}/edit", f"/{pending.id}/delete", f"/{sent.id}/send-again"):
        assert client.post(base + path, data=data).status_code == 400
    assert reminder_rows(meeting) == DEFAULT_ROWS

    page = page_of(client.get(base))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = client.post(base, data={**data, "csrf_token": token})
    assert response.status_code == 302
    assert (2, "hours", "start", "coming", 0) in reminder_rows(meeting)


def test_each_text_form_carries_its_own_csrf_token(csrf_app):
    owner = UserFactory()
    meeting = meeting_with_reminders([owner])
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(owner.id)
        session["_fresh"] = True
    path = f"/meetings/{meeting.id}/reminders/texts"
    data = {"unanswered-subject": "Objet", "unanswered-message": "Texte", "unanswered-save": "1"}

    assert client.post(path, data=data).status_code == 400

    page = page_of(client.get(path))
    assert 'name="coming-csrf_token"' in page
    token = re.search(r'name="unanswered-csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert client.post(path, data={**data, "unanswered-csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert meeting.followup_subject == "Objet"


# The texts (from the sending module: reminder_text, save_reminder_text, preview_reminder)


def test_the_texts_page_starts_from_the_texts_in_use(as_owner, meeting):
    page = page_of(as_owner.get(f"/meetings/{meeting.id}/reminders/texts"))

    for audience in ReminderAudience:
        subject, _message = sending.reminder_text(meeting, audience)
        assert f'value="{escape(subject)}"' in page
        assert f"/reminders/texts/{audience.value}/preview" in page
    assert page.count("This is the default text, built from the meeting.") == 2


def test_the_html_preview_has_a_policy_of_its_own(as_owner, meeting):
    response = as_owner.get(f"/meetings/{meeting.id}/reminders/texts/unanswered/preview")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    expected = sending.preview_reminder(meeting, ReminderAudience.UNANSWERED).html
    assert page_of(response) == expected


def test_an_organiser_writes_the_follow_up_text(as_owner, meeting):
    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders/texts",
        data={
            "unanswered-subject": "Serez-vous des nôtres ?",
            "unanswered-message": "Merci de nous répondre.",
            "unanswered-save": "1",
        },
    )

    assert response.status_code == 302
    assert response.location.endswith("/reminders/texts#followup")
    db.session.expire_all()
    assert meeting.followup_subject == "Serez-vous des nôtres ?"
    assert meeting.followup_message == "Merci de nous répondre."
    assert (meeting.reminder_subject, meeting.reminder_message) == ("", "")
    page = page_of(as_owner.get(response.location))
    assert "The follow-up text is saved." in page
    assert "Serez-vous des nôtres ?" in page


def test_an_organiser_goes_back_to_the_default_reminder_text(as_owner, meeting):
    meeting.reminder_subject = "Rappel maison"
    meeting.reminder_message = "À lundi !"
    db.session.commit()

    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders/texts",
        data={"coming-subject": "", "coming-message": "", "coming-restore_default": "1"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert (meeting.reminder_subject, meeting.reminder_message) == ("", "")


def test_an_empty_subject_is_shown_next_to_its_field_and_the_other_text_stays(as_owner, meeting):
    response = as_owner.post(
        f"/meetings/{meeting.id}/reminders/texts",
        data={"coming-subject": "", "coming-message": "Texte", "coming-save": "1"},
    )

    page = page_of(response)
    assert response.status_code == 200
    assert invalid_fields(page) == {"coming-subject"}
    assert error_of(page, "coming-subject") == "Please give a subject."
    follow_up_subject, _message = sending.reminder_text(meeting, ReminderAudience.UNANSWERED)
    assert f'value="{escape(follow_up_subject)}"' in page
    db.session.expire_all()
    assert meeting.reminder_subject == ""


def test_the_texts_of_a_cancelled_meeting_cannot_change(as_owner, owner):
    meeting = meeting_with_reminders([owner], status=MeetingStatus.CANCELLED)

    response = as_owner.post(f"/meetings/{meeting.id}/reminders/texts", data=FORM)

    assert response.status_code == 302
    db.session.expire_all()
    assert meeting.reminder_subject == ""
