"""Delivering the outbox to a real SMTP server: headers and parts, retries, failures, recovery."""

import contextlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from sqlalchemy import event, select, update

from app.extensions import db
from app.jobs import deliver_outbox_every_minute
from app.mail.delivery import (
    OUTCOME_UNKNOWN,
    WORKER_STOPPED,
    NotRetryable,
    backoff,
    claim_batch,
    deliver_due,
    recover_stale,
    request_delivery,
    retry_message,
)
from app.mail.outbox import RenderedEmail, queue_email
from app.models import MessageStatus, OutboxMessage
from app.sqltypes import utcnow
from tests.smtp_server import Recorder

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "UID:meeting-1@localhost\r\nSUMMARY:Réunion des centres sociaux\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def invitation_email(number: int = 0) -> RenderedEmail:
    return RenderedEmail(
        subject=f"Invitation : réunion des centres sociaux n°{number} – mardi 5 juin",
        text=f"Bonjour Zoé,\n\nRépondez ici : https://rencontres.example.org/r/{number}\n",
        html=f'<p>Bonjour Zoé,</p><p><a href="https://rencontres.example.org/r/{number}">'
        "Répondre</a></p>",
    )


def queue(count: int = 1, now: datetime = NOW, **options) -> list[OutboxMessage]:
    messages = [
        queue_email(
            "invitation",
            f"invitee{number}@example.org",
            invitation_email(number),
            now,
            to_name="Zoé Lefèvre-Nöel",
            reply_to=("claire.martin@federation.example.org", "Claire Martin"),
            **options,
        )
        for number in range(count)
    ]
    db.session.commit()
    return messages


def statuses() -> list[MessageStatus]:
    return list(db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


@contextlib.contextmanager
def committed_statuses() -> Iterator[list[str]]:
    """What each commit makes durable: the messages' statuses in order, one letter each
    (Queued, Claimed, sending as "→", Sent, Failed), as a worker killed after it would leave
    them."""
    letters = {status.value: status.value[0].upper() for status in MessageStatus}
    letters[MessageStatus.SENDING.value] = "→"
    seen: list[str] = []

    def on_commit(connection) -> None:
        rows = connection.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id))
        seen.append("".join(letters[status.value] for status in rows))

    event.listen(db.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "commit", on_commit)


def received_ids(smtp) -> Counter:
    return Counter(message["Message-ID"] for message in smtp.messages)


def raw_message(**values) -> OutboxMessage:
    """A row written without queue_email, as a bug or a manual INSERT could."""
    fields = {
        "kind": "test",
        "to_address": "someone@example.org",
        "subject": "Subject",
        "text_body": "text",
        "html_body": "<p>html</p>",
        "message_id": f"<raw-{len(values)}-{sorted(values)}@localhost>",
        "created_at": NOW,
        "next_attempt_at": NOW,
        **values,
    }
    message = OutboxMessage(**fields)
    db.session.add(message)
    db.session.commit()
    return message


def test_delivered_message_has_every_header_both_parts_and_the_calendar(smtp):
    (message,) = queue(calendar=CALENDAR, calendar_method="REQUEST")

    report = deliver_due(NOW)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (received,) = smtp.messages
    assert smtp.recipients == ["invitee0@example.org"]
    assert received["From"] == "rencontres@localhost"
    (to,) = received["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Zoé Lefèvre-Nöel", "invitee0@example.org")
    (reply_to,) = received["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (
        "Claire Martin",
        "claire.martin@federation.example.org",
    )
    assert received["Message-ID"] == message.message_id
    assert parsedate_to_datetime(received["Date"]) == NOW
    assert received["Subject"] == invitation_email().subject
    assert received["Bcc"] is None and received["Cc"] is None

    assert received.get_content_type() == "multipart/mixed"
    alternative = received.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = received.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert text.strip() == invitation_email().text.strip()
    assert html.strip() == invitation_email().html.strip()

    (attachment,) = received.iter_attachments()
    assert attachment.get_filename() == "invitation.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_content() == CALENDAR

    assert message.status == MessageStatus.SENT
    assert (message.attempts, message.sent_at, message.last_error) == (1, NOW, "")


