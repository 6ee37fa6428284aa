"""The organisers' pages of the messages written to a meeting's invitees: the history, writing
a message with its preview, and one message with its recipients."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.extensions import db
from app.invitations.routes import (
    acting_user,
    mail_is_configured,
    managed_meeting_or_abort,
    meeting_or_404,
    now,
)
from app.invitations.services import EMAIL_STATE_LABELS, email_state, paginate_rows
from app.mail.delivery import request_delivery
from app.meetings.services import MeetingStateError, can_manage
from app.models import Meeting, MeetingMessage
from app.reminders import bp, messages
from app.reminders.message_forms import MessageForm

PREFIX = "/<int:meeting_id>/messages"


@bp.app_template_global()
def can_write_to_invitees(meeting: Meeting) -> bool:
    """Whether to offer the current user to write to the meeting's invitees (the meeting page
    asks, whatever the other actions the meeting's state leaves)."""
    return can_manage(current_user, meeting) and writing_problem(meeting) is None


# The meeting page, another blueprint's, lists messages too.
bp.add_app_template_filter(messages.segment_label, "segment_label")


@bp.context_processor
def email_state_labels() -> dict:
    return {"email_state_labels": EMAIL_STATE_LABELS, "email_state": email_state}


def writing_problem(meeting: Meeting) -> str | None:
    """Why nobody can be written to for this meeting now (a draft), or None."""
    try:
        messages.check_can_write(meeting, now())
    except MeetingStateError as error:
        return str(error)
    return None


def message_or_404(meeting: Meeting, message_id: int) -> MeetingMessage:
    message = db.get_or_404(MeetingMessage, message_id)
    if message.meeting_id != meeting.id:
        abort(404)
    return message


@bp.get(PREFIX, endpoint="messages")
def message_history(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    page = paginate_rows(
        messages.message_history_query(meeting), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "reminders/messages.html",
        meeting=meeting,
        page=page,
        can_write=can_write_to_invitees(meeting),
    )


@bp.route(f"{PREFIX}/new", methods=["GET", "POST"])
def new_message(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = MessageForm(
        counts=messages.segment_counts(meeting), segment=request.args.get("segment", "all")
    )
    problem = writing_problem(meeting)
    if problem is None and not form.edit.data and form.validate_on_submit():
        if form.send.data:
            return send(meeting, form)
        return preview(meeting, form)
    return compose(meeting, form, problem)


def compose(meeting: Meeting, form: MessageForm, problem: str | None = None):
    return render_template(
        "reminders/message_form.html", meeting=meeting, form=form, problem=problem
    )


def preview(meeting: Meeting, form: MessageForm):
    draft = form.draft()
    try:
        email, count = messages.preview_message(meeting, draft.segment, draft.subject, draft.body)
    except messages.InvalidMessage as error:
        form.show_problems(error.problems)
        return compose(meeting, form)
    form.sent_after.data = str(messages.latest_message_id(meeting))
    return render_template(
        "reminders/message_form.html",
        meeting=meeting,
        form=form,
        preview=email,
        count=count,
        segment=draft.segment,
        mail_configured=mail_is_configured(),
    )


def send(meeting: Meeting, form: MessageForm):
    draft = form.draft()
    try:
        message = messages.send_message(
            meeting,
            draft.segment,
            draft.subject,
            draft.body,
            acting_user(),
            now(),
            sent_after=form.sent_after_id(),
        )
    except messages.AlreadySent as error:
        db.session.rollback()
        flash(_("This message has already been sent."), "info")
        return to_message(meeting, error.message_id)
    except messages.InvalidMessage as error:
        db.session.rollback()
        form.show_problems(error.problems)
        return compose(meeting, form)
    except MeetingStateError as error:
        db.session.rollback()
        return compose(meeting, form, str(error))
    count = message.recipient_count
    db.session.commit()
    request_delivery()
    flash(
        ngettext(
            "Your message is being sent to %(num)s person.",
            "Your message is being sent to %(num)s people.",
            count,
        ),
        "success",
    )
    return to_message(meeting, message.id)


def to_message(meeting: Meeting, message_id: int):
    return redirect(url_for("reminders.show_message", meeting_id=meeting.id, message_id=message_id))


@bp.get(f"{PREFIX}/<int:message_id>")
def show_message(meeting_id: int, message_id: int):
    meeting = meeting_or_404(meeting_id)
    message = message_or_404(meeting, message_id)
    page = paginate_rows(
        messages.message_recipients(message), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "reminders/message_show.html",
        meeting=meeting,
        message=message,
        delivery=messages.message_delivery(message),
        page=page,
        mail_configured=mail_is_configured(),
    )
