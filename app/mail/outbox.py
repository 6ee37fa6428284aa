"""Writing e-mails into the outbox: render a template pair, then queue it in the caller's
transaction. Delivery, composing and sending, is app/mail/delivery.py's job alone."""

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Invitation, Meeting, MessageStatus, OutboxMessage

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


def outbox_row(
    kind: str,
    to_address: str,
    email: RenderedEmail,
    now: datetime,
    *,
    to_name: str = "",
    reply_to: tuple[str, str] | None = None,
    calendar: str | None = None,
    calendar_method: str = "",
    meeting_id: int | None = None,
    invitation_id: int | None = None,
) -> dict[str, Any]:
    """The outbox columns of a message queued at `now`. The worker composes it from them
    (app/mail/mime.py), dated `now`, and fails a message whose headers are unsafe, saying
    why."""
    if _CONTROL.search(to_address) or "," in to_address or "@" not in to_address:
        raise ValueError(f"not a single e-mail address: {to_address!r}")
    reply_address, reply_name = reply_to or ("", "")
    if _CONTROL.search(reply_address):
        reply_address = ""
    return {
        "kind": kind,
        "status": MessageStatus.QUEUED,
        "to_address": to_address,
        "to_name": header_text(to_name, 200),
        "reply_to_address": reply_address,
        "reply_to_name": header_text(reply_name, 200),
        "subject": email.subject,
        "text_body": email.text,
        "html_body": email.html,
        "calendar": calendar,
        "calendar_method": calendar_method,
        "message_id": make_msgid(domain=urlsplit(current_app.config["BASE_URL"]).hostname),
        "created_at": now,
        "next_attempt_at": now,
        "meeting_id": meeting_id,
        "invitation_id": invitation_id,
    }


def queue_email(
    kind: str,
    to_address: str,
    email: RenderedEmail,
    now: datetime,
    *,
    meeting: Meeting | None = None,
    invitation: Invitation | None = None,
    **options,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (it commits); `options` are
    outbox_row's. `meeting` and `invitation` may be new, not yet flushed."""
    message = OutboxMessage(**outbox_row(kind, to_address, email, now, **options))
    message.meeting, message.invitation = meeting, invitation
    db.session.add(message)
    return message


def queue_emails(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Add the messages of outbox_row to the outbox in one statement (the caller commits):
    a job queueing a reminder for each invitee of a meeting does not pay a statement per
    e-mail. Returns their ids by Message-ID."""
    if not rows:
        return {}
    db.session.execute(insert(OutboxMessage), rows)
    found = db.session.execute(
        select(OutboxMessage.message_id, OutboxMessage.id).where(
            OutboxMessage.message_id.in_([row["message_id"] for row in rows])
        )
    )
    return dict(found.all())