def test_message_without_calendar_or_reply_to_has_neither(smtp):
    queue_email("test", "someone@example.org", invitation_email(), NOW)
    db.session.commit()

    deliver_due(NOW)

    (received,) = smtp.messages
    assert received["Reply-To"] is None
    assert list(received.iter_attachments()) == []


def test_long_lines_are_wrapped_for_smtp_and_arrive_intact(smtp):
    long_text = "Réunion « Parents et école » à Cergy, " * 60 + "fin.\n"
    long_html = "<p>" + "<b>Zoé</b> est invitée à la réunion, " * 60 + "</p>"
    queue_email(
        "test", "someone@example.org", RenderedEmail("Invitation", long_text, long_html), NOW
    )
    db.session.commit()

    assert deliver_due(NOW).sent == 1

    content = smtp.recorder.envelopes[0].original_content
    assert max(len(line) for line in content.splitlines()) <= 998
    (received,) = smtp.messages
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == long_text
    assert received.get_body(("html",)).get_content().rstrip("\r\n") == long_html


def test_long_names_and_subjects_arrive_unchanged(smtp):
    name = "Jean-Baptiste Émile de la Fontaine-Saint-Maurice du Grand Plateau des Hauts-de-Seine"
    subject = "Invitation : rencontre « Parents et école », mardi 5 juin 2018 — " * 3
    rendered = RenderedEmail(subject=subject.strip(), text="Bonjour", html="<p>Bonjour</p>")
    queue_email("test", "jb@example.org", rendered, NOW, to_name=name, reply_to=("c@x.org", name))
    db.session.commit()

    deliver_due(NOW)

    # Decoded as RFC 2047 says (Python's newer address parser adds a space between two
    # encoded words; mail clients do not).
    raw = message_from_bytes(smtp.recorder.envelopes[0].original_content)
    assert str(make_header(decode_header(raw["To"]))) == f"{name} <jb@example.org>"
    assert str(make_header(decode_header(raw["Reply-To"]))) == f"{name} <c@x.org>"
    assert b"Pla teau" not in smtp.recorder.envelopes[0].original_content
    assert smtp.messages[0]["Subject"] == subject.strip()


def test_names_with_accents_or_punctuation_arrive_as_written(app, smtp):
    app.config["MAIL_DEFAULT_SENDER"] = "Réseau Parentalité 21 <rencontres@example.org>"
    rendered = RenderedEmail(subject="Plain ASCII subject", text="Bonjour", html="<p>Bonjour</p>")
    queue_email(
        "test",
        "claire@example.org",
        rendered,
        NOW,
        to_name='Martin, Claire "CM"',
        reply_to=("c@x.org", "Ève (Maison des parents)"),
    )
    db.session.commit()

    deliver_due(NOW)

    raw = message_from_bytes(smtp.recorder.envelopes[0].original_content)
    decoded = {name: str(make_header(decode_header(raw[name]))) for name in ("From", "Reply-To")}
    assert decoded["From"] == "Réseau Parentalité 21 <rencontres@example.org>"
    assert decoded["Reply-To"] == "Ève (Maison des parents) <c@x.org>"
    assert parseaddr(raw["To"]) == ('Martin, Claire "CM"', "claire@example.org")
    assert raw["Subject"] == "Plain ASCII subject"
    assert all(len(line) <= 78 for line in smtp.recorder.envelopes[0].original_content.splitlines())


