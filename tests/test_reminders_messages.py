"""Messages to a segment of a meeting's invitees: who each segment reaches, the checks on the
text, the preview, sending through the outbox exactly once, the history with its deliveries,
the permissions, and the delivery to a real SMTP server."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.invitations.tokens import invitation_for_token
from app.meetings.services import MeetingStateError
from app.models import (
    Answer,
    Civility,
    Meeting,
    MeetingMessage,
    MeetingStatus,
    MessageStatus,
    OutboxMessage,
    Segment,
)
from app.reminders import messages
from tests.conftest import USING_POSTGRES, application
from tests.factories import UserFactory
from tests.invitations_organiser_helpers import (
    SEED_NOW,
    answer,
    directory,
    invite_all,
    outbox,
    seed_meeting,
    upcoming_meeting,
)
from tests.test_invitations_flow import parts

LINK = re.compile(r"https?://[^\s\"<>]+/i/([A-Za-z0-9_-]{40,})")
# Three coming, two not coming, one waiting, two without an answer; one more person on the
# list whose invitation has not gone out.
ANSWERS = [
    Answer.COMING,
    Answer.COMING,
    Answer.COMING,
    Answer.NOT_COMING,
    Answer.NOT_COMING,
    Answer.WAITING,
    Answer.NONE,
    Answer.NONE,
]
EXPECTED_COUNTS = {
    Segment.ALL: 8,
    Segment.COMING: 3,
    Segment.NOT_COMING: 2,
    Segment.NO_ANSWER: 2,
    Segment.WAITING: 1,
}
MESSAGE = {
    "segment": "coming",
    "subject": "Compte rendu de la rencontre",
    "body": "Merci de votre venue.\n\nLe compte rendu <b>est</b> en pièce jointe.\nBonne journée",
}


def invite_with_answers(meeting, answers=ANSWERS, prefix="person"):
    """The meeting's invitations, sent, answered as `answers`, and one more not sent."""
    people = directory(len(answers) + 1, prefix=prefix)
    invitations = invite_all(meeting, people[:-1], invited_at=SEED_NOW)
    invite_all(meeting, people[-1:])
    for invitation, value in zip(invitations, answers, strict=True):
        if value is not Answer.NONE:
            answer(invitation, value)
    return invitations


@pytest.fixture
def meeting(app, organiser):
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting)
    return meeting


def message_count() -> int:
    return db.session.scalar(select(func.count(MeetingMessage.id)))


def invalid_fields(page: str) -> set[str]:
    """The ids of the form controls marked aria-invalid="true", and of invalid fieldsets."""
    tags = re.findall(r"<(?:input|select|textarea|fieldset)\b[^>]*>", page)
    invalid = set()
    for tag in tags:
        if 'aria-invalid="true"' in tag:
            invalid.add(re.search(r'\bid="([^"]+)"', tag)[1])
        elif tag.startswith("<fieldset") and "has-error" in tag:
            invalid.add(re.search(r'aria-describedby="([^"]+)-error"', tag)[1])
    return invalid


def hidden_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page, re.S)
    assert tag and 'type="hidden"' in tag[0], f"no hidden {name} in the page"
    return re.search(r'\bvalue="([^"]*)"', tag[0])[1]


def post_message(client, meeting, **changes):
    data = {**MESSAGE, "preview": "1", **changes}
    return client.post(f"/meetings/{meeting.id}/messages/new", data=data)


def preview_then_send(client, meeting, **changes):
    """What the organiser does: preview, then press "Send" on the preview page."""
    page = post_message(client, meeting, **changes).get_data(as_text=True)
    data = {**MESSAGE, **changes, "send": "1", "sent_after": hidden_value(page, "sent_after")}
    return client.post(f"/meetings/{meeting.id}/messages/new", data=data)


# Segments


def test_segment_counts_split_answers_and_leave_out_people_not_invited_yet(meeting):
    assert messages.segment_counts(meeting) == EXPECTED_COUNTS
    for segment, count in EXPECTED_COUNTS.items():
        invitations = db.session.scalars(messages.segment_query(meeting, segment)).all()
        assert len(invitations) == count
        assert all(invitation.invited_at is not None for invitation in invitations)


def test_segment_counts_of_a_meeting_without_invitees_are_zero(app):
    assert messages.segment_counts(seed_meeting()) == dict.fromkeys(Segment, 0)


def test_segment_counts_take_one_query(meeting, count_queries):
    db.session.refresh(meeting)
    with count_queries() as counter:
        messages.segment_counts(meeting)
    assert counter.count == 1


