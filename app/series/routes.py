"""Series pages: making a series of meetings from one meeting, with a preview of its dates."""

from datetime import UTC, datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask_babel import ngettext

from app.extensions import db
from app.meetings.access import acting_user, managed_meeting_or_abort
from app.meetings.services import InvalidMeetingData
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
