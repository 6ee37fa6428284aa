"""The administrators' E-mails pages: the outbox, each message as sent, and retrying failures."""

import re

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.auth.access import admin_required
from app.extensions import db
from app.mail import bp, delivery, services
from app.mail.forms import MessageFilterForm
from app.mail.labels import STATUS_LABELS, error_label, status_label
from app.models import MessageStatus, OutboxMessage
from app.sqltypes import utcnow

# The stored HTML is shown as its own document, with nothing that could run or call out: no
# script, no remote image (a tracking pixel would tell the sender it was read), no form.
HTML_PART_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
# Matched in escaped text: "&" is only allowed as "&amp;", so a link stops at "&lt;", "&#34;"…
_LINK = re.compile(r"https?://(?:[^\s&<>\"'«»]|&amp;)+")
_TRAILING_PUNCTUATION = ".,;:!?)]"


def linkify(text: str) -> Markup:
    """`text` escaped, then its http and https addresses made into links."""

    def link(match: re.Match) -> str:
        url = trimmed = match.group()
        while trimmed[-1] in _TRAILING_PUNCTUATION and not trimmed.endswith("&amp;"):
            trimmed = trimmed[:-1]
        return f'<a href="{trimmed}" rel="noreferrer">{trimmed}</a>{url[len(trimmed) :]}'

    return Markup(_LINK.sub(link, str(escape(text or ""))))


bp.add_app_template_filter(linkify, "linkify")
bp.add_app_template_filter(status_label, "message_status")
bp.add_app_template_filter(error_label, "delivery_error")


@bp.get("/")
@admin_required
def list_messages():
    form = MessageFilterForm(request.args)
    filters = form.filters()
    page = db.paginate(
        services.message_list_query(filters), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "mail/list.html",
        form=form,
        filters=filters,
        page=page,
        counts=services.status_counts(),
        status_labels=STATUS_LABELS,
        mail_server=current_app.config["MAIL_SERVER"],
    )


@bp.get("/<int:message_id>")
@admin_required
def show_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "mail/show.html",
        message=message,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        failed=message.status == MessageStatus.FAILED,
    )


@bp.get("/<int:message_id>/html")
@admin_required
def message_html(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    response = Response(message.html_body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/<int:message_id>/retry")
@admin_required
def retry_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    try:
        delivery.retry_message(message, utcnow())
    except delivery.NotRetryable:
        flash(_("Only a failed message can be sent again."), "error")
    else:
        db.session.commit()
        delivery.request_delivery()
        flash(_("The message is back in the queue and will be sent again."), "success")
    return redirect(url_for("mail.show_message", message_id=message_id))