def test_a_draft_has_nobody_to_write_to_but_held_and_cancelled_meetings_have(app):
    with pytest.raises(MeetingStateError):
        messages.check_can_write(seed_meeting(status=MeetingStatus.DRAFT), SEED_NOW)
    messages.check_can_write(seed_meeting(), SEED_NOW)
    messages.check_can_write(seed_meeting(), SEED_NOW + timedelta(days=30))
    cancelled = seed_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Grève")
    messages.check_can_write(cancelled, SEED_NOW)


# The text


def test_subject_and_text_are_required_and_limited(app):
    assert messages.MessageDraft.cleaned(Segment.ALL, " ", "\n \n").problems().keys() == {
        "subject",
        "body",
    }
    too_long = messages.MessageDraft.cleaned(Segment.ALL, "a" * 301, "b" * 10001)
    assert too_long.problems().keys() == {"subject", "body"}
    longest = messages.MessageDraft.cleaned(Segment.ALL, "a" * 300, "b" * 10000)
    assert longest.problems() == {}


def test_subject_cannot_inject_headers_and_text_gets_plain_line_ends(app):
    draft = messages.MessageDraft.cleaned(
        Segment.ALL, "Compte rendu\r\nBcc: everyone@example.org", "Bonjour, \r\n\r\nMerci.\r\n"
    )
    assert draft.subject == "Compte rendu Bcc: everyone@example.org"
    assert draft.body == "Bonjour,\n\nMerci."


def test_preview_is_the_first_recipients_email_with_the_count(meeting):
    email, count = messages.preview_message(
        meeting, Segment.COMING, MESSAGE["subject"], MESSAGE["body"]
    )
    assert count == 3
    assert email.subject == "Compte rendu de la rencontre"
    assert "Merci de votre venue." in email.text
    assert "/i/preview" in email.text and "/i/preview" in email.html
    assert "&lt;b&gt;est&lt;/b&gt;" in email.html
    assert outbox() == [] and message_count() == 0


def test_preview_of_an_empty_segment_is_refused(app, organiser):
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting, [Answer.COMING])
    with pytest.raises(messages.InvalidMessage) as refused:
        messages.preview_message(meeting, Segment.WAITING, "Objet", "Texte")
    assert refused.value.problems.keys() == {"segment"}


# Sending


def test_sending_queues_one_email_per_recipient_with_a_personal_link(meeting, organiser):
    message = messages.send_message(
        meeting, Segment.COMING, MESSAGE["subject"], MESSAGE["body"], organiser, SEED_NOW
    )
    db.session.commit()

    assert message.recipient_count == 3
    assert message.sent_by_id == organiser.id and message.segment is Segment.COMING
    emails = outbox(messages.MESSAGE_KIND)
    coming = db.session.scalars(messages.segment_query(meeting, Segment.COMING)).all()
    assert sorted(email.invitation_id for email in emails) == sorted(i.id for i in coming)
    tokens = set()
    for email in emails:
        assert email.meeting_message_id == message.id and email.meeting_id == meeting.id
        assert email.status is MessageStatus.QUEUED
        assert email.reply_to_address == "j.feron@example.org"
        assert email.subject == "Compte rendu de la rencontre"
        assert "Merci de votre venue." in email.text_body
        assert "Merci de votre venue." in email.html_body
        [token] = LINK.findall(email.text_body)
        assert token in email.html_body
        assert invitation_for_token(token).id == email.invitation_id
        tokens.add(token)
    assert len(tokens) == 3


def test_email_greets_the_person_and_recalls_the_meeting(app, organiser):
    meeting = upcoming_meeting([organiser], title="Groupe de travail")
    [invitation] = invite_with_answers(meeting, [Answer.COMING])
    invitation.contact.civility = Civility.MS
    invitation.contact.last_name = "Dupont"
    db.session.commit()

    messages.send_message(meeting, Segment.ALL, "Objet", "Texte", organiser, SEED_NOW)

    [email] = outbox(messages.MESSAGE_KIND)
    assert email.text_body.startswith("Bonjour Mme Dupont,")
    for part in (email.text_body, email.html_body):
        assert "Groupe de travail" in part
        assert "Maison des associations" in part
        assert "Judicaëlle Feron" in part


