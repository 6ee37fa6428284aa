"""The organiser's attendance pages: the record of a meeting, and the check-in page used at the
door on a phone or tablet."""

from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.attendance import bp, proxies, services
from app.attendance.checkin import invitation_for_code
from app.attendance.forms import (
    CheckinCodeForm,
    ConfirmForm,
    MarkForm,
    NewWalkInForm,
    RecordFilterForm,
    TimesForm,
    WalkInContactForm,
)
from app.contacts.normalise import FieldError
from app.extensions import db
from app.invitations.services import ANSWER_LABELS, organisations_of_invitees, paginate_rows
from app.meetings.access import acting_user, invitation_or_404, managed_meeting_or_abort
from app.meetings.services import MeetingStateError, NonexistentLocalTime, local_to_utc
from app.models import Contact, Meeting

RECORD = "/<int:meeting_id>/attendance"
CHECK_IN = "/<int:meeting_id>/check-in"


@bp.context_processor
def attendance_labels() -> dict:
    return {
        "attendance_labels": services.ATTENDANCE_LABELS,
        "answer_labels": ANSWER_LABELS,
        "history_labels": services.HISTORY_FIELD_LABELS,
        "history_value": services.history_value,
    }


def now() -> datetime:
    return datetime.now(UTC)


def back_to(endpoint: str, meeting: Meeting, anchor: str | None = None):
    """Back to the page the form was on, with its search, filters and page kept (they travel
    in the form's action URL)."""
    arguments = {key: value for key, value in request.args.items() if key != "meeting_id"}
    return redirect(url_for(endpoint, meeting_id=meeting.id, _anchor=anchor, **arguments))


def refuse(message, meeting: Meeting, endpoint: str):
    db.session.rollback()
    flash(str(message), "error")
    return back_to(endpoint, meeting)


# The record