def test_line_breaks_in_names_add_no_header_and_no_recipient(smtp):
    queue_email(
        "test",
        "someone@example.org",
        invitation_email(),
        NOW,
        to_name="Eve\r\nBcc: evil@example.org",
        reply_to=("claire@example.org", "Claire\nBcc: evil@example.org"),
    )
    db.session.commit()

    assert deliver_due(NOW).sent == 1

    (received,) = smtp.messages
    assert smtp.recipients == ["someone@example.org"]
    assert received["Bcc"] is None
    assert received["To"].addresses[0].addr_spec == "someone@example.org"
    assert received["To"].addresses[0].display_name == "Eve Bcc: evil@example.org"
    assert received["Reply-To"].addresses[0].addr_spec == "claire@example.org"
    assert b"\nBcc:" not in smtp.recorder.envelopes[0].original_content


@pytest.mark.parametrize(
    "values",
    [
        {"subject": "Réunion\r\nBcc: evil@example.org"},
        {"subject": "Meeting\r\n Bcc: evil@example.org"},
        {"to_name": "Eve\r\nBcc: evil@example.org"},
        {"reply_to_address": "a@example.org", "reply_to_name": "A\nBcc: evil@example.org"},
        {"to_address": "someone@example.org\r\nBcc: evil@example.org"},
        {"to_address": "someone@example.org, evil@example.org"},
        {"reply_to_address": "a@example.org>\r\nBcc: evil@example.org"},
        {"message_id": "<x@localhost>\r\nBcc: evil@example.org"},
        {"calendar": CALENDAR, "calendar_method": "X\r\nBcc: a@b.c"},
    ],
)
def test_row_with_an_unsafe_header_fails_and_is_never_sent(smtp, values):
    message = raw_message(**values)

    report = deliver_due(NOW)

    assert (report.sent, report.failed) == (0, 1)
    assert smtp.messages == []
    assert message.status == MessageStatus.FAILED
    assert "not sent" in message.last_error


def test_row_with_its_bytes_is_checked_again_before_sending(smtp):
    (message,) = queue()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(to_address="invitee0@example.org, evil@example.org")
    )
    db.session.commit()

    assert deliver_due(NOW).failed == 1

    assert smtp.recipients == []
    assert message.status == MessageStatus.FAILED
    assert "not sent" in message.last_error


def test_a_sender_setting_with_a_line_break_sends_nothing(app, smtp):
    app.config["MAIL_DEFAULT_SENDER"] = "rencontres@localhost\r\nBcc: evil@example.org"
    (message,) = queue()

    assert deliver_due(NOW).failed == 1

    assert smtp.messages == []
    assert message.last_error.startswith("Unsafe From header")


def test_a_message_sent_later_is_dated_when_it_was_queued(smtp):
    (message,) = queue(calendar=CALENDAR, calendar_method="REQUEST")

    assert deliver_due(NOW + timedelta(hours=1)).sent == 1

    (envelope,) = smtp.recorder.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("rencontres@localhost", [message.to_address])
    assert parsedate_to_datetime(smtp.messages[0]["Date"]) == NOW


def test_a_row_written_without_queue_email_is_composed_from_its_fields(smtp):
    message = raw_message(
        to_name="Zoé", calendar=CALENDAR, calendar_method="REQUEST", message_id="<old@localhost>"
    )

    assert deliver_due(NOW + timedelta(hours=1)).sent == 1

    (received,) = smtp.messages
    assert received["To"].addresses[0].display_name == "Zoé"
    assert received["Message-ID"] == message.message_id
    assert parsedate_to_datetime(received["Date"]) == NOW
    assert received.get_body(("plain",)).get_content().strip() == "text"
    (attachment,) = received.iter_attachments()
    assert attachment.get_content() == CALENDAR


def test_international_domain_is_given_to_the_server_in_idna(smtp):
    queue_email("test", "zoe@café.fr", invitation_email(), NOW, to_name="Zoé")
    db.session.commit()

    assert deliver_due(NOW).sent == 1

    assert smtp.recipients == ["zoe@xn--caf-dma.fr"]
    assert smtp.messages[0]["To"].addresses[0].addr_spec == "zoe@xn--caf-dma.fr"