def test_an_empty_segment_is_refused_and_nothing_is_recorded(app, organiser):
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting, [Answer.COMING])
    with pytest.raises(messages.InvalidMessage) as refused:
        messages.send_message(meeting, Segment.NOT_COMING, "Objet", "Texte", None, SEED_NOW)
    assert refused.value.problems.keys() == {"segment"}
    db.session.rollback()
    assert message_count() == 0 and outbox() == []


def test_the_same_message_after_the_same_preview_goes_out_once(meeting, organiser):
    key = messages.latest_message_id(meeting)
    first = messages.send_message(
        meeting, Segment.COMING, "Objet", "Texte", organiser, SEED_NOW, sent_after=key
    )
    db.session.commit()
    with pytest.raises(messages.AlreadySent) as again:
        messages.send_message(
            meeting, Segment.COMING, "Objet", "Texte", organiser, SEED_NOW, sent_after=key
        )
    assert again.value.message_id == first.id
    db.session.rollback()
    # Another text, or the same after a new preview, is another message.
    messages.send_message(
        meeting, Segment.COMING, "Objet", "Autre texte", organiser, SEED_NOW, sent_after=key
    )
    messages.send_message(
        meeting,
        Segment.COMING,
        "Objet",
        "Texte",
        organiser,
        SEED_NOW,
        sent_after=messages.latest_message_id(meeting),
    )
    db.session.commit()
    assert message_count() == 3
    assert len(outbox(messages.MESSAGE_KIND)) == 9


@pytest.fixture
def shared_app(tmp_path):
    """An app whose database several threads see: PostgreSQL when the suite runs on it, else
    a SQLite file (an in-memory database is private to its connection)."""
    settings = {}
    if not USING_POSTGRES:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'messages.db'}"
    with application(**settings) as app:
        yield app


def test_two_clicks_at_the_same_moment_send_the_message_once(shared_app):
    meeting = upcoming_meeting([UserFactory()])
    invite_with_answers(meeting)
    meeting_id, key = meeting.id, messages.latest_message_id(meeting)
    db.session.close()
    barrier = threading.Barrier(2)
    outcomes = []

    def click() -> None:
        with shared_app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            barrier.wait(timeout=10)
            try:
                messages.send_message(
                    meeting, Segment.COMING, "Objet", "Texte", None, SEED_NOW, sent_after=key
                )
                db.session.commit()
                outcomes.append("sent")
            except messages.AlreadySent:
                db.session.rollback()
                outcomes.append("already sent")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _click in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["already sent", "sent"]
    assert message_count() == 1
    assert len(outbox(messages.MESSAGE_KIND)) == 3


def sending_statements(count_queries, organiser, invitees: int) -> tuple[int, int]:
    """(reads and updates, inserts) run by sending a message to `invitees` people."""
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting, [Answer.COMING] * invitees, prefix=f"m{meeting.id}-")
    db.session.expire_all()
    with count_queries() as counter:
        messages.send_message(meeting, Segment.ALL, "Objet", "Texte", organiser, SEED_NOW)
        db.session.flush()
    db.session.commit()
    inserts = [sql for sql in counter.statements if sql.lstrip().upper().startswith("INSERT")]
    return counter.count - len(inserts), len(inserts)


def test_sending_reads_the_same_for_10_or_60_recipients(app, organiser, count_queries):
    reads_for_ten, inserts_for_ten = sending_statements(count_queries, organiser, 10)
    reads_for_sixty, inserts_for_sixty = sending_statements(count_queries, organiser, 60)
    assert len(outbox(messages.MESSAGE_KIND)) == 70
    assert reads_for_sixty == reads_for_ten
    # The message, then a link and an e-mail per person at most (SQLite may insert them one
    # by one, PostgreSQL in batches).
    assert inserts_for_ten <= 1 + 2 * 10
    assert inserts_for_sixty <= 1 + 2 * 60


# What was sent


def mark(emails, status: MessageStatus, error: str = "") -> None:
    for email in emails:
        email.status = status
        email.last_error = error
    db.session.commit()


def test_history_counts_each_messages_deliveries_newest_first(meeting, organiser):
    first = messages.send_message(meeting, Segment.ALL, "Premier", "Texte", organiser, SEED_NOW)
    second = messages.send_message(
        meeting, Segment.COMING, "Second", "Texte", None, SEED_NOW + timedelta(hours=1)
    )
    db.session.commit()
    first_emails = outbox(messages.MESSAGE_KIND)[:8]
    mark(first_emails[:5], MessageStatus.SENT)
    mark(first_emails[5:6], MessageStatus.FAILED, "550 No such user")
    mark(first_emails[6:7], MessageStatus.SENDING)

    history = messages.message_history(meeting)

    assert [tuple(row) for row in history] == [
        (second, None, 3, 0, 0),
        (first, "Olivier Organisateur", 2, 5, 1),
    ]
    assert [row[0] for row in messages.message_history(meeting, limit=1)] == [second]
    delivery = messages.message_delivery(first)
    assert (delivery.queued, delivery.sent, delivery.failed) == (2, 5, 1)