@bp.get(RECORD)
def record(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = RecordFilterForm(formdata=request.args, organisations=organisations_of_invitees(meeting))
    filters = form.filters()
    page = paginate_rows(
        services.record_query(meeting, filters), per_page=current_app.config["PAGE_SIZE"]
    )
    moment = now()
    return render_template(
        "attendance/record.html",
        meeting=meeting,
        form=form,
        filters=filters,
        page=page,
        counts=services.attendance_counts(meeting),
        history=services.record_history(meeting),
        markable=services.is_markable(meeting, moment),
        closable=meeting.starts_at <= moment,
    )


@bp.post(f"{RECORD}/<int:invitation_id>/mark")
def mark(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    form = MarkForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark(invitation, form.marked(), acting_user(), now())
    except MeetingStateError as error:
        return refuse(error, meeting, "attendance.record")
    db.session.commit()
    return back_to("attendance.record", meeting, anchor=f"invitation-{invitation.id}")


@bp.post(f"{RECORD}/<int:invitation_id>/times")
def set_times(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    form = TimesForm()
    if not form.validate_on_submit():
        return refuse(_("Give the times as hours and minutes."), meeting, "attendance.record")
    day = meeting.local_starts_at.date()
    try:
        arrived, left = (
            local_to_utc(day, field.data, meeting.timezone) if field.data else None
            for field in (form.arrived_at, form.left_at)
        )
        services.set_times(invitation, arrived, left, acting_user(), now())
    except NonexistentLocalTime:
        return refuse(_("This time does not exist on that day."), meeting, "attendance.record")
    except (MeetingStateError, services.InvalidTimes) as error:
        return refuse(error, meeting, "attendance.record")
    db.session.commit()
    flash(_("Times saved for %(name)s.", name=invitation.contact.full_name), "success")
    return back_to("attendance.record", meeting, anchor=f"invitation-{invitation.id}")


@bp.route(f"{RECORD}/close", methods=["GET", "POST"])
def close(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            count = services.close_record(meeting, acting_user(), now())
        except MeetingStateError as error:
            return refuse(error, meeting, "attendance.record")
        db.session.commit()
        flash(
            ngettext(
                "The record is closed; %(num)s person still expected is now absent.",
                "The record is closed; %(num)s people still expected are now absent.",
                count,
            ),
            "success",
        )
        return redirect(url_for("attendance.record", meeting_id=meeting.id))
    problem = None
    try:
        services.check_closable(meeting, now())
    except MeetingStateError as error:
        problem = str(error)
    return render_template(
        "attendance/close.html",
        meeting=meeting,
        form=form,
        problem=problem,
        count=services.count_left_expected(meeting),
    )


@bp.route(f"{RECORD}/reopen", methods=["GET", "POST"])
def reopen(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.reopen_record(meeting, acting_user(), now())
        except MeetingStateError as error:
            return refuse(error, meeting, "attendance.record")
        db.session.commit()
        flash(_("The record is open again."), "success")
        return redirect(url_for("attendance.record", meeting_id=meeting.id))
    return render_template("attendance/reopen.html", meeting=meeting, form=form)


# The check-in page


@bp.get(CHECK_IN)
def check_in(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    query = (request.args.get("q") or "").strip()[:100]
    return render_template(
        "attendance/check_in.html",
        meeting=meeting,
        query=query,
        results=services.checkin_search(meeting, query),
        candidates=services.directory_matches(meeting, query),
        counts=services.attendance_counts(meeting),
        quorum=proxies.quorum(meeting) if meeting.quorum_numerator else None,
        markable=services.is_markable(meeting, now()),
        code_form=CheckinCodeForm(formdata=None),
    )


@bp.post(f"{CHECK_IN}/<int:invitation_id>/present")
def check_in_present(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.check_in(invitation, acting_user(), now())
    except MeetingStateError as error:
        return refuse(error, meeting, "attendance.check_in")
    db.session.commit()
    flash(_("%(name)s is present.", name=invitation.contact.full_name), "success")
    return back_to("attendance.check_in", meeting)


@bp.post(f"{CHECK_IN}/<int:invitation_id>/undo")
def check_in_undo(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = invitation.contact.full_name
    try:
        services.undo_check_in(invitation, acting_user(), now())
    except MeetingStateError as error:
        return refuse(error, meeting, "attendance.check_in")
    db.session.commit()
    flash(_("%(name)s is no longer marked present.", name=name), "info")
    return back_to("attendance.check_in", meeting)


@bp.post(f"{CHECK_IN}/code")
def check_in_code(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = CheckinCodeForm()
    if not form.validate_on_submit():
        return refuse(_("Type or scan a check-in code."), meeting, "attendance.check_in")
    invitation = invitation_for_code(meeting, form.code.data)
    if invitation is None:
        message = _(
            "The code %(code)s is not a check-in code of this meeting.", code=form.code.data
        )
        return refuse(message, meeting, "attendance.check_in")
    try:
        services.check_in(invitation, acting_user(), now())
    except MeetingStateError as error:
        return refuse(error, meeting, "attendance.check_in")
    db.session.commit()
    flash(_("%(name)s is present.", name=invitation.contact.full_name), "success")
    return back_to("attendance.check_in", meeting)


@bp.post(f"{CHECK_IN}/walk-in")
def add_walk_in(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = WalkInContactForm()
    if not form.validate_on_submit() or not form.contact_id.data.isdigit():
        abort(400)
    contact = db.get_or_404(Contact, int(form.contact_id.data))
    return _walk_in(meeting, contact, None)


@bp.route(f"{CHECK_IN}/new-walk-in", methods=["GET", "POST"])
def add_new_walk_in(meeting_id: int):
    """Someone who is not in the directory, added on the spot: a page of its own, so that the
    check-in page stays light for the searches at the door."""
    meeting = managed_meeting_or_abort(meeting_id)
    form = NewWalkInForm()
    if form.validate_on_submit():
        try:
            return _walk_in(meeting, form.contact_data(), form.organisation_data())
        except FieldError as error:
            db.session.rollback()
            error.show_on(form)
    status = 400 if form.errors else 200
    return render_template("attendance/new_walk_in.html", meeting=meeting, form=form), status


def _walk_in(meeting: Meeting, person, organisation):
    try:
        invitation = services.add_walk_in(meeting, person, acting_user(), now(), organisation)
    except MeetingStateError as error:
        return refuse(error, meeting, "attendance.check_in")
    db.session.commit()
    flash(_("%(name)s is present.", name=invitation.contact.full_name), "success")
    return redirect(url_for("attendance.check_in", meeting_id=meeting.id))
