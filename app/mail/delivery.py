"""Delivering the outbox over SMTP: claim a batch, hand each message's stored bytes to the
server on one connection, record outcomes."""

import contextlib
import secrets
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.engine import Connection as DatabaseConnection

from app.extensions import db, mail
from app.mail.mime import compose, envelope_recipient, unsafe_header
from app.models import MessageStatus, OutboxMessage

# Minutes to wait after the 1st, 2nd… failed attempt; the last value repeats.
BACKOFF_MINUTES = (1, 5, 15, 60, 240, 480, 720)
# smtplib, as Flask-Mail opens it, has no timeout: a server that stops answering would hold
# the worker, and the messages it claimed, for ever.
SMTP_TIMEOUT_SECONDS = 60

# Reasons this module writes into last_error, in English like the SMTP replies stored there;
# the E-mails pages translate them (app/mail/labels.py).
OUTCOME_UNKNOWN = (
    "Connection lost while handing the message over: outcome unknown, check and retry."
)
WORKER_STOPPED = "Worker stopped while sending: outcome unknown, check and retry."

_OUTBOX = OutboxMessage.__table__
# The two statements every message costs, built once.
_MARK_SENDING = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("row_id"),
        _OUTBOX.c.claim_token == bindparam("token"),
        _OUTBOX.c.status == MessageStatus.CLAIMED,
    )
    .values(status=MessageStatus.SENDING, attempts=bindparam("new_attempts"))
)
# No condition on the status: if recover_stale flagged the message meanwhile, it left all the
# same, and saying so is the truth.
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.claim_token == bindparam("token"))
    .values(
        status=MessageStatus.SENT,
        sent_at=bindparam("now", type_=_OUTBOX.c.sent_at.type),
        last_error="",
    )
)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # No MAIL_SERVER: nothing was attempted, the messages wait in the outbox.
    no_mail_server: bool = False
    # The run stopped before the outbox was empty, so that claims stay fresh (see deliver_due).
    unfinished: bool = False

    def __add__(self, other: "DeliveryReport") -> "DeliveryReport":
        return DeliveryReport(
            sent=self.sent + other.sent,
            retried=self.retried + other.retried,
            failed=self.failed + other.failed,
        )


@dataclass(frozen=True)
class Recovery:
    requeued: int
    failed: int


class NotRetryable(Exception):
    """Only a failed message can be put back in the queue."""


@dataclass(frozen=True)
class Outgoing:
    """What sending needs from a claimed row, read once, or why it must not be sent."""

    id: int
    attempts: int
    recipient: str = ""
    mime: bytes = b""
    problem: str = ""