def test_history_is_one_query_whatever_the_number_of_messages(meeting, count_queries):
    for number in range(3):
        messages.send_message(meeting, Segment.ALL, f"Objet {number}", "Texte", None, SEED_NOW)
    db.session.commit()
    db.session.refresh(meeting)
    with count_queries() as counter:
        assert len(messages.message_history(meeting)) == 3
    assert counter.count == 1


def test_recipients_of_a_message_with_their_organisation_and_delivery(meeting):
    message = messages.send_message(meeting, Segment.COMING, "Objet", "Texte", None, SEED_NOW)
    db.session.commit()
    emails = outbox(messages.MESSAGE_KIND)
    mark(emails[:1], MessageStatus.FAILED, "550 No such user")

    rows = db.session.execute(messages.message_recipients(message)).all()

    assert len(rows) == 3
    failed = next(row for row in rows if row.address == emails[0].to_address)
    assert failed.status is MessageStatus.FAILED and failed.error == "550 No such user"
    assert failed.organisation and failed.name == emails[0].to_name and failed.contact_id
    other = messages.send_message(meeting, Segment.WAITING, "Objet", "Texte", None, SEED_NOW)
    assert len(db.session.execute(messages.message_recipients(other)).all()) == 1


# Pages: permissions


PAGES = [
    ("get", "/messages"),
    ("get", "/messages/new"),
    ("post", "/messages/new"),
    ("get", "/messages/{message}"),
]
WRITING = [("get", "/messages/new"), ("post", "/messages/new")]


@pytest.fixture
def sent(meeting, organiser):
    message = messages.send_message(meeting, Segment.COMING, "Objet", "Texte", None, SEED_NOW)
    db.session.commit()
    return message


def url(meeting, path, message=None) -> str:
    return f"/meetings/{meeting.id}" + path.format(message=message.id if message else 0)


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(
    client, organiser, meeting, sent, method, path
):
    response = getattr(client, method)(url(meeting, path, sent), data={**MESSAGE, "send": "1"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "path"), WRITING)
def test_other_organisers_may_not_write(client, login, meeting, method, path):
    login(UserFactory())
    response = getattr(client, method)(url(meeting, path), data={**MESSAGE, "send": "1"})
    assert response.status_code == 403
    assert message_count() == 0 and outbox() == []


def test_other_organisers_may_read_the_history_as_they_read_the_answers(
    client, login, meeting, sent
):
    login(UserFactory())
    client.set_cookie("lang", "en")
    history = client.get(url(meeting, "/messages"))
    assert history.status_code == 200
    assert "Objet" in history.get_data(as_text=True)
    assert "Write to invitees" not in history.get_data(as_text=True)
    assert client.get(url(meeting, "/messages/{message}", sent)).status_code == 200
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Objet" in page and "Write to invitees" not in page


def test_administrators_may_write(as_admin, meeting):
    assert as_admin.get(url(meeting, "/messages/new")).status_code == 200
    assert preview_then_send(as_admin, meeting).status_code == 302
    assert len(outbox(messages.MESSAGE_KIND)) == 3


def test_unknown_meeting_or_message_of_another_meeting_is_not_found(
    as_organiser, organiser, meeting, sent
):
    other = upcoming_meeting([organiser])
    assert as_organiser.get("/meetings/999999/messages").status_code == 404
    assert as_organiser.get("/meetings/999999/messages/new").status_code == 404
    assert as_organiser.get(url(other, "/messages/{message}", sent)).status_code == 404
    assert as_organiser.get(url(meeting, "/messages/999999")).status_code == 404


def test_sending_needs_the_forms_token(csrf_app):
    organiser = UserFactory()
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(organiser.id)

    response = client.post(url(meeting, "/messages/new"), data={**MESSAGE, "send": "1"})

    assert response.status_code == 400
    assert message_count() == 0 and outbox() == []
    page = client.get(url(meeting, "/messages/new")).get_data(as_text=True)
    data = {**MESSAGE, "csrf_token": hidden_value(page, "csrf_token")}
    page = client.post(url(meeting, "/messages/new"), data={**data, "preview": "1"})
    data["sent_after"] = hidden_value(page.get_data(as_text=True), "sent_after")
    assert client.post(url(meeting, "/messages/new"), data={**data, "send": "1"}).status_code == 302
    assert message_count() == 1