def test_address_not_ascii_before_the_at_fails_alone_without_stopping_the_batch(smtp):
    unsendable = queue_email("test", "zoé@example.fr", invitation_email(), NOW)
    (sendable,) = queue()

    report = deliver_due(NOW)

    assert (report.sent, report.failed) == (1, 1)
    assert unsendable.status == MessageStatus.FAILED
    assert "SMTPUTF8" in unsendable.last_error
    assert smtp.recipients == [sendable.to_address]


def test_smtp_down_keeps_messages_queued_then_delivers_each_exactly_once(smtp):
    messages = queue(5)
    smtp.stop()

    report = deliver_due(NOW)

    assert (report.sent, report.retried, report.failed) == (0, 5, 0)
    for message in messages:
        assert message.status == MessageStatus.QUEUED
        assert message.attempts == 1
        assert message.next_attempt_at == NOW + timedelta(minutes=1)
        assert message.claim_token is None
        assert "Could not reach the mail server" in message.last_error

    smtp.start()
    assert deliver_due(NOW + timedelta(seconds=30)).sent == 0
    assert smtp.messages == []

    later = NOW + timedelta(minutes=2)
    assert deliver_due(later).sent == 5
    assert received_ids(smtp) == Counter({message.message_id: 1 for message in messages})
    assert statuses() == [MessageStatus.SENT] * 5
    assert [message.attempts for message in messages] == [2] * 5

    assert deliver_due(later + timedelta(hours=1)).sent == 0
    assert len(smtp.messages) == 5


def test_delays_between_attempts_grow():
    delays = [backoff(attempts) for attempts in range(1, 10)]
    assert delays[:5] == [timedelta(minutes=minutes) for minutes in (1, 5, 15, 60, 240)]
    assert delays == sorted(delays)
    assert delays[-1] == delays[-2]


def test_temporary_refusal_is_retried_later(smtp):
    (message,) = queue()
    smtp.refuse("451 4.3.0 Try later")

    report = deliver_due(NOW)

    assert (report.sent, report.retried) == (0, 1)
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.last_error == "451 4.3.0 Try later"
    assert message.next_attempt_at == NOW + timedelta(minutes=1)

    smtp.refuse(None)
    assert deliver_due(NOW + timedelta(minutes=1)).sent == 1
    assert received_ids(smtp) == Counter({message.message_id: 1})
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 2, "")


def test_permanent_refusal_fails_with_the_reply(smtp):
    (message,) = queue()
    smtp.refuse("550 5.1.1 No such user")

    report = deliver_due(NOW)

    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "550 5.1.1 No such user"
    assert deliver_due(NOW + timedelta(days=1)).failed == 0


def test_refusing_one_message_does_not_stop_the_others(smtp):
    first, second = queue(2)

    class RefuseFirst(Recorder):
        async def handle_DATA(self, server, session, envelope):
            if "invitee0@example.org" in envelope.rcpt_tos:
                return "550 5.1.1 No such user"
            return await super().handle_DATA(server, session, envelope)

    smtp.stop()
    smtp.recorder = RefuseFirst()
    smtp.start()

    report = deliver_due(NOW)

    assert (report.sent, report.failed) == (1, 1)
    assert (first.status, second.status) == (MessageStatus.FAILED, MessageStatus.SENT)


def test_gives_up_after_the_maximum_number_of_attempts(app, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    refused, unreachable = queue(2)
    smtp.refuse("451 4.3.0 Try later")
    deliver_due(NOW)
    assert refused.status == unreachable.status == MessageStatus.QUEUED

    report = deliver_due(NOW + timedelta(minutes=1))

    assert report.failed == 2
    assert (refused.status, refused.attempts) == (MessageStatus.FAILED, 2)
    assert refused.last_error == "451 4.3.0 Try later"

    retry_message(unreachable, NOW)
    retry_message(refused, NOW)
    db.session.commit()
    smtp.stop()
    deliver_due(NOW)
    assert unreachable.status == MessageStatus.QUEUED
    report = deliver_due(NOW + timedelta(minutes=1))
    assert report.failed == 2
    assert (unreachable.status, unreachable.attempts) == (MessageStatus.FAILED, 2)
    assert "Could not reach the mail server" in unreachable.last_error


def test_without_mail_server_messages_stay_in_the_outbox(app):
    assert app.config["MAIL_SERVER"] == ""
    (message,) = queue()

    report = deliver_due(NOW)

    assert report.no_mail_server
    assert (report.sent, report.retried, report.failed) == (0, 0, 0)
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)


