"""An outbox message as the bytes handed to the SMTP server, composed once when it is queued;
and the checks that keep its headers from adding headers or recipients."""

import io
import re
import secrets
from datetime import datetime
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.mime.text import MIMEText
from email.policy import Compat32

from flask_mail import Message

from app.models import OutboxMessage

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]\\@]+@[^\s<>,;:\"()\[\]\\@]+")
_CALENDAR_METHOD = re.compile(r"[A-Z-]{1,16}")


class _AsEncoded(Compat32):
    """Writes headers as Flask-Mail encoded them (RFC 2047 words, already folded), lines ended
    with CRLF. Flask-Mail writes under policy.SMTP, which parses every header again and folds
    it anew (splitting "Plateau" into "Pla teau" in a long name); this was also the largest
    cost of each message. A header that is not plain ASCII is folded the usual way."""

    def _fold(self, name: str, value, sanitize: bool) -> str:
        if not isinstance(value, str) or not value.isascii():
            return super()._fold(name, value, sanitize)
        return f"{name}: {self.linesep.join(value.splitlines())}{self.linesep}"


_AS_ENCODED = _AsEncoded(linesep="\r\n")


class OutboxEmail(Message):
    """Flask-Mail's message, with its text and HTML parts in quoted-printable.

    Flask-Mail registers UTF-8 without a body encoding, so parts would go out as 8-bit lines of
    any length; SMTP servers refuse lines over 998 bytes (RFC 5321), which one line of an HTML
    template can exceed. Quoted-printable wraps them and keeps the message 7-bit.

    Flask-Mail rather than the standard library's EmailMessage under policy.SMTP: measured on
    an invitation, EmailMessage took three times as long (2.7 ms against 1.0 ms, 4 ms with the
    calendar), a cost now paid for each invitee while an organiser's page waits.
    """

    def _mimetext(self, text: str | None, subtype: str = "plain") -> MIMEText:
        charset = Charset("utf-8")
        charset.body_encoding = QP
        return MIMEText(text or "", subtype, charset)

    def as_bytes(self) -> bytes:
        message = self._message()
        for part in message.walk():
            if part.is_multipart():
                # "=_" never occurs in quoted-printable or base64 text, so the boundary needs
                # no search through the parts (the generator compiles a regex for each).
                part.set_boundary(f"=_{secrets.token_hex(16)}")
        output = io.BytesIO()
        BytesGenerator(output, mangle_from_=False, policy=_AS_ENCODED).flatten(message)
        return output.getvalue()


def unsafe_header(message: OutboxMessage, sender: str) -> str:
    """Why this row's header fields, or the sender, could add headers or recipients, or could
    not be written, or "" when they are safe.

    queue_email already cleans the row's fields; this guards rows written any other way.
    """
    fields = {
        "From": sender,
        "To": message.to_name,
        "Reply-To": message.reply_to_name,
        "Subject": message.subject,
        "Message-ID": message.message_id,
    }
    addresses = {"To": message.to_address, "Reply-To": message.reply_to_address}
    for name, value in fields.items():
        if _CONTROL.search(value or ""):
            return f"Unsafe {name} header (line break or control character): not sent."
    for name, value in addresses.items():
        if value and not _ADDRESS.fullmatch(value):
            return f"Unsafe {name} address {value!r}: not sent."
        if value and not _ascii_address(value):
            return (
                f"{name} address {value!r} is not ASCII before the @, which needs a server "
                "accepting SMTPUTF8: not sent."
            )
    if message.calendar and not _CALENDAR_METHOD.fullmatch(message.calendar_method or "PUBLISH"):
        return f"Unsafe calendar method {message.calendar_method!r}: not sent."
    return ""


def _ascii_address(address: str) -> str:
    """`address` with its domain in IDNA ("café.fr" as "xn--caf-dma.fr"), or "" when that is
    not enough to make it ASCII."""
    if address.isascii():
        return address
    local_part, _, domain = address.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    return f"{local_part}@{domain}" if local_part.isascii() else ""


def envelope_recipient(message: OutboxMessage) -> str:
    """The address given to the server in RCPT TO; for a row that unsafe_header accepts."""
    return _ascii_address(message.to_address)


def compose(message: OutboxMessage, sender: str, date: datetime) -> bytes:
    """The message as sent, for a row that unsafe_header accepts: plain text and HTML
    alternatives, the calendar attached, the stored Message-ID, dated `date`."""
    reply_to = None
    if message.reply_to_address:
        reply_to = (message.reply_to_name, message.reply_to_address)
    email = OutboxEmail(
        subject=message.subject,
        recipients=[(message.to_name, message.to_address)],
        body=message.text_body,
        html=message.html_body,
        sender=sender,
        reply_to=reply_to,
        date=date.timestamp(),
    )
    # Fixed when queued: a retried message keeps its identity, and duplicates can be spotted.
    email.msgId = message.message_id
    if message.calendar:
        method = message.calendar_method or "PUBLISH"
        email.attach(
            "invitation.ics",
            f"text/calendar; method={method}; charset=UTF-8",
            message.calendar.encode("utf-8"),
        )
    return email.as_bytes()