# Pages: writing, previewing, sending


def test_compose_page_offers_each_segment_with_its_count(as_organiser, meeting):
    as_organiser.set_cookie("lang", "en")
    page = as_organiser.get(url(meeting, "/messages/new?segment=coming")).get_data(as_text=True)
    for text in (
        "Everyone invited: 8 people",
        "Those coming: 3 people",
        "Those not coming: 2 people",
        "Those who have not answered: 2 people",
        "Those on the waiting list: 1 person",
    ):
        assert text in page
    assert re.search(r'<input checked[^>]*value="coming"|value="coming"[^>]*checked', page)


def test_preview_shows_the_email_and_the_number_of_recipients(as_organiser, meeting):
    as_organiser.set_cookie("lang", "en")
    page = post_message(as_organiser, meeting).get_data(as_text=True)
    assert "This message will be sent to 3 people (Those coming)." in page
    assert "Send to 3 people" in page
    assert "Compte rendu de la rencontre" in page
    # The HTML part in a sandboxed frame, as an attribute: nothing of it runs in the page.
    frame = re.search(r"<iframe[^>]*>", page)[0]
    assert "sandbox" in frame and "srcdoc=" in frame and "<b>" not in frame
    assert "Le compte rendu &lt;b&gt;est&lt;/b&gt; en pièce jointe." in page
    assert message_count() == 0 and outbox() == []


def test_going_back_to_edit_keeps_what_was_typed(as_organiser, meeting):
    page = post_message(as_organiser, meeting).get_data(as_text=True)
    data = {name: hidden_value(page, name) for name in ("segment", "subject", "body")}
    assert data["body"] == MESSAGE["body"].replace("<", "&lt;").replace(">", "&gt;")
    response = as_organiser.post(
        url(meeting, "/messages/new"), data={**MESSAGE, "edit": "1"}
    ).get_data(as_text=True)
    assert 'value="Compte rendu de la rencontre"' in response
    assert "Merci de votre venue.\n\nLe compte rendu &lt;b&gt;est&lt;/b&gt;" in response
    assert re.search(r'value="coming"[^>]*checked|checked[^>]*value="coming"', response)
    assert invalid_fields(response) == set()


def test_empty_subject_and_text_are_shown_next_to_their_fields(as_organiser, meeting):
    as_organiser.set_cookie("lang", "en")
    response = post_message(as_organiser, meeting, subject="  ", body="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert invalid_fields(page) == {"subject", "body"}
    assert page.count("Please give a subject.") == page.count("Please write a message.") == 1


def test_header_injection_in_the_subject_is_neutralised(as_organiser, meeting):
    response = preview_then_send(
        as_organiser, meeting, subject="Compte rendu\r\nBcc: everyone@example.org"
    )
    assert response.status_code == 302
    subjects = {email.subject for email in outbox(messages.MESSAGE_KIND)}
    assert subjects == {"Compte rendu Bcc: everyone@example.org"}
    assert db.session.scalar(select(MeetingMessage.subject)) == subjects.pop()


def test_an_empty_segment_is_refused_next_to_the_choice(as_organiser, organiser):
    as_organiser.set_cookie("lang", "en")
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting, [Answer.COMING])
    page = post_message(as_organiser, meeting, segment="waiting").get_data(as_text=True)
    assert "Nobody is in this group: choose another one." in page
    assert invalid_fields(page) == {"segment"}
    response = as_organiser.post(
        url(meeting, "/messages/new"), data={**MESSAGE, "segment": "waiting", "send": "1"}
    )
    assert "Nobody is in this group: choose another one." in response.get_data(as_text=True)
    page = post_message(as_organiser, meeting, segment="nobody").get_data(as_text=True)
    assert invalid_fields(page) == {"segment"}
    assert message_count() == 0 and outbox() == []


