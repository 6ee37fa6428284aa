"""The invitee's personal pages, reached through the link in their e-mails, without an account.

GET never changes anything: mail scanners and link previews open links before people do.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from app.auth.access import public
from app.contacts.normalise import FieldError
from app.extensions import csrf, db
from app.formatting import default_zone, format_moment
from app.i18n import remember_language
from app.invitations import answers, bp
from app.invitations.calendar import meeting_calendar
from app.invitations.page_shells import ShellCache, marker
from app.invitations.public_forms import (
    ANSWER_LABEL,
    ANSWER_OPTIONS,
    COMING,
    COMMENT_LABEL,
    MAX_COMMENT_LENGTH,
    NOT_COMING,
    AnswerFields,
    AnswerForm,
    SubstituteForm,
)
from app.invitations.tokens import form_token, form_token_matches, invitation_for_token
from app.mail.delivery import request_delivery
from app.meetings.services import DEFAULT_TIME_ZONE, zone_label
from app.models import (
    Answer,
    Attendance,
    Contact,
    Invitation,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    Proxy,
)
from app.questions import services as question_services
from app.ratelimit import limited
from app.text import slug
from app.urls import absolute_url

PERSONAL_ENDPOINTS = {
    "invitations.personal_page",
    "invitations.give_personal_proxy",
    "invitations.withdraw_personal_proxy",
    "invitations.refuse_personal_proxy",
    "invitations.personal_certificate",
    "invitations.send_personal_substitute",
    "invitations.personal_language",
    "invitations.personal_calendar",
    "invitations.leave_waiting_list",
    "invitations.personal_feed",
    "invitations.member_group_feed",
    "invitations.own_page",
    "invitations.answer_own_invitation",
    "invitations.open_own_invitation",
    "invitations.update_own_details",
    "invitations.leave_own_group",
    # The confirmation link of a registration to an open meeting (app/registrations).
    "registrations.confirm_registration",
    "registrations.confirmation_language",
}
# no-referrer: the page's URL holds the token, and it links to maps and video-call sites.
PERSONAL_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
ANSWER_CHOICES = {Answer.COMING: COMING, Answer.WAITING: COMING, Answer.NOT_COMING: NOT_COMING}
# Shells of the page kept per process: the states of the meetings open at one time, in two
# languages, about 5 KB each.
MAX_SHELLS = 500
# An invitee's own values on their page, as the page's shells hold them.
MARKERS = {name: marker() for name in ("name", "answered_at", "comment", "field_comment", "extras")}


# One budget per address for all the link pages.
personal_limit = limited("invitee-links", "INVITEE_RATE_LIMIT")


@bp.after_request
def personal_page_headers(response: Response) -> Response:
    if request.endpoint in PERSONAL_ENDPOINTS:
        for name, value in PERSONAL_HEADERS.items():
            # The personal feed says itself how it may be cached (private, revalidated).
            if name != "Cache-Control" or name not in response.headers:
                response.headers[name] = value
    return response


def check_csrf_token(token: str) -> None:
    """The forms of a personal page carry the token of its link (tokens.form_token), not the
    session's: the page needs no cookie. Checked by hand as CSRFProtect would, but for its
    HTTPS rule that the request carry a Referer: these pages send none (no-referrer)."""
    if current_app.config["WTF_CSRF_ENABLED"] and not form_token_matches(
        token, request.form.get("csrf_token")
    ):
        raise CSRFError("The CSRF token is missing or does not match the link.")


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


def may_be_logged_in() -> bool:
    """Whether the visitor may be logged in (a session or a remember-me cookie), told without
    loading the user: Flask-Login would hash the visitor's address and browser to check the
    session of every anonymous visitor."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return "_user_id" in session or remember_cookie in request.cookies


@dataclass(frozen=True)
class ProxySection:
    """The proxies of one invitee: the one they gave, who may hold it, those they hold."""

    given: Proxy | None
    candidates: list[Invitation]
    held: list[Proxy]
    open: bool


