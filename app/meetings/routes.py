"""Meeting pages: the list, the detail page, the form, and publishing, cancelling, deleting."""

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.attendance import services as attendance
from app.extensions import db
from app.invitations import services as invitations
from app.mail.delivery import request_delivery
from app.meetings import bp, services
from app.meetings.access import acting_user, managed_meeting_or_abort
from app.meetings.forms import CancelMeetingForm, MeetingFilterForm, MeetingForm
from app.models import Meeting
from app.questions import services as question_services
from app.reminders import messages as meeting_messages
from app.reminders import services as reminders


@bp.context_processor
def meeting_labels() -> dict:
    return {
        "status_labels": services.STATUS_LABELS,
        "zone_label": services.zone_label,
        "default_time_zone": services.DEFAULT_TIME_ZONE,
    }


@bp.errorhandler(services.MeetingStateError)
def refuse_in_this_state(error: services.MeetingStateError):
    """An action the meeting's state forbids (editing a cancelled meeting...): say so, go back."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("meetings.show_meeting", meeting_id=request.view_args["meeting_id"]))


def to_meeting(meeting: Meeting):
    return redirect(url_for("meetings.show_meeting", meeting_id=meeting.id))


@bp.get("/")
def list_meetings():
    now = datetime.now(UTC)
    form = MeetingFilterForm(formdata=request.args)
    criteria = form.criteria()
    query = services.meeting_list_query(current_user.id, now, **criteria)
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "meetings/list.html", form=form, page=page, period=criteria["period"], now=now
    )


@bp.route("/new", methods=["GET", "POST"])
def new_meeting():
    form = MeetingForm.for_new_meeting(current_user)
    if form.validate_on_submit():
        meeting = services.create_meeting(acting_user(), form.to_data(), datetime.now(UTC))
        db.session.commit()
        flash(_("The meeting is saved as a draft. Publish it when it is ready."), "success")
        return to_meeting(meeting)
    return render_template("meetings/form.html", form=form, meeting=None)


@bp.get("/<int:meeting_id>")
def show_meeting(meeting_id: int):
    meeting = db.get_or_404(Meeting, meeting_id)
    now = datetime.now(UTC)
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        status=meeting.status_at(now),
        actions=services.allowed_actions(current_user, meeting, now),
        invitation_counts=invitations.answer_counts(meeting),
        delivery=invitations.delivery_progress(meeting),
        reminders=reminders.reminder_overview(meeting, now),
        messages=meeting_messages.message_history(meeting, limit=5),
        attendance=attendance.attendance_summary(meeting, now),
        question_counts=question_services.choice_counts(meeting),
    )


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
def edit_meeting(meeting_id: int):
    # Imported here: the series package imports the meetings' services.
    from app.series import services as series

    meeting = managed_meeting_or_abort(meeting_id)
    services.check_editable(meeting)
    form = MeetingForm.for_meeting(meeting)
    following = series.following_occurrences(meeting, datetime.now(UTC))
    if form.validate_on_submit():
        now = datetime.now(UTC)
        before = {each.id: services.time_and_place(each) for each in [meeting, *following]}
        changed = [meeting]
        if form.apply_to_following.data and following:
            changed = series.update_following(meeting, form.to_data(), acting_user(), now)
        else:
            services.update_meeting(meeting, form.to_data(), acting_user(), now)
        db.session.commit()
        # A larger capacity may have given places to people waiting, who are told by e-mail.
        request_delivery()
        flash(_("The meeting is updated."), "success")
        if len(changed) > 1:
            flash(
                ngettext(
                    "%(num)s following meeting of the series is updated too.",
                    "%(num)s following meetings of the series are updated too.",
                    len(changed) - 1,
                ),
                "success",
            )
        changes = invitations.time_or_place_changed(
            before[meeting.id], services.time_and_place(meeting)
        )
        # The following meetings whose date, time or place changed too: their invitees are
        # offered the same news on the same page.
        others = [
            each.id
            for each in changed[1:]
            if invitations.time_or_place_changed(before[each.id], services.time_and_place(each))
        ]
        if (changes or others) and invitations.can_notify_change(meeting, now):
            return redirect(
                url_for(
                    "invitations.notify_change",
                    meeting_id=meeting.id,
                    changed=sorted(changes),
                    following=others,
                )
            )
        return to_meeting(meeting)
    return render_template("meetings/form.html", form=form, meeting=meeting, following=following)


@bp.post("/<int:meeting_id>/publish")
def publish_meeting(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    services.publish_meeting(meeting, datetime.now(UTC))
    db.session.commit()
    flash(_("The meeting is published."), "success")
    return to_meeting(meeting)


@bp.route("/<int:meeting_id>/cancel", methods=["GET", "POST"])
def cancel_meeting(meeting_id: int):
    from app.series import services as series

    meeting = managed_meeting_or_abort(meeting_id)
    now = datetime.now(UTC)
    services.check_cancellable(meeting, now)
    recipients = invitations.count_notified(meeting)
    following = series.following_occurrences(meeting, now)
    form = CancelMeetingForm()
    if not form.is_submitted():
        form.notify.data = recipients > 0
    if form.validate_on_submit():
        if form.cancel_following.data and following:
            cancelled = series.cancel_following(meeting, form.reason.data, now)
        else:
            cancelled = [services.cancel_meeting(meeting, form.reason.data, now)]
        notified = 0
        if form.notify.data:
            notified = sum(
                invitations.notify_cancellation(each, acting_user(), now) for each in cancelled
            )
        db.session.commit()
        if len(cancelled) > 1:
            flash(
                ngettext(
                    "%(num)s following meeting of the series is cancelled too.",
                    "%(num)s following meetings of the series are cancelled too.",
                    len(cancelled) - 1,
                ),
                "success",
            )
        if notified:
            request_delivery()
            flash(
                ngettext(
                    "The meeting is cancelled; %(num)s person is being told by e-mail.",
                    "The meeting is cancelled; %(num)s people are being told by e-mail.",
                    notified,
                ),
                "success",
            )
        else:
            flash(_("The meeting is cancelled."), "success")
        return to_meeting(meeting)
    return render_template(
        "meetings/cancel.html",
        form=form,
        meeting=meeting,
        recipients=recipients,
        following=following,
    )


@bp.route("/<int:meeting_id>/delete", methods=["GET", "POST"])
def delete_meeting(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    services.check_deletable(meeting)
    if request.method == "POST":
        title = meeting.title
        services.delete_draft(meeting)
        db.session.commit()
        flash(_("The draft “%(title)s” is deleted.", title=title), "success")
        return redirect(url_for("meetings.list_meetings"))
    return render_template("meetings/delete.html", meeting=meeting)