def test_a_draft_meeting_cannot_be_written_to(as_organiser, organiser):
    as_organiser.set_cookie("lang", "en")
    meeting = upcoming_meeting([organiser], status=MeetingStatus.DRAFT)
    invite_all(meeting, directory(2), invited_at=SEED_NOW)
    page = as_organiser.get(url(meeting, "/messages/new")).get_data(as_text=True)
    assert "Publish the meeting and send its invitations" in page
    assert "<textarea" not in page
    response = as_organiser.post(url(meeting, "/messages/new"), data={**MESSAGE, "send": "1"})
    assert "Publish the meeting and send its invitations" in response.get_data(as_text=True)
    assert message_count() == 0 and outbox() == []


def test_a_cancelled_meeting_can_still_be_written_to(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    invite_with_answers(meeting, [Answer.COMING])
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancellation_reason = "Grève"
    db.session.commit()
    as_organiser.set_cookie("lang", "en")
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Write to invitees" in page
    assert preview_then_send(as_organiser, meeting).status_code == 302
    [email] = outbox(messages.MESSAGE_KIND)
    assert "Cette réunion est annulée" in email.text_body


def test_sending_goes_to_the_message_page_and_a_double_submit_sends_once(as_organiser, meeting):
    as_organiser.set_cookie("lang", "en")
    page = post_message(as_organiser, meeting).get_data(as_text=True)
    data = {**MESSAGE, "send": "1", "sent_after": hidden_value(page, "sent_after")}

    first = as_organiser.post(url(meeting, "/messages/new"), data=data)
    second = as_organiser.post(url(meeting, "/messages/new"), data=data)

    message = db.session.scalars(select(MeetingMessage)).one()
    location = f"/meetings/{meeting.id}/messages/{message.id}"
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == location
    assert len(outbox(messages.MESSAGE_KIND)) == 3
    shown = as_organiser.get(location).get_data(as_text=True)
    assert "Your message is being sent to 3 people." in shown
    assert "This message has already been sent." in shown


def test_message_page_shows_the_text_and_each_recipients_delivery(as_organiser, meeting, sent):
    as_organiser.set_cookie("lang", "en")
    emails = outbox(messages.MESSAGE_KIND)
    mark(emails[:1], MessageStatus.SENT)
    mark(emails[1:2], MessageStatus.FAILED, "550 5.1.1 No such user")

    page = as_organiser.get(url(meeting, "/messages/{message}", sent)).get_data(as_text=True)

    assert "<h1>Objet</h1>" in page and "Texte" in page
    assert "Those coming (3 people)" in page
    assert "1 sent" in page and "1 failed" in page and "1 queued" in page
    assert "550 5.1.1 No such user" in page
    for email in emails:
        assert email.to_address in page


def test_meeting_page_lists_the_last_messages_with_their_deliveries(
    as_organiser, meeting, organiser
):
    as_organiser.set_cookie("lang", "en")
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Messages to invitees" in page and "Write to invitees" in page
    preview_then_send(as_organiser, meeting)
    mark(outbox(messages.MESSAGE_KIND)[:2], MessageStatus.SENT)

    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)

    assert "Compte rendu de la rencontre" in page
    assert "2 sent" in page and "1 queued" in page
    assert "by Olivier Organisateur" in page
    assert f'href="/meetings/{meeting.id}/messages"' in page
    history = as_organiser.get(url(meeting, "/messages")).get_data(as_text=True)
    assert "Compte rendu de la rencontre" in history and "2 sent" in history


def test_a_draft_meeting_page_has_no_messages_section(as_organiser, organiser):
    as_organiser.set_cookie("lang", "en")
    meeting = upcoming_meeting([organiser], status=MeetingStatus.DRAFT)
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Messages to invitees" not in page


# End to end


def test_message_reaches_a_real_smtp_server_with_both_parts_and_a_working_link(
    app, smtp, as_organiser, meeting
):
    response = preview_then_send(as_organiser, meeting)
    assert response.status_code == 302

    received = smtp.messages
    coming = db.session.scalars(messages.segment_query(meeting, Segment.COMING)).all()
    assert sorted(smtp.recipients) == sorted(i.contact.email for i in coming)
    statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert statuses == [MessageStatus.SENT] * 3
    for email in received:
        assert email["Subject"] == "Compte rendu de la rencontre"
        assert email["Reply-To"].addresses[0].addr_spec == "j.feron@example.org"
        text, html = parts(email)
        assert "Merci de votre venue." in text and "Merci de votre venue." in html
        assert "Le compte rendu &lt;b&gt;est&lt;/b&gt;" in html
        [token] = LINK.findall(text)
        assert token in html
        assert app.test_client().get(f"/i/{token}").status_code == 200
    assert len({email["Message-ID"] for email in received}) == 3
