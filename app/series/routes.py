"""Series pages: making a series of meetings from one meeting, with a preview of its dates,
and inviting people to all its meetings still to come at once."""

from datetime import UTC, datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.invitations.forms import ConfirmForm, InvitationTextForm
from app.invitations.routes import mail_is_configured
from app.mail.delivery import request_delivery
from app.mail.preview import preview_frame
from app.meetings.access import acting_user, managed_meeting_or_abort
from app.meetings.services import InvalidMeetingData, MeetingStateError, can_manage
from app.models import Meeting, Series
from app.series import bp, services
from app.series.forms import SeriesForm


@bp.route("/new/<int:meeting_id>", methods=["GET", "POST"])
def new_series(meeting_id: int):
    """The first press of the button previews the dates; "create" makes the meetings."""
    meeting = managed_meeting_or_abort(meeting_id)
    form = SeriesForm.for_meeting(meeting.local_starts_at.date())
    preview = None
    if form.validate_on_submit():
        data = form.to_data()
        try:
            dates = services.series_dates(data)
            if "create" in request.form:
                series = services.create_series(meeting, data, acting_user(), datetime.now(UTC))
                db.session.commit()
                flash(
                    ngettext(
                        "The series has %(num)s meeting.",
                        "The series has %(num)s meetings.",
                        len(series.meetings),
                    ),
                    "success",
                )
                return redirect(url_for("meetings.show_meeting", meeting_id=meeting.id))
            # Noon of each day, in the meeting's zone, for the date formatting filters.
            preview = [datetime.combine(day, time(12), tzinfo=meeting.zone) for day in dates]
        except (services.InvalidSeries, InvalidMeetingData) as error:
            db.session.rollback()
            for name, message in error.problems.items():
                target = form._fields.get(name, form.start_date)
                target.errors = [*target.errors, message]
    return render_template("series/new.html", form=form, meeting=meeting, preview=preview)


def managed_series_or_abort(series_id: int, now: datetime) -> Series:
    """The series, if the current user organises its first meeting still to come (its last
    meeting once all are past): 404 when missing, 403 when not theirs."""
    series = db.get_or_404(Series, series_id)
    upcoming = services.upcoming_meetings(series, now)
    reference = (
        upcoming[0]
        if upcoming
        else db.session.scalar(
            select(Meeting)
            .where(Meeting.series_id == series.id)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(1)
        )
    )
    if reference is None or not can_manage(current_user, reference):
        abort(403)
    return series


@bp.route("/<int:series_id>/invite", methods=["GET", "POST"])
def invite_series(series_id: int):
    """The counts first; the button invites everyone to every published date and sends one
    e-mail per person."""
    now = datetime.now(UTC)
    series = managed_series_or_abort(series_id, now)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            report = services.invite_series(series, acting_user(), now)
        except MeetingStateError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("series.invite_series", series_id=series.id))
        db.session.commit()
        request_delivery()
        if report.emails:
            flash(
                ngettext(
                    "%(num)s invitation to the series is being sent.",
                    "%(num)s invitations to the series are being sent.",
                    report.emails,
                ),
                "success",
            )
        else:
            flash(_("Everyone has already received the invitation to every date."), "info")
        return redirect(url_for("series.invite_series", series_id=series.id))
    return render_invite_page(series, now, form, InvitationTextForm())


def render_invite_page(series: Series, now: datetime, form, text_form):
    """The invite page: the counts, the e-mail's text with its preview, the send button."""
    plan = services.series_invitation_plan(series, now)
    preview = None
    if plan.meetings:
        preview = services.preview_series_invitation(series, plan.meetings)
    if not text_form.is_submitted():
        text_form.subject.data, text_form.message.data = services.series_invitation_text(
            series, len(plan.meetings)
        )
    return render_template(
        "series/invite.html",
        series=series,
        plan=plan,
        form=form,
        text_form=text_form,
        preview=preview,
        uses_default=not (series.invitation_subject or series.invitation_message),
        mail_configured=mail_is_configured(),
    )


@bp.post("/<int:series_id>/invite/message")
def edit_series_message(series_id: int):
    """Save the subject and opening text of the series e-mail, or go back to the default."""
    now = datetime.now(UTC)
    series = managed_series_or_abort(series_id, now)
    text_form = InvitationTextForm()
    if not text_form.validate_on_submit():
        return render_invite_page(series, now, ConfirmForm(), text_form), 400
    subject, message = text_form.subject.data, text_form.message.data
    if text_form.restore_default.data:
        subject = message = ""
    dates = len(services.series_invitation_plan(series, now).meetings)
    services.save_series_text(series, subject, message, dates)
    db.session.commit()
    if text_form.restore_default.data:
        flash(_("The series e-mail uses the default text again."), "success")
    else:
        flash(_("The series e-mail text is saved. Check the preview below."), "success")
    return redirect(url_for("series.invite_series", series_id=series.id))


@bp.get("/<int:series_id>/invite/preview")
def preview_series_message(series_id: int):
    """The HTML part of the series e-mail, for the frame of the invite page."""
    now = datetime.now(UTC)
    series = managed_series_or_abort(series_id, now)
    meetings = services.series_invitation_plan(series, now).meetings
    if not meetings:
        abort(404)
    return preview_frame(services.preview_series_invitation(series, meetings).html)
