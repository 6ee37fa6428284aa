"""The public side of open meetings: the meeting's page at /m/<slug> with its registration form,
the organisation suggestions it asks for as one types, and the confirmation link /r/<token>.

Whatever the address typed, the form answers the same "check your inbox": it never tells
whether someone is in the directory or already invited. The confirmation link follows the
rules of personal links: GET shows, POST (with the link's own form token) confirms."""

from datetime import UTC, datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.access import public
from app.extensions import csrf, db
from app.i18n import remember_language
from app.invitations.answers import AnswerRefused, waiting_position
from app.invitations.public_routes import (
    answer_message,
    check_csrf_token,
    personal_page_headers,
)
from app.invitations.tokens import form_token
from app.mail.delivery import request_delivery
from app.meetings.services import DEFAULT_TIME_ZONE, zone_label
from app.models import Meeting, MeetingVisibility, RegistrationStatus
from app.questions.services import (
    active_questions,
    answers_from_form,
    answers_to_json,
    form_with_questions,
)
from app.ratelimit import limited
from app.registrations import bp, services
from app.registrations.forms import RegistrationForm
from app.settings.services import consent_sentence
from app.urls import absolute_url

MAX_SUGGESTION_QUERY = 100

# The confirmation links share the invitees' links budget: trying tokens on either counts.
link_limit = limited("invitee-links", "INVITEE_RATE_LIMIT")
registration_limit = limited("registrations", "REGISTRATION_RATE_LIMIT")
suggestion_limit = limited("organisation-suggestions", "INVITEE_RATE_LIMIT")

# No Referer, no cache, no indexing: the link's address holds its token (public_routes.py).
bp.after_request(personal_page_headers)


@bp.app_template_global()
def registration_summary(meeting: Meeting) -> dict | None:
    """For the meeting's page: its public address and its registrations by status; None for
    an invitation-only meeting that never had any."""
    counts = services.registration_counts(meeting)
    is_open = meeting.visibility is MeetingVisibility.OPEN
    if not is_open and not any(counts.values()):
        return None
    public_url = None
    if is_open and meeting.slug:
        public_url = absolute_url("registrations.public_page", slug=meeting.slug)
    return {
        "is_open": is_open,
        "public_url": public_url,
        "counts": {status.value: total for status, total in counts.items()},
    }


def public_meeting_or_404(slug: str) -> Meeting:
    meeting = services.public_meeting(slug)
    if meeting is None:
        abort(404)
    return meeting


def registration_form(meeting: Meeting, **options):
    """The form with the meeting's questions, and those questions."""
    questions = active_questions(meeting)
    return form_with_questions(RegistrationForm, questions)(**options), questions


def render_public_page(meeting: Meeting, form, questions, now: datetime) -> str:
    return render_template(
        "registrations/public_page.html",
        meeting=meeting,
        status=meeting.status_at(now),
        places=services.places(meeting),
        problem=services.registration_problem(meeting, now),
        form=form,
        questions=questions,
        consent=consent_sentence(),
        zone_label=zone_label,
        default_time_zone=DEFAULT_TIME_ZONE,
    )


@bp.get("/m/<slug>")
@public
def public_page(slug: str):
    meeting = public_meeting_or_404(slug)
    form, questions = registration_form(meeting, formdata=None)
    return render_public_page(meeting, form, questions, datetime.now(UTC))


@bp.post("/m/<slug>/register")
@public
@registration_limit
def register(slug: str):
    meeting = public_meeting_or_404(slug)
    now = datetime.now(UTC)
    form, questions = registration_form(meeting)
    if form.is_robot:
        # A robot gets the answer people get, and nothing is kept or sent.
        return redirect(url_for(".registered", slug=slug))
    if not form.validate():
        return render_public_page(meeting, form, questions, now)
    data = form.registration_data(
        answers_to_json(answers_from_form(form, questions)), consent_sentence()
    )
    try:
        services.register(meeting, data, now)
    except services.RegistrationRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return redirect(url_for(".public_page", slug=slug))
    db.session.commit()
    request_delivery()
    return redirect(url_for(".registered", slug=slug))


@bp.get("/m/<slug>/registered")
@public
def registered(slug: str):
    """ "Check your inbox": the same page whatever happened to the registration."""
    return render_template("registrations/registered.html", meeting=public_meeting_or_404(slug))


@bp.get("/m/<slug>/organisations")
@public
@suggestion_limit
def organisation_suggestions(slug: str):
    """The directory's organisations matching what is typed in the form, as JSON, only for
    the form of a public meeting."""
    public_meeting_or_404(slug)
    text = request.args.get("q", "")[:MAX_SUGGESTION_QUERY]
    response = jsonify({"organisations": services.suggestions(text)})
    response.headers["Cache-Control"] = "no-store"
    return response


def to_link(token: str):
    return redirect(url_for(".confirm_registration", token=token))


@bp.route("/r/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
@link_limit
def confirm_registration(token: str):
    registration = services.registration_for_token(token)
    if registration is None:
        abort(404)
    now = datetime.now(UTC)
    if request.method == "GET":
        meeting = registration.meeting
        return render_template(
            "registrations/confirm.html",
            registration=registration,
            meeting=meeting,
            token=token,
            form_token=form_token(token),
            confirmable=services.confirmable(registration, now),
            expired=services.is_expired(registration, now),
            problem=services.registration_problem(meeting, now),
            public_meeting=services.public_meeting(meeting.slug) if meeting.slug else None,
            statuses=RegistrationStatus,
        )
    check_csrf_token(token)
    if not services.confirmable(registration, now):
        return to_link(token)
    try:
        confirmed = services.confirm(registration, now)
    except (services.RegistrationRefused, AnswerRefused) as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_link(token)
    if confirmed is None:
        db.session.commit()
        flash(
            _("Your address is confirmed. Your registration awaits the organisers' approval."),
            "success",
        )
        return to_link(token)
    position = waiting_position(confirmed.invitation)
    db.session.commit()
    request_delivery()
    flash(answer_message(confirmed.answer, position), "success")
    return redirect(url_for("invitations.personal_page", token=confirmed.token))


@bp.post("/r/<token>/language")
@public
@csrf.exempt
@link_limit
def confirmation_language(token: str):
    """The language switch of the confirmation page: its form carries the link's token, as on
    the invitees' pages, so that looking at the page sets no cookie."""
    if services.registration_for_token(token) is None:
        abort(404)
    check_csrf_token(token)
    return remember_language(to_link(token), request.form.get("language", ""))