def test_request_delivery_sends_at_once_when_jobs_run_immediately(smtp):
    (message,) = queue(now=utcnow())

    request_delivery()

    assert received_ids(smtp) == Counter({message.message_id: 1})
    assert message.status == MessageStatus.SENT


def test_request_delivery_is_harmless_without_mail_server(app):
    (message,) = queue(now=utcnow())
    request_delivery()
    assert message.status == MessageStatus.QUEUED


def test_a_killed_worker_leaves_claimed_messages_to_others_and_flags_the_one_being_sent(smtp):
    messages = queue(4)
    claimed = claim_batch(NOW, 10, "worker-that-died")
    assert [message.id for message in claimed] == [message.id for message in messages]
    # It had marked the first message SENDING, then was killed before knowing the outcome.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == messages[0].id)
        .values(status=MessageStatus.SENDING, attempts=1)
    )
    db.session.commit()

    # Before the claim timeout, the messages are the dead worker's: nobody touches them.
    soon = NOW + timedelta(minutes=5)
    assert recover_stale(soon).requeued == 0
    assert deliver_due(soon).sent == 0
    assert smtp.messages == []

    later = NOW + timedelta(minutes=11)
    recovery = recover_stale(later)
    db.session.commit()
    assert (recovery.requeued, recovery.failed) == (3, 1)
    assert deliver_due(later).sent == 3

    assert received_ids(smtp) == Counter({message.message_id: 1 for message in messages[1:]})
    assert messages[0].status == MessageStatus.FAILED
    assert messages[0].last_error == WORKER_STOPPED
    assert deliver_due(later + timedelta(days=1)).sent == 0


def test_connection_lost_while_sending_flags_that_message_and_sends_the_others_once(smtp):
    messages = queue(4)

    class HangUpOnFirst(Recorder):
        """Takes the first message, then hangs up before saying so."""

        async def handle_DATA(self, server, session, envelope):
            if not self.envelopes:
                self.envelopes.append(envelope)
                server.transport.close()
                return "250 Message accepted for delivery"
            return await super().handle_DATA(server, session, envelope)

    smtp.stop()
    smtp.recorder = HangUpOnFirst()
    smtp.start()

    report = deliver_due(NOW)

    assert (report.sent, report.failed) == (3, 1)
    assert messages[0].status == MessageStatus.FAILED
    assert messages[0].last_error == OUTCOME_UNKNOWN
    assert [message.attempts for message in messages] == [1, 1, 1, 1]
    assert received_ids(smtp) == Counter({message.message_id: 1 for message in messages})
    assert deliver_due(NOW + timedelta(days=1)).sent == 0
    assert len(smtp.messages) == 4


def test_each_outcome_is_committed_with_the_next_sending_one_commit_a_message(smtp):
    queue(4)

    with committed_statuses() as commits:
        assert deliver_due(NOW).sent == 4

    # The claim, then each SENDING with the previous outcome, the last outcome alone, and the
    # claim that finds nothing more: never two messages whose outcome is unknown.
    assert commits == ["CCCC", "→CCC", "S→CC", "SS→C", "SSS→", "SSSS", "SSSS"]


