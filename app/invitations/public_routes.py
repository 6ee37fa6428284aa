"""The invitee's personal pages, reached through the link in their e-mails, without an account.

GET never changes anything: mail scanners and link previews open links before people do.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from markupsafe import Markup
from wtforms import ValidationError

from app.auth.access import public
from app.extensions import csrf, db
from app.invitations import answers, bp
from app.invitations.calendar import meeting_calendar
from app.invitations.public_forms import (
    ANSWER_LABEL,
    ANSWER_OPTIONS,
    COMING,
    COMMENT_LABEL,
    MAX_COMMENT_LENGTH,
    NOT_COMING,
    AnswerFields,
    AnswerForm,
)
from app.invitations.tokens import invitation_for_token
from app.mail.delivery import request_delivery
from app.meetings.services import DEFAULT_TIME_ZONE, zone_label
from app.models import Answer, Meeting
from app.ratelimit import limited
from app.text import slug
from app.urls import absolute_url

PERSONAL_ENDPOINTS = {
    "invitations.personal_page",
    "invitations.personal_calendar",
    "invitations.leave_waiting_list",
}
# no-referrer: the page's URL holds the token, and it links to maps and video-call sites.
PERSONAL_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
ANSWER_CHOICES = {Answer.COMING: COMING, Answer.WAITING: COMING, Answer.NOT_COMING: NOT_COMING}
# Fragments kept per application, to bound the memory they take: for fifty versions of meetings
# (a few are open at once, in two languages), two hundred each.
MAX_VERSIONS = 50
MAX_FRAGMENTS = 200


# One budget per address for all the link pages.
personal_limit = limited("invitee-links", "INVITEE_RATE_LIMIT")


@bp.after_request
def personal_page_headers(response: Response) -> Response:
    if request.endpoint in PERSONAL_ENDPOINTS:
        response.headers.update(PERSONAL_HEADERS)
    return response


def check_csrf_token() -> None:
    """CSRFProtect's token check, without its HTTPS rule that the request carry a Referer:
    these pages send none (no-referrer), so that rule would refuse every answer. The token
    itself, signed and tied to the session, is what stops forged requests."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as error:
        raise CSRFError(error.args[0]) from error


def page_or_404(token: str, now: datetime) -> answers.PersonalPage:
    page = answers.personal_page(token, now)
    if page is None:
        abort(404)
    return page


def to_page(token: str):
    return redirect(url_for("invitations.personal_page", token=token))


def initial_choice(page: answers.PersonalPage) -> str | None:
    """The e-mail's "I will attend" or "I cannot attend" link, else the current answer."""
    chosen = request.args.get("answer")
    if chosen in (COMING, NOT_COMING):
        return chosen
    return ANSWER_CHOICES.get(page.invitation.answer)


def answer_message(answer: Answer, position: int | None) -> str:
    if answer is Answer.COMING:
        return _("Thank you, your answer is saved: you will attend. A confirmation is on its way.")
    if answer is Answer.WAITING:
        return _(
            "The meeting is full: you are on the waiting list, in position %(position)s. We will "
            "e-mail you if a place frees up.",
            position=position,
        )
    return _("Thank you, your answer is saved: you will not attend.")


def fragment_cache(page: answers.PersonalPage) -> Callable[..., Markup]:
    """The page's `{% call cached(name, *values) %}` helper: a part that shows only the meeting
    and `values` is rendered once per version of the meeting, language and values, then reused
    for every invitee. Translating labels and formatting dates was most of the page's cost."""
    versions = current_app.extensions.setdefault("invitee_page_fragments", {})
    version = (str(get_locale()), page.meeting_version)
    fragments = versions.get(version)
    if fragments is None:
        if len(versions) >= MAX_VERSIONS:
            versions.clear()
        fragments = versions[version] = {}

    def cached(*key, caller: Callable[[], Markup]) -> Markup:
        fragment = fragments.get(key)
        if fragment is None:
            # Keyed by the invitees' answers and comments too: kept within bounds.
            if len(fragments) >= MAX_FRAGMENTS:
                fragments.clear()
            fragment = fragments[key] = caller()
        return fragment

    return cached


def render_page(
    page: answers.PersonalPage, fields: AnswerFields, token: str, form: AnswerForm | None = None
):
    """The page, its answer form showing `fields`; `form` is a submitted form with errors."""
    return render_template(
        "invitations/public_page.html",
        page=page,
        meeting=page.meeting,
        invitation=page.invitation,
        fields=fields,
        form=form,
        token=token,
        cached=fragment_cache(page),
        answer_label=ANSWER_LABEL,
        answer_choices=ANSWER_OPTIONS,
        comment_label=COMMENT_LABEL,
        max_comment_length=MAX_COMMENT_LENGTH,
        zone_label=zone_label,
        default_time_zone=DEFAULT_TIME_ZONE,
    )


@bp.route("/i/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
@personal_limit
def personal_page(token: str):
    now = datetime.now(UTC)
    if request.method == "GET":
        page = page_or_404(token, now)
        return render_page(page, AnswerFields(initial_choice(page), page.invitation.comment), token)
    invitation = answers.invitation_to_answer(token)
    if invitation is None:
        abort(404)
    check_csrf_token()
    form = AnswerForm()
    if not form.validate():
        return render_page(page_or_404(token, now), AnswerFields.of(form), token, form)
    try:
        answer = answers.record_answer(invitation, form.coming, form.comment.data or "", now)
    except answers.AnswerRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_page(token)
    position = answers.waiting_position(invitation)
    db.session.commit()
    request_delivery()
    flash(answer_message(answer, position), "success")
    return to_page(token)


@bp.post("/i/<token>/waiting-list/leave")
@public
@csrf.exempt
@personal_limit
def leave_waiting_list(token: str):
    invitation = invitation_for_token(token)
    if invitation is None:
        abort(404)
    check_csrf_token()
    try:
        answers.leave_waiting_list(invitation, datetime.now(UTC))
    except answers.AnswerRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_page(token)
    db.session.commit()
    request_delivery()
    flash(_("You have left the waiting list. Thank you for letting us know."), "success")
    return to_page(token)


def calendar_filename(meeting: Meeting) -> str:
    return f"{slug(meeting.title) or 'meeting'}.ics"


@bp.get("/i/<token>/calendar.ics")
@public
@personal_limit
def personal_calendar(token: str):
    invitation = invitation_for_token(token)
    if invitation is None:
        abort(404)
    personal_url = absolute_url("invitations.personal_page", token=token)
    content = meeting_calendar(
        invitation.meeting, "PUBLISH", personal_url=personal_url, now=datetime.now(UTC)
    )
    response = Response(content, mimetype="text/calendar")
    response.headers.set(
        "Content-Disposition", "attachment", filename=calendar_filename(invitation.meeting)
    )
    return response
