"""The attendance statistics pages: one meeting's figures, and how often each partner
organisation was represented at the meetings of a period."""

from datetime import UTC, datetime

from flask import current_app, render_template, request
from flask_babel import format_percent

from app.attendance import bp, statistics
from app.attendance.statistics_forms import OrganisationStatisticsForm
from app.formatting import default_zone
from app.invitations.services import paginate_rows
from app.meetings.access import acting_user, managed_meeting_or_abort


@bp.app_template_filter("percent")
def percent(rate: float | None) -> str:
    """A rate as people read it ("75 %" in French); a dash when there was nothing to divide."""
    return "—" if rate is None else format_percent(rate)


@bp.get("/<int:meeting_id>/statistics")
def meeting_statistics(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    return render_template(
        "attendance/statistics.html",
        meeting=meeting,
        statistics=statistics.meeting_statistics(meeting),
    )


@bp.get("/statistics/organisations")
def organisation_statistics():
    zone, now = default_zone(), datetime.now(UTC)
    default = statistics.default_period(now.astimezone(zone).date())
    form = OrganisationStatisticsForm(request.args, default=default)
    if not form.validate():
        return render_template("attendance/organisation_statistics.html", form=form, page=None)
    viewer, period = acting_user(), form.period()
    page = paginate_rows(
        statistics.organisation_attendance_query(viewer, period, zone, now, form.q.data or ""),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "attendance/organisation_statistics.html",
        form=form,
        page=page,
        rows=statistics.organisation_attendance(page.items),
        meeting_count=statistics.count_meetings(viewer, period, zone, now),
    )