def proxy_section(invitation_id: int, now: datetime) -> ProxySection | None:
    from app.attendance import proxies

    invitation = db.session.get(Invitation, invitation_id)
    meeting = invitation.meeting
    is_open = proxies.proxies_open(meeting, now, None)
    given = proxies.active_proxy(invitation)
    candidates = []
    if is_open and given is None and proxies.can_give(invitation):
        candidates = proxies.holder_candidates(invitation)
    held = proxies.held_proxies(invitation)
    if given is None and not candidates and not held:
        return None
    return ProxySection(given, candidates, held, is_open)


def personal_extras(page: answers.PersonalPage, token: str) -> Markup:
    """What the page shows this invitee alone beyond their answer: their check-in code while
    they are coming, their certificate once present, their proxies."""
    # Imported here, as in the functions below: the attendance package imports this one's.
    from app.attendance.checkin import checkin_badge

    invitation, meeting, now = page.invitation, page.meeting, datetime.now(UTC)
    live = page.status in (MeetingStatus.PUBLISHED, MeetingStatus.HELD)
    checkin = None
    if invitation.answer is Answer.COMING and page.status is MeetingStatus.PUBLISHED:
        checkin = checkin_badge(invitation)
    certificate = live and invitation.attendance is Attendance.PRESENT
    proxy = None
    if meeting.proxies_allowed and live:
        proxy = proxy_section(invitation.id, now)
    if not (checkin or certificate or proxy):
        return Markup("")
    return Markup(
        render_template(
            "invitations/_personal_extras.html",
            checkin=checkin,
            certificate=certificate,
            proxy=proxy,
            token=token,
            form_token=form_token(token),
        )
    )


def question_part(
    page: answers.PersonalPage,
    form: AnswerForm | None,
    questions: list[MeetingQuestion] | None,
) -> tuple[list[MeetingQuestion], AnswerForm | None]:
    """The meeting's questions, and the form showing their fields: the submitted `form`, or
    one showing the invitee's saved answers."""
    if questions is None:
        if not page.question_count:
            return [], None
        questions = question_services.active_questions_of(page.meeting.id)
    if not questions:
        return [], None
    if form is None:
        invitation_id = page.invitation.id
        form = question_services.form_with_questions(AnswerForm, questions)(formdata=None)
        saved = question_services.saved_answers([invitation_id]).get(invitation_id, {})
        question_services.prefill(form, questions, saved)
    return questions, form


def render_page(
    page: answers.PersonalPage,
    fields: AnswerFields,
    token: str,
    form: AnswerForm | None = None,
    substitute_form: SubstituteForm | None = None,
    questions: list[MeetingQuestion] | None = None,
) -> str:
    """The page, its answer form showing `fields`; `form` is a submitted form with errors
    (with the fields of `questions`, the meeting's questions, when it asks some).

    Every invitee in the same state sees the same page but for their own values: it is filled
    in from the shell of that state (page_shells.py), unless it shows more than that state, a
    form's errors, flashed messages, the menu of someone logged in, or the invitee's answers
    to the meeting's questions."""
    invitation = page.invitation
    questions, question_form = question_part(page, form, questions)
    values = {
        "name": invitation.contact.full_name,
        "answered_at": format_moment(invitation.answered_at, page.meeting.zone)
        if invitation.answered_at
        else "",
        "comment": invitation.comment or "",
        "field_comment": fields.comment or "",
        # HTML (Markup): set into the page as it is.
        "extras": personal_extras(page, token),
    }
    # In the page's URLs and forms: random, so no other text of the page can hold them.
    own = {"token": token, "form_token": form_token(token)}
    if (
        form is not None
        or substitute_form is not None
        or questions
        or "_flashes" in session
        or may_be_logged_in()
    ):
        return _render(page, fields, token, form, values, substitute_form, questions, question_form)
    state = (
        str(get_locale()),
        page.meeting_version,
        page.status,
        page.problem,
        page.is_full,
        page.waiting_position,
        invitation.answer,
        invitation.answer_recorded_by_id is not None,
        fields.answer,
        # The language switch sends the visitor back to the same address.
        request.query_string,
        *(bool(value) for value in values.values()),
    )

    def render_shell() -> tuple[str, dict[str, str]]:
        markers = {name: MARKERS[name] if value else "" for name, value in values.items()}
        shell_fields = replace(fields, comment=markers["field_comment"] or fields.comment)
        html = _render(page, shell_fields, token, None, markers)
        return html, {**markers, "token": token, "form_token": own["form_token"]}

    shells = current_app.extensions.setdefault("invitee_page_shells", ShellCache(MAX_SHELLS))
    return shells.page(state, render_shell, {**values, **own})


