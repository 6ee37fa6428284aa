"""`flask outbox send / retry / list`: delivering now, re-queueing a failure, reading the queue."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.mail.delivery import claim_batch
from app.mail.outbox import RenderedEmail, queue_email
from app.models import MessageStatus, OutboxMessage
from app.sqltypes import utcnow


@pytest.fixture(autouse=True)
def english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def queue(to: str = "zoe@example.org", subject: str = "Invitation", when=None) -> OutboxMessage:
    email = RenderedEmail(subject=subject, text="Bonjour", html="<p>Bonjour</p>")
    message = queue_email("invitation", to, email, when or utcnow())
    db.session.commit()
    return message


def set_status(message: OutboxMessage, status: MessageStatus, **values) -> None:
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id).values(status=status, **values)
    )
    db.session.commit()


def test_send_delivers_what_is_due_and_counts_it(runner, smtp):
    first, second = queue(), queue(to="marc@example.org")

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert "Sent: 2. To retry later: 0. Failed: 0." in result.output
    assert sorted(smtp.recipients) == ["marc@example.org", "zoe@example.org"]
    db.session.expire_all()
    assert first.status == second.status == MessageStatus.SENT

    again = runner.invoke(args=["outbox", "send"])
    assert "Sent: 0." in again.output
    assert len(smtp.messages) == 2


def test_send_takes_back_messages_of_a_stopped_worker(runner, smtp):
    an_hour_ago = utcnow() - timedelta(hours=1)
    message = queue(when=an_hour_ago)
    claim_batch(an_hour_ago, 10, "worker-that-died")

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert "1 queued again" in result.output
    assert "Sent: 1." in result.output
    db.session.expire_all()
    assert message.status == MessageStatus.SENT


def test_send_reports_messages_put_off_when_the_server_is_down(runner, smtp):
    message = queue()
    smtp.stop()

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert "To retry later: 1." in result.output
    db.session.expire_all()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)


def test_send_without_mail_server_says_messages_stay(runner):
    message = queue()

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 1
    assert "No mail server is configured" in result.output
    db.session.expire_all()
    assert message.status == MessageStatus.QUEUED


def test_retry_puts_a_failed_message_back_in_the_queue(runner):
    message = queue()
    set_status(message, MessageStatus.FAILED, attempts=8, last_error="550 5.1.1 No such user")

    result = runner.invoke(args=["outbox", "retry", str(message.id)])

    assert result.exit_code == 0, result.output
    assert f"Message {message.id} is back in the queue." in result.output
    db.session.expire_all()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)


def test_retry_sends_at_once_when_a_server_is_configured(runner, smtp):
    message = queue()
    set_status(message, MessageStatus.FAILED, attempts=8)

    assert runner.invoke(args=["outbox", "retry", str(message.id)]).exit_code == 0

    assert smtp.recipients == ["zoe@example.org"]


def test_retry_refuses_an_unknown_number(runner):
    result = runner.invoke(args=["outbox", "retry", "4242"])
    assert result.exit_code == 1
    assert "No message has the number 4242." in result.output


def test_retry_refuses_a_message_that_has_not_failed(runner):
    message = queue()
    set_status(message, MessageStatus.SENT, attempts=1)

    result = runner.invoke(args=["outbox", "retry", str(message.id)])

    assert result.exit_code == 1
    assert f"Message {message.id} is not failed (Sent)" in result.output
    db.session.expire_all()
    assert message.status == MessageStatus.SENT


def test_list_shows_the_latest_messages_and_filters_by_status(runner):
    waiting = queue(subject="Still waiting")
    failed = queue(to="marc@example.org", subject="Went wrong")
    set_status(failed, MessageStatus.FAILED, last_error="550 5.1.1 No such user")

    everything = runner.invoke(args=["outbox", "list"])
    only_failed = runner.invoke(args=["outbox", "list", "--status", "failed"])

    assert everything.exit_code == 0, everything.output
    assert "Still waiting" in everything.output and "Went wrong" in everything.output
    assert "Still waiting" not in only_failed.output
    assert f"{failed.id}" in only_failed.output
    assert "marc@example.org" in only_failed.output
    assert "550 5.1.1 No such user" in only_failed.output
    assert waiting.subject in everything.output
    assert runner.invoke(args=["outbox", "list", "--status", "sent"]).output == "No message.\n"
    assert runner.invoke(args=["outbox", "list", "--status", "lost"]).exit_code == 2