def backoff(attempts: int) -> timedelta:
    """The delay before the next try of a message that has failed `attempts` times."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


def request_delivery() -> None:
    """Ask a worker to deliver queued messages soon; call it after committing new messages.

    Tests run jobs at once: the messages are then delivered before this returns (or stay
    queued when MAIL_SERVER is empty)."""
    from app.jobs import deliver_outbox

    deliver_outbox()


def claim_batch(now: datetime, size: int, claim_token: str) -> list[Row]:
    """Take up to `size` due messages for this worker, in one statement, commit, and return
    them as rows of the outbox table (read-only, with the model's column names).

    PostgreSQL locks the chosen rows and skips those another worker is claiming; SQLite
    ignores FOR UPDATE and lets one writer at a time run the statement. The choice is a
    MATERIALIZED common table expression, run once: as a plain `IN (subquery)`, PostgreSQL may
    run the subquery again for every row it scans, and its LIMIT then no longer holds.
    """
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MessageStatus.QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(size)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(due.c.id)), OutboxMessage.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CLAIMED, claim_token=claim_token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # Rows rather than ORM objects, whose loading showed in the delivery's time. Read through a
    # connection of their own, so that no transaction stays open while the batch is sent.
    with db.engine.connect() as reader:
        return list(
            reader.execute(
                select(_OUTBOX)
                .where(
                    _OUTBOX.c.claim_token == claim_token,
                    _OUTBOX.c.status == MessageStatus.CLAIMED,
                )
                .order_by(_OUTBOX.c.id)
            )
        )


def deliver_due(now: datetime, batch_size: int | None = None) -> DeliveryReport:
    """Deliver every message due at `now`, batch after batch; commits as it goes (Ledger)."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return DeliveryReport(no_mail_server=True)
    size = batch_size or config["MAIL_BATCH_SIZE"]
    # Claims are stamped with `now`: a run longer than the claim timeout would claim messages
    # that other workers already see as abandoned. Stop at half of it; the caller runs again.
    deadline = time.monotonic() + config["MAIL_CLAIM_TIMEOUT_MINUTES"] * 30
    report = DeliveryReport()
    while True:
        token = secrets.token_hex(16)
        batch = claim_batch(now, size, token)
        if not batch:
            return report
        report += deliver_batch(batch, token, now)
        if time.monotonic() > deadline:
            return DeliveryReport(report.sent, report.retried, report.failed, unfinished=True)


class Ledger:
    """The status changes of one claim's messages, written through one database connection held
    for the batch (a commit through db.session would take a connection from the pool, reset it,
    and ping it first in production).

    A message's outcome is committed together with the next message's SENDING, and the last
    outcome alone: one commit a message, and a worker killed at any point leaves at most one
    message whose outcome is unknown, the one in SENDING. An outcome not yet committed when the
    worker dies is lost with it, and its message, still in SENDING, is that one.
    """

    def __init__(self, connection: DatabaseConnection, token: str) -> None:
        self.connection = connection
        self.token = token
        self.max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]

    def _record(self, statement, parameters: dict | None = None) -> int:
        """Run `statement` in the open transaction: the next commit makes it durable."""
        return self.connection.execute(statement, parameters or {}).rowcount

    def _change(self, item: Outgoing, expected: MessageStatus, **values) -> bool:
        statement = (
            update(_OUTBOX)
            .where(
                _OUTBOX.c.id == item.id,
                _OUTBOX.c.claim_token == self.token,
                _OUTBOX.c.status == expected,
            )
            .values(**values)
        )
        return self._record(statement) == 1

    def commit(self) -> None:
        """Make the recorded changes durable (nothing happens when none is pending)."""
        self.connection.commit()

    def sending(self, item: Outgoing) -> bool:
        """Mark the message as being handed over, and commit it with the previous message's
        outcome; False when this claim lost the message."""
        parameters = {"row_id": item.id, "token": self.token, "new_attempts": item.attempts + 1}
        changed = self._record(_MARK_SENDING, parameters)
        self.commit()
        return changed == 1

    def sent(self, item: Outgoing, now: datetime) -> None:
        self._record(_MARK_SENT, {"row_id": item.id, "token": self.token, "now": now})

    def fail(self, item: Outgoing, reason: str) -> None:
        self._change(item, MessageStatus.SENDING, status=MessageStatus.FAILED, last_error=reason)

    def refuse(self, item: Outgoing) -> bool:
        """Fail a claimed message that must not be sent, without attempting it."""
        return self._change(
            item, MessageStatus.CLAIMED, status=MessageStatus.FAILED, last_error=item.problem
        )

    def refused(self, item: Outgoing, reply: str, now: datetime) -> bool:
        """The server refused the message: True when a 4xx reply leaves it to a later try."""
        attempts = item.attempts + 1
        if reply.startswith("4") and attempts < self.max_attempts:
            self._change(
                item,
                MessageStatus.SENDING,
                status=MessageStatus.QUEUED,
                claim_token=None,
                last_error=reply,
                next_attempt_at=now + backoff(attempts),
            )
            return True
        self.fail(item, reply)
        return False

    def release(self) -> None:
        """Put back in the queue the messages not yet attempted, without counting a try, and
        commit with the last outcome."""
        self._record(
            update(_OUTBOX)
            .where(_OUTBOX.c.claim_token == self.token, _OUTBOX.c.status == MessageStatus.CLAIMED)
            .values(status=MessageStatus.QUEUED, claim_token=None, claimed_at=None)
        )
        self.commit()

    def postpone(self, outgoing: Sequence[Outgoing], now: datetime, error: str) -> DeliveryReport:
        """The server could not be reached: count a try for each message, all in one commit,
        and wait longer, or give up after MAIL_MAX_ATTEMPTS."""
        retried = failed = 0
        for item in outgoing:
            attempts = item.attempts + 1
            values = {"attempts": attempts, "last_error": error, "claim_token": None}
            if attempts >= self.max_attempts:
                values["status"] = MessageStatus.FAILED
                failed += 1
            else:
                values["status"] = MessageStatus.QUEUED
                values["next_attempt_at"] = now + backoff(attempts)
                retried += 1
            self._change(item, MessageStatus.CLAIMED, **values)
        self.commit()
        return DeliveryReport(retried=retried, failed=failed)


