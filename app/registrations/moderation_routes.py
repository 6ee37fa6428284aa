"""The organisers' side of open meetings: the list of a meeting's registrations, approving and
refusing those that await approval."""

from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.extensions import db
from app.invitations.answers import AnswerRefused
from app.invitations.services import ANSWER_LABELS
from app.mail.delivery import request_delivery
from app.meetings.access import acting_user, managed_meeting_or_abort
from app.models import Meeting, Registration
from app.registrations import bp, services
from app.registrations.forms import RefuseRegistrationForm, RegistrationFilterForm


def registration_or_404(meeting: Meeting, registration_id: int) -> Registration:
    registration = services.registration_of(meeting, registration_id)
    if registration is None:
        abort(404)
    return registration


def to_list(meeting: Meeting):
    return redirect(url_for("registrations.list_registrations", meeting_id=meeting.id))


@bp.get("/meetings/<int:meeting_id>/registrations")
def list_registrations(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = RegistrationFilterForm(request.args)
    filters = form.filters()
    page = db.paginate(
        services.registrations_query(meeting, filters), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "registrations/list.html",
        meeting=meeting,
        form=form,
        filters=filters,
        page=page,
        counts=services.registration_counts(meeting),
        status_labels=services.STATUS_LABELS,
    )


@bp.post("/meetings/<int:meeting_id>/registrations/<int:registration_id>/approve")
def approve_registration(meeting_id: int, registration_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    registration = registration_or_404(meeting, registration_id)
    name = registration.full_name
    try:
        answer = services.approve(registration, acting_user(), datetime.now(UTC))
    except (services.RegistrationRefused, AnswerRefused) as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_list(meeting)
    db.session.commit()
    request_delivery()
    flash(
        _(
            "%(name)s is registered (%(answer)s) and told by e-mail.",
            name=name,
            answer=ANSWER_LABELS[answer],
        ),
        "success",
    )
    return to_list(meeting)


@bp.route(
    "/meetings/<int:meeting_id>/registrations/<int:registration_id>/refuse",
    methods=["GET", "POST"],
)
def refuse_registration(meeting_id: int, registration_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    registration = registration_or_404(meeting, registration_id)
    form = RefuseRegistrationForm()
    if form.validate_on_submit():
        name = registration.full_name
        try:
            services.refuse(registration, acting_user(), form.reason.data or "", datetime.now(UTC))
        except services.RegistrationRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            return to_list(meeting)
        db.session.commit()
        request_delivery()
        flash(
            _("The registration of %(name)s is refused; they are told by e-mail.", name=name),
            "success",
        )
        return to_list(meeting)
    return render_template(
        "registrations/refuse.html", meeting=meeting, registration=registration, form=form
    )
