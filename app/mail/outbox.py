"""Writing e-mails into the outbox: render a template pair, then queue it, composed as it will
be sent, in the caller's transaction. Delivery is app/mail/delivery.py's job alone."""

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from app.extensions import db
from app.mail.mime import compose, unsafe_header
from app.models import Invitation, Meeting, OutboxMessage

# Carriage returns, line feeds and other control characters: never allowed in a header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def header_text(value: str, limit: int = 300) -> str:
    """`value` made safe for a header: control characters (header injection) become spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def render_email(name: str, locale: str | None = None, **context) -> RenderedEmail:
    """Render templates/email/<name>.txt and .html; the subject is the .txt's `subject` block."""
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        template = current_app.jinja_env.get_template(f"email/{name}.txt")
        full_context = dict(context)
        current_app.update_template_context(full_context)
        subject = "".join(template.blocks["subject"](template.new_context(full_context)))
        return RenderedEmail(
            subject=header_text(subject),
            text=render_template(f"email/{name}.txt", **context),
            html=render_template(f"email/{name}.html", **context),
        )


def queue_email(
    kind: str,
    to_address: str,
    email: RenderedEmail,
    now: datetime,
    *,
    to_name: str = "",
    reply_to: tuple[str, str] | None = None,
    calendar: str | None = None,
    calendar_method: str = "",
    meeting: Meeting | None = None,
    invitation: Invitation | None = None,
) -> OutboxMessage:
    """Add a message to the outbox, with the bytes the worker will hand to the SMTP server,
    dated `now`, in the caller's transaction (it commits).

    A message whose headers are unsafe keeps no bytes: delivery fails it, saying why."""
    if _CONTROL.search(to_address) or "," in to_address or "@" not in to_address:
        raise ValueError(f"not a single e-mail address: {to_address!r}")
    reply_address, reply_name = reply_to or ("", "")
    if _CONTROL.search(reply_address):
        reply_address = ""
    message = OutboxMessage(
        kind=kind,
        to_address=to_address,
        to_name=header_text(to_name, 200),
        reply_to_address=reply_address,
        reply_to_name=header_text(reply_name, 200),
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        calendar=calendar,
        calendar_method=calendar_method,
        message_id=make_msgid(domain=urlsplit(current_app.config["BASE_URL"]).hostname),
        created_at=now,
        next_attempt_at=now,
        meeting=meeting,
        invitation=invitation,
    )
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if not unsafe_header(message, sender):
        message.mime = compose(message, sender, now)
    db.session.add(message)
    return message