def deliver_batch(batch: Sequence[Row], token: str, now: datetime) -> DeliveryReport:
    """Send the messages claimed with `token` over one SMTP connection."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    outgoing = [prepare(message, sender) for message in batch]
    with db.engine.connect() as connection:
        ledger = Ledger(connection, token)
        failed = sum(ledger.refuse(item) for item in outgoing if item.problem)
        ledger.commit()
        sendable = [item for item in outgoing if not item.problem]
        if not sendable:
            return DeliveryReport(failed=failed)
        try:
            smtp = open_smtp()
        except (OSError, smtplib.SMTPException) as error:
            reason = f"Could not reach the mail server: {error}"
            return ledger.postpone(sendable, now, reason) + DeliveryReport(failed=failed)
        try:
            return send_on(smtp, sender, sendable, ledger, now) + DeliveryReport(failed=failed)
        finally:
            close_quietly(smtp)


def send_on(
    smtp: smtplib.SMTP, sender: str, outgoing: Sequence[Outgoing], ledger: Ledger, now: datetime
) -> DeliveryReport:
    """Hand each message to the server: its SENDING is committed first (with the previous
    message's outcome), its own outcome with the next message's SENDING, the last one alone."""
    sent = retried = failed = 0
    for item in outgoing:
        if smtp.sock is None:
            # The server closed the connection after a reply (421): nothing more goes over it.
            ledger.release()
            break
        if not ledger.sending(item):
            continue  # taken back by recover_stale while this batch waited
        try:
            smtp.sendmail(sender, [item.recipient], item.mime)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
            if ledger.refused(item, smtp_reply(error), now):
                retried += 1
            else:
                failed += 1
        except OSError:
            # SMTPServerDisconnected, a reset socket, a timeout: the server may have accepted
            # the message. Sending it again could invite someone twice; flag it instead.
            ledger.fail(item, OUTCOME_UNKNOWN)
            failed += 1
            ledger.release()
            break
        else:
            ledger.sent(item, now)
            sent += 1
    ledger.commit()
    return DeliveryReport(sent=sent, retried=retried, failed=failed)


def prepare(message: Row, sender: str) -> Outgoing:
    """What to hand to the server for a row, dated when it was queued, or the reason it must
    not be sent: queue_email cleans the fields, but a row may have been written without it,
    and the sender is a setting."""
    problem = unsafe_header(message, sender)
    if problem:
        return Outgoing(message.id, message.attempts, problem=problem)
    mime = compose(message, sender, message.created_at)
    return Outgoing(message.id, message.attempts, envelope_recipient(message), mime)


def smtp_reply(error: smtplib.SMTPException) -> str:
    """The server's reply, "451 4.3.0 Try later", from any refusal smtplib raises."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (0, b""))
    else:
        code, text = error.smtp_code, error.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def open_smtp() -> smtplib.SMTP:
    """One SMTP connection with the settings Flask-Mail read from the configuration
    (MAIL_SERVER, MAIL_PORT, MAIL_USE_SSL, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD).

    Not `with mail.connect()`: that would honour MAIL_SUPPRESS_SEND, which Flask-Mail turns on
    under TESTING (here an empty MAIL_SERVER alone keeps messages in the outbox), and its exit
    sends QUIT, which raises when the server has already hung up, hiding the error being
    handled.
    """
    smtp = mail.connect().configure_host()
    smtp.sock.settimeout(SMTP_TIMEOUT_SECONDS)
    return smtp


def close_quietly(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    smtp.close()


def recover_stale(now: datetime) -> Recovery:
    """Take back what a stopped worker held longer than MAIL_CLAIM_TIMEOUT_MINUTES: claimed
    messages were never attempted and go back to the queue; a message being sent may have
    left, so it is marked failed for a person to check. The caller commits."""
    timeout = timedelta(minutes=current_app.config["MAIL_CLAIM_TIMEOUT_MINUTES"])
    stale_before = now - timeout
    requeued = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.CLAIMED,
            OutboxMessage.claimed_at < stale_before,
        )
        .values(status=MessageStatus.QUEUED, claim_token=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    failed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.SENDING,
            OutboxMessage.claimed_at < stale_before,
        )
        .values(status=MessageStatus.FAILED, last_error=WORKER_STOPPED)
        .execution_options(synchronize_session=False)
    ).rowcount
    return Recovery(requeued=requeued, failed=failed)


def retry_message(message: OutboxMessage, now: datetime) -> None:
    """Put a failed message back in the queue, due now, with a fresh count of attempts. The
    caller commits, then calls request_delivery()."""
    if message.status != MessageStatus.FAILED:
        raise NotRetryable(message.status)
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    message.claim_token = None
    message.claimed_at = None
    db.session.flush()