def test_refusals_are_committed_with_the_next_sending(smtp):
    queue(3)

    class RefuseTwo(Recorder):
        async def handle_DATA(self, server, session, envelope):
            if "invitee0@example.org" in envelope.rcpt_tos:
                return "451 4.3.0 Try later"
            if "invitee1@example.org" in envelope.rcpt_tos:
                return "550 5.1.1 No such user"
            return await super().handle_DATA(server, session, envelope)

    smtp.stop()
    smtp.recorder = RefuseTwo()
    smtp.start()

    with committed_statuses() as commits:
        report = deliver_due(NOW)

    assert (report.sent, report.retried, report.failed) == (1, 1, 1)
    assert commits == ["CCC", "→CC", "Q→C", "QF→", "QFS", "QFS"]


def test_connection_lost_commits_the_unknown_outcome_with_the_release_of_the_rest(smtp):
    queue(3)

    class HangUpOnSecond(Recorder):
        async def handle_DATA(self, server, session, envelope):
            if "invitee1@example.org" in envelope.rcpt_tos:
                server.transport.close()
            return await super().handle_DATA(server, session, envelope)

    smtp.stop()
    smtp.recorder = HangUpOnSecond()
    smtp.start()

    with committed_statuses() as commits:
        report = deliver_due(NOW)

    assert (report.sent, report.failed) == (2, 1)
    # The third message went back to the queue, then left in a batch of its own.
    assert commits[:4] == ["CCC", "→CC", "S→C", "SFQ"]
    assert commits[-1] == "SFS"


def test_server_closing_after_a_421_reply_postpones_only_that_message(smtp):
    messages = queue(3)

    class CloseOnFirst(Recorder):
        async def handle_DATA(self, server, session, envelope):
            if "invitee0@example.org" in envelope.rcpt_tos:
                return "421 4.3.2 Closing, too busy"
            return await super().handle_DATA(server, session, envelope)

    smtp.stop()
    smtp.recorder = CloseOnFirst()
    smtp.start()

    report = deliver_due(NOW)

    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    assert (messages[0].status, messages[0].attempts) == (MessageStatus.QUEUED, 1)
    assert [message.status for message in messages[1:]] == [MessageStatus.SENT] * 2
    assert [message.attempts for message in messages[1:]] == [1, 1]


def test_retry_puts_a_failed_message_back_in_the_queue(smtp):
    (message,) = queue()
    smtp.refuse("550 5.1.1 No such user")
    deliver_due(NOW)
    smtp.refuse(None)

    retry_message(message, NOW + timedelta(hours=1))
    db.session.commit()

    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    assert message.next_attempt_at == NOW + timedelta(hours=1)
    assert deliver_due(NOW + timedelta(hours=1)).sent == 1
    assert received_ids(smtp) == Counter({message.message_id: 1})
    with pytest.raises(NotRetryable):
        retry_message(message, NOW)


def test_batches_share_nothing_but_each_message_is_sent_once(smtp):
    messages = queue(25)
    report = deliver_due(NOW, batch_size=7)
    assert report.sent == 25
    assert received_ids(smtp) == Counter({message.message_id: 1 for message in messages})


def test_every_minute_job_recovers_then_delivers(smtp):
    an_hour_ago = utcnow() - timedelta(hours=1)
    (message,) = queue(now=an_hour_ago)
    claim_batch(an_hour_ago, 10, "worker-that-died")

    deliver_outbox_every_minute()

    assert message.status == MessageStatus.SENT
    assert received_ids(smtp) == Counter({message.message_id: 1})


def test_a_claim_takes_at_most_the_batch_size_and_only_due_messages(app):
    messages = queue(30)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == messages[0].id)
        .values(next_attempt_at=NOW + timedelta(minutes=1))
    )
    db.session.commit()

    claimed = claim_batch(NOW, 10, "a-worker")

    assert [message.id for message in claimed] == [message.id for message in messages[1:11]]
    assert statuses().count(MessageStatus.CLAIMED) == 10
    assert claim_batch(NOW, 100, "another-worker")[0].id == messages[11].id