def _render(
    page: answers.PersonalPage,
    fields: AnswerFields,
    token: str,
    form: AnswerForm | None,
    values: dict[str, str],
    substitute_form: SubstituteForm | None = None,
    questions: list[MeetingQuestion] | None = None,
    question_form: AnswerForm | None = None,
) -> str:
    return render_template(
        "invitations/public_page.html",
        page=page,
        meeting=page.meeting,
        invitation=page.invitation,
        invitee_name=values["name"],
        answered_moment=values["answered_at"],
        comment=values["comment"],
        extras=values["extras"],
        fields=fields,
        form=form,
        substitute_form=substitute_form or SubstituteForm(formdata=None),
        token=token,
        form_token=form_token(token),
        answer_label=ANSWER_LABEL,
        answer_choices=ANSWER_OPTIONS,
        comment_label=COMMENT_LABEL,
        max_comment_length=MAX_COMMENT_LENGTH,
        zone_label=zone_label,
        default_time_zone=DEFAULT_TIME_ZONE,
        questions=questions or [],
        question_form=question_form,
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
    check_csrf_token(token)
    questions = question_services.active_questions_of(invitation.meeting_id)
    form = question_services.form_with_questions(AnswerForm, questions)()
    if not form.validate():
        page = page_or_404(token, now)
        return render_page(page, AnswerFields.of(form), token, form, questions=questions)
    try:
        answer = answers.record_answer(invitation, form.coming, form.comment.data or "", now)
    except answers.AnswerRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_page(token)
    question_services.save_answers(
        invitation, question_services.answers_from_form(form, questions), now
    )
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
    check_csrf_token(token)
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


@bp.post("/i/<token>/language")
@public
@csrf.exempt
@personal_limit
def personal_language(token: str):
    """The language switch of a personal page: its form carries the link's token, so the page
    needs no session; the choice is kept as on every page (a cookie), then the page shown."""
    check_csrf_token(token)
    return remember_language(to_page(token), request.form.get("language", ""))


def personal_action(token: str, action, success: str):
    """A POST of the personal page: the link's invitation and token checked, `action(invitation,
    now)` done and committed, its e-mails sent; a refusal is shown on the page."""
    from app.attendance import proxies

    invitation = invitation_for_token(token)
    if invitation is None:
        abort(404)
    check_csrf_token(token)
    try:
        action(invitation, datetime.now(UTC))
    except proxies.ProxyRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_page(token)
    db.session.commit()
    request_delivery()
    flash(success, "success")
    return to_page(token)


@bp.post("/i/<token>/proxy")
@public
@csrf.exempt
@personal_limit
def give_personal_proxy(token: str):
    from app.attendance import proxies

    def give(invitation: Invitation, now: datetime) -> None:
        holder_id = request.form.get("holder", "")
        holder = db.session.get(Invitation, int(holder_id)) if holder_id.isdigit() else None
        if holder is None or holder.meeting_id != invitation.meeting_id:
            raise proxies.ProxyRefused(_("Choose the member who will hold your proxy."))
        proxies.give_proxy(invitation, holder, now)

    return personal_action(
        token, give, _("Your proxy is given; its holder is told by e-mail and may refuse it.")
    )


@bp.post("/i/<token>/proxy/withdraw")
@public
@csrf.exempt
@personal_limit
def withdraw_personal_proxy(token: str):
    from app.attendance import proxies

    return personal_action(
        token, proxies.withdraw_proxy, _("You have taken back your proxy; its holder is told.")
    )


@bp.post("/i/<token>/proxies/<int:proxy_id>/refuse")
@public
@csrf.exempt
@personal_limit
def refuse_personal_proxy(token: str, proxy_id: int):
    from app.attendance import proxies

    def refuse(invitation: Invitation, now: datetime) -> None:
        proxies.refuse_proxy(invitation, proxy_id, now)

    return personal_action(
        token, refuse, _("You have refused the proxy; the member who gave it is told.")
    )


@bp.get("/i/<token>/certificate.pdf")
@public
@personal_limit
def personal_certificate(token: str):
    """The invitee's attendance certificate, once they are marked present."""
    from app.attendance import documents

    invitation = invitation_for_token(token)
    if invitation is None:
        abort(404)
    try:
        content = documents.certificate_pdf(invitation.meeting, invitation, datetime.now(UTC))
    except documents.DocumentUnavailable:
        abort(404)
    return attachment(content, "application/pdf", documents.certificate_filename(invitation))


@bp.post("/i/<token>/substitute")
@public
@csrf.exempt
@personal_limit
def send_personal_substitute(token: str):
    """The invitee sends a colleague in their place; the details stay in the form, with what
    is wrong next to its field, until they are right."""
    now = datetime.now(UTC)
    invitation = answers.invitation_to_answer(token)
    if invitation is None:
        abort(404)
    check_csrf_token(token)
    form = SubstituteForm()
    if form.validate():
        try:
            substitute = answers.send_substitute(invitation, form.contact_data(), now)
        except answers.AnswerRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            return to_page(token)
        except FieldError as error:
            db.session.rollback()
            error.show_on(form)
        else:
            name = substitute.contact.full_name
            db.session.commit()
            request_delivery()
            flash(
                _(
                    "%(name)s will attend in your place: they receive their own link by e-mail.",
                    name=name,
                ),
                "success",
            )
            return to_page(token)
    page = page_or_404(token, now)
    fields = AnswerFields(initial_choice(page), page.invitation.comment)
    return render_page(page, fields, token, substitute_form=form), 400


def attachment(content: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


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
    return attachment(content, "text/calendar", calendar_filename(invitation.meeting))


@bp.get("/i/<token>/feed.ics")
@public
@personal_limit
def personal_feed(token: str):
    """The calendar of every meeting the link's contact is invited to, their answer in each
    event's status; a revoked link's feed is gone (404)."""
    # Imported here, as in the functions below: the feeds and groups packages import this one.
    from app.feeds import services as feed_services
    from app.feeds.http import calendar_response

    invitation = invitation_for_token(token)
    if invitation is None:
        abort(404)
    contact = invitation.contact
    own_url = absolute_url("invitations.own_page", token=token)
    feed = feed_services.personal_feed(contact.id, contact.full_name, datetime.now(UTC), own_url)
    return calendar_response(feed, "invitations.ics")


@bp.get("/i/<token>/groups/<int:group_id>/feed.ics")
@public
@personal_limit
def member_group_feed(token: str, group_id: int):
    """A group's calendar, for one of its current members through their personal link: the
    group's own feed address is secret and only its hash is kept, so it cannot be shown."""
    from app.feeds import invitee
    from app.feeds import services as feed_services
    from app.feeds.http import calendar_response

    membership = invitee.open_membership(link_contact_or_404(token), group_id)
    if membership is None:
        abort(404)
    feed = feed_services.group_feed(membership.group, datetime.now(UTC))
    return calendar_response(feed, f"{slug(membership.group.name) or 'group'}.ics")


# The invitee's own page: all their invitations, their groups, their details.


def link_contact_or_404(token: str) -> Contact:
    invitation = invitation_for_token(token)
    if invitation is None:
        abort(404)
    return invitation.contact


def to_own_page(token: str):
    return redirect(url_for("invitations.own_page", token=token))


def render_own_page(token: str, contact: Contact, details_form=None):
    from app.feeds import invitee
    from app.feeds.forms import OwnDetailsForm

    now = datetime.now(UTC)
    invitations = invitee.upcoming_invitations(contact, now)
    return render_template(
        "invitations/own_page.html",
        token=token,
        form_token=form_token(token),
        contact=contact,
        invitations=invitations,
        questions_first=invitee.meetings_with_required_questions(invitations),
        memberships=invitee.current_memberships(contact, today()),
        details_form=details_form or OwnDetailsForm(obj=contact, formdata=None),
        answer_problem=lambda invitation: answers.answer_problem(invitation, now),
        coming=COMING,
        not_coming=NOT_COMING,
    )


def today():
    """Today where the network is: the last day in the group of someone leaving now."""
    return datetime.now(default_zone()).date()


@bp.get("/i/<token>/invitations")
@public
@personal_limit
def own_page(token: str):
    return render_own_page(token, link_contact_or_404(token))


@bp.post("/i/<token>/invitations/<int:invitation_id>/answer")
@public
@csrf.exempt
@personal_limit
def answer_own_invitation(token: str, invitation_id: int):
    """An answer given from the own page, with the refusals and the e-mail of the meeting's
    page; the comment already given stays."""
    from app.feeds import invitee

    contact = link_contact_or_404(token)
    invitation = invitee.own_invitation(contact, invitation_id)
    if invitation is None:
        abort(404)
    check_csrf_token(token)
    choice = request.form.get("answer")
    if choice not in (COMING, NOT_COMING):
        flash(_("Choose whether you will attend."), "error")
        return to_own_page(token)
    if choice == COMING and question_services.unanswered_required(invitation):
        flash(
            _(
                "%(title)s: please answer the meeting's questions on its page.",
                title=invitation.meeting.title,
            ),
            "error",
        )
        return to_own_page(token)
    now = datetime.now(UTC)
    try:
        answer = answers.record_answer(invitation, choice == COMING, invitation.comment, now)
    except answers.AnswerRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_own_page(token)
    position = answers.waiting_position(invitation)
    title = invitation.meeting.title
    db.session.commit()
    request_delivery()
    flash(f"{title}: {answer_message(answer, position)}", "success")
    return to_own_page(token)


@bp.post("/i/<token>/invitations/<int:invitation_id>/page")
@public
@csrf.exempt
@personal_limit
def open_own_invitation(token: str, invitation_id: int):
    """The personal page of one of the contact's invitations, from the own page: its link is
    not kept anywhere, so a new one is made (a POST: a GET changes nothing)."""
    from app.feeds import invitee
    from app.invitations.tokens import issue_link

    invitation = invitee.own_invitation(link_contact_or_404(token), invitation_id)
    if invitation is None:
        abort(404)
    check_csrf_token(token)
    page_token = issue_link(invitation, datetime.now(UTC))
    db.session.commit()
    return to_page(page_token)


@bp.post("/i/<token>/details")
@public
@csrf.exempt
@personal_limit
def update_own_details(token: str):
    from app.feeds import invitee
    from app.feeds.forms import OwnDetailsForm

    contact = link_contact_or_404(token)
    check_csrf_token(token)
    form = OwnDetailsForm()
    if not form.validate():
        return render_own_page(token, contact, form), 400
    invitee.update_own_details(contact, form.phone.data, form.function.data)
    db.session.commit()
    flash(_("Your details are saved."), "success")
    return to_own_page(token)


@bp.route("/i/<token>/groups/<int:group_id>/leave", methods=["GET", "POST"])
@public
@csrf.exempt
@personal_limit
def leave_own_group(token: str, group_id: int):
    """Leaving a group, after a confirmation page; the group's organisers are told."""
    from app.feeds import invitee
    from app.groups.services import GroupStateError

    contact = link_contact_or_404(token)
    membership = invitee.open_membership(contact, group_id)
    if membership is None:
        abort(404)
    if request.method == "GET":
        return render_template(
            "invitations/leave_group.html",
            token=token,
            form_token=form_token(token),
            group=membership.group,
        )
    check_csrf_token(token)
    try:
        invitee.leave_as_member(membership, today(), datetime.now(UTC))
    except (GroupStateError, FieldError) as refusal:
        db.session.rollback()
        flash(str(refusal.args[0]), "error")
        return to_own_page(token)
    name = membership.group.name
    db.session.commit()
    request_delivery()
    flash(_("You have left the group %(name)s; its organisers are told.", name=name), "success")
    return to_own_page(token)
