"""The organiser's pages for a meeting's reminders: the schedule, adding, changing, deleting
and sending again a reminder, and the texts of the reminder and the follow-up."""

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.formatting import format_moment
from app.mail.preview import preview_frame
from app.meetings.access import managed_meeting_or_abort
from app.meetings.services import MeetingStateError, can_manage, zone_label
from app.models import Meeting, MeetingStatus, Reminder, ReminderAudience
from app.reminders import bp, sending, services
from app.reminders.forms import ConfirmForm, ReminderForm, ReminderTextForm

PREFIX = "/<int:meeting_id>/reminders"
# The page's own name of each e-mail, for its messages and the anchors of its sections.
TEXT_NAMES = {ReminderAudience.COMING: "reminder", ReminderAudience.UNANSWERED: "followup"}


def meeting_or_404(meeting_id: int) -> Meeting:
    return db.get_or_404(Meeting, meeting_id)


def reminder_or_404(meeting: Meeting, reminder_id: int) -> Reminder:
    reminder = db.get_or_404(Reminder, reminder_id)
    if reminder.meeting_id != meeting.id:
        abort(404)
    return reminder


def audience_or_404(value: str) -> ReminderAudience:
    try:
        return ReminderAudience(value)
    except ValueError:
        abort(404)


def now() -> datetime:
    return datetime.now(UTC)


def refuse(error: Exception, meeting: Meeting, endpoint: str = "reminders.schedule"):
    """An action the meeting's or the reminder's state forbids: undo, say why, go back."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for(endpoint, meeting_id=meeting.id))


def to_schedule(meeting: Meeting):
    return redirect(url_for("reminders.schedule", meeting_id=meeting.id))


def send_moment(reminder: Reminder) -> str:
    return format_moment(reminder.send_at, reminder.meeting.zone)


# The schedule


def render_schedule(meeting: Meeting, form: ReminderForm):
    moment = now()
    return render_template(
        "reminders/schedule.html",
        meeting=meeting,
        form=form,
        rows=services.reminder_overview(meeting, moment),
        status=meeting.status_at(moment),
        can_manage=can_manage(current_user, meeting),
        zone=zone_label(meeting.timezone),
    )


@bp.get(PREFIX)
def schedule(meeting_id: int):
    return render_schedule(meeting_or_404(meeting_id), ReminderForm())


@bp.post(PREFIX)
def add_reminder(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = ReminderForm()
    if form.validate_on_submit():
        try:
            reminder = services.add_reminder(meeting, form.to_data(), now())
        except MeetingStateError as error:
            return refuse(error, meeting)
        except services.InvalidReminder as error:
            form.show_problems(error.problems)
        else:
            db.session.commit()
            flash(
                _(
                    "The reminder is added: it goes out on %(moment)s.",
                    moment=send_moment(reminder),
                ),
                "success",
            )
            return to_schedule(meeting)
    return render_schedule(meeting, form)


@bp.route(f"{PREFIX}/<int:reminder_id>/edit", methods=["GET", "POST"])
def edit_reminder(meeting_id: int, reminder_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    reminder = reminder_or_404(meeting, reminder_id)
    try:
        services.check_editable(reminder)
    except MeetingStateError as error:
        return refuse(error, meeting)
    # Posted values take the place of the reminder's own.
    form = ReminderForm.for_reminder(reminder)
    if form.validate_on_submit():
        try:
            services.update_reminder(reminder, form.to_data(), now())
        except MeetingStateError as error:
            return refuse(error, meeting)
        except services.InvalidReminder as error:
            form.show_problems(error.problems)
        else:
            db.session.commit()
            flash(
                _(
                    "The reminder is changed: it goes out on %(moment)s.",
                    moment=send_moment(reminder),
                ),
                "success",
            )
            return to_schedule(meeting)
    return render_template("reminders/edit.html", meeting=meeting, reminder=reminder, form=form)


@bp.route(f"{PREFIX}/<int:reminder_id>/delete", methods=["GET", "POST"])
def delete_reminder(meeting_id: int, reminder_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    reminder = reminder_or_404(meeting, reminder_id)
    try:
        services.check_changeable(meeting)
    except MeetingStateError as error:
        return refuse(error, meeting)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete_reminder(reminder)
        db.session.commit()
        flash(_("The reminder is deleted."), "success")
        return to_schedule(meeting)
    return render_template(
        "reminders/delete.html",
        meeting=meeting,
        reminder=reminder,
        label=services.reminder_label(reminder),
        rounds=services.round_counts(meeting).get(reminder.id, ()),
        form=form,
    )


@bp.route(f"{PREFIX}/<int:reminder_id>/send-again", methods=["GET", "POST"])
def send_again(meeting_id: int, reminder_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    reminder = reminder_or_404(meeting, reminder_id)
    try:
        services.check_can_send_again(reminder, now())
    except MeetingStateError as error:
        return refuse(error, meeting)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.send_again(reminder, now())
        db.session.commit()
        flash(
            _("The reminder will go out again on %(moment)s.", moment=send_moment(reminder)),
            "success",
        )
        return to_schedule(meeting)
    return render_template(
        "reminders/send_again.html",
        meeting=meeting,
        reminder=reminder,
        label=services.reminder_label(reminder),
        form=form,
    )


# The texts


@bp.route(f"{PREFIX}/texts", methods=["GET", "POST"])
def texts(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    forms = {
        audience: ReminderTextForm.for_audience(audience, sending.reminder_text(meeting, audience))
        for audience in ReminderAudience
    }
    submitted = next((audience for audience, form in forms.items() if form.submitted_here), None)
    if submitted is not None and forms[submitted].validate():
        return save_text(meeting, submitted, forms[submitted])
    return render_template(
        "reminders/texts.html",
        meeting=meeting,
        forms=forms,
        names=TEXT_NAMES,
        previews={audience: sending.preview_reminder(meeting, audience) for audience in forms},
        waiting_preview=sending.preview_reminder(meeting, ReminderAudience.COMING, waiting=True),
        uses_default={
            audience: services.uses_default_text(meeting, audience) for audience in forms
        },
        cancelled=meeting.status is MeetingStatus.CANCELLED,
    )


def save_text(meeting: Meeting, audience: ReminderAudience, form: ReminderTextForm):
    restore = form.restore_default.data
    subject, message = ("", "") if restore else (form.subject.data, form.message.data)
    try:
        services.save_text(meeting, audience, subject, message)
    except MeetingStateError as error:
        return refuse(error, meeting, "reminders.texts")
    db.session.commit()
    messages = {
        (ReminderAudience.COMING, True): _("The reminder uses the default text again."),
        (ReminderAudience.COMING, False): _("The reminder text is saved. Check the preview."),
        (ReminderAudience.UNANSWERED, True): _("The follow-up uses the default text again."),
        (ReminderAudience.UNANSWERED, False): _("The follow-up text is saved. Check the preview."),
    }
    flash(messages[(audience, bool(restore))], "success")
    target = url_for("reminders.texts", meeting_id=meeting.id, _anchor=TEXT_NAMES[audience])
    return redirect(target)


@bp.get(f"{PREFIX}/texts/<audience>/preview")
def preview_text(meeting_id: int, audience: str):
    """The HTML part of the reminder or follow-up, shown in a frame of the texts page."""
    meeting = managed_meeting_or_abort(meeting_id)
    return preview_frame(sending.preview_reminder(meeting, audience_or_404(audience)).html)
