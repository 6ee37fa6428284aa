"""The organisers' invitation pages of a meeting: inviting people, the invitation e-mail,
sending and following it, the answers, and telling invitees about a change."""

from datetime import UTC, date, datetime

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.extensions import db
from app.formatting import default_zone
from app.groups import services as group_services
from app.invitations import bp, services
from app.invitations.answers import AnswerRefused, record_answer
from app.invitations.forms import (
    AnswerFilterForm,
    ConfirmForm,
    CreateContactsForm,
    InvitationTextForm,
    InviteeFilterForm,
    InviteForm,
    PasteAddressesForm,
    RecordAnswerForm,
)
from app.mail.delivery import request_delivery
from app.mail.preview import preview_frame
from app.meetings.access import acting_user, invitation_or_404
from app.meetings.services import MeetingStateError, can_manage
from app.models import Answer, Meeting
from app.questions import services as question_services

PREFIX = "/meetings/<int:meeting_id>/invitations"
# Seconds between two reloads of the progress page while messages are on their way.
PROGRESS_REFRESH_SECONDS = 5


@bp.context_processor
def invitation_labels() -> dict:
    return {
        "answer_labels": services.ANSWER_LABELS,
        "email_state_labels": services.EMAIL_STATE_LABELS,
        "invitation_email_state": services.invitation_email_state,
    }


def meeting_or_404(meeting_id: int) -> Meeting:
    return db.get_or_404(Meeting, meeting_id)


def managed_meeting_or_abort(meeting_id: int) -> Meeting:
    """The meeting, if the current user may act on it: 404 when missing, 403 when not theirs."""
    meeting = meeting_or_404(meeting_id)
    if not can_manage(current_user, meeting):
        abort(403)
    return meeting


def now() -> datetime:
    return datetime.now(UTC)


def refuse(error: Exception, meeting: Meeting, endpoint: str = "invitations.answers"):
    """An action the meeting's state forbids: undo, say why, go back."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for(endpoint, meeting_id=meeting.id))


def to_answers(meeting: Meeting):
    return redirect(url_for("invitations.answers", meeting_id=meeting.id))


def mail_is_configured() -> bool:
    return bool(current_app.config["MAIL_SERVER"])


# Inviting people


@bp.route(f"{PREFIX}/invite", methods=["GET", "POST"])
def invite(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    source = request.form if request.method == "POST" else request.args
    filter_form = InviteeFilterForm(formdata=source)
    filters = filter_form.filters()
    form = InviteForm()
    if form.validate_on_submit():
        try:
            if form.invite_all.data:
                added, already = services.invite_all_matching(
                    meeting, filters, acting_user(), now()
                )
            else:
                added, already = services.invite_contacts(
                    meeting, form.contacts.data, acting_user(), now()
                )
        except MeetingStateError as error:
            return refuse(error, meeting)
        db.session.commit()
        flash_added(added, already)
        arguments = {key: value for key, value in request.form.items() if key in filter_form}
        return redirect(url_for("invitations.invite", meeting_id=meeting.id, **arguments))
    page = services.paginate_rows(
        services.invitable_contacts_query(meeting, filters),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "invitations/invite.html",
        meeting=meeting,
        filter_form=filter_form,
        filters=filters,
        form=form,
        page=page,
        counts=services.answer_counts(meeting),
        group_form=ConfirmForm(),
    )


@bp.post(f"{PREFIX}/invite-groups")
def invite_groups(meeting_id: int):
    """Put the current members of the meeting's groups on its list; sending stays a step of
    its own, as for everyone else invited."""
    meeting = managed_meeting_or_abort(meeting_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        added, already = group_services.invite_group_members(meeting, acting_user(), today(), now())
    except MeetingStateError as error:
        return refuse(error, meeting, "invitations.invite")
    db.session.commit()
    flash_added(added, already)
    return redirect(url_for("invitations.invite", meeting_id=meeting.id))


def today() -> date:
    """Today where the network is: who is a member of a group "now"."""
    return datetime.now(default_zone()).date()


def flash_added(added: int, already: int) -> None:
    message = ngettext(
        "%(num)s person added to the list.", "%(num)s people added to the list.", added
    )
    if already:
        message += " " + ngettext(
            "%(num)s was already on it.", "%(num)s were already on it.", already
        )
    flash(message, "success" if added else "info")


@bp.route(f"{PREFIX}/paste", methods=["GET", "POST"])
def paste_addresses(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = PasteAddressesForm()
    if form.validate_on_submit():
        known, unknown, invalid = services.parse_addresses(form.addresses.data)
        try:
            added, already = services.invite_contacts(
                meeting, [contact.id for contact in known], acting_user(), now()
            )
        except MeetingStateError as error:
            return refuse(error, meeting)
        db.session.commit()
        if known:
            flash_added(added, already)
        if unknown:
            return render_template(
                "invitations/create_contacts.html",
                meeting=meeting,
                form=CreateContactsForm.for_addresses(unknown),
                invalid=invalid,
            )
        if invalid:
            form.addresses.data = "\n".join(invalid)
            form.addresses.errors = [
                _("These entries are not e-mail addresses: correct them or remove them.")
            ]
        elif known:
            return to_answers(meeting)
        else:
            form.addresses.errors = [_("Paste at least one e-mail address.")]
    return render_template("invitations/paste.html", meeting=meeting, form=form)


@bp.route(f"{PREFIX}/new-contacts", methods=["GET", "POST"])
def create_contacts(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    if request.method == "GET":
        # The confirmation is only ever the answer to pasted addresses.
        return redirect(url_for("invitations.paste_addresses", meeting_id=meeting.id))
    form = CreateContactsForm()
    if form.validate_on_submit():
        rows = form.contact_rows()
        try:
            created, _added = services.create_contacts_and_invite(
                meeting, rows, acting_user(), now()
            )
        except MeetingStateError as error:
            return refuse(error, meeting)
        except services.ContactRowsError as error:
            db.session.rollback()
            form.show_row_errors(error.errors)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)s contact created and added to the list.",
                    "%(num)s contacts created and added to the list.",
                    len(created),
                ),
                "success",
            )
            return to_answers(meeting)
    return render_template(
        "invitations/create_contacts.html", meeting=meeting, form=form, invalid=[]
    )


@bp.route(f"{PREFIX}/<int:invitation_id>/remove", methods=["GET", "POST"])
def remove(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = invitation.contact.full_name
        try:
            services.remove_invitation(invitation)
        except MeetingStateError as error:
            return refuse(error, meeting)
        db.session.commit()
        flash(_("%(name)s is no longer on the list.", name=name), "success")
        return to_answers(meeting)
    return render_template(
        "invitations/remove.html", meeting=meeting, invitation=invitation, form=form
    )


# The invitation e-mail


@bp.route(f"{PREFIX}/message", methods=["GET", "POST"])
def edit_message(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = InvitationTextForm()
    if form.validate_on_submit():
        subject, message = form.subject.data, form.message.data
        if form.restore_default.data:
            subject = message = ""
        try:
            services.save_invitation_text(meeting, subject, message)
        except MeetingStateError as error:
            return refuse(error, meeting)
        db.session.commit()
        if form.restore_default.data:
            flash(_("The invitation uses the default text again."), "success")
        else:
            flash(_("The invitation text is saved. Check the preview below."), "success")
        return redirect(url_for("invitations.edit_message", meeting_id=meeting.id))
    if not form.is_submitted():
        form.subject.data, form.message.data = services.invitation_text(meeting)
    return render_template(
        "invitations/message.html",
        meeting=meeting,
        form=form,
        preview=services.preview_invitation(meeting),
        uses_default=not (meeting.invitation_subject or meeting.invitation_message),
        counts=services.answer_counts(meeting),
    )


@bp.get(f"{PREFIX}/message/preview")
def preview_message(meeting_id: int):
    """The HTML part of the invitation, shown in a frame of the message page."""
    meeting = managed_meeting_or_abort(meeting_id)
    return preview_frame(services.preview_invitation(meeting).html)


def queue_then_show_progress(meeting: Meeting, queue, message):
    """Run a service that queues e-mails for `meeting`; commit, wake the worker, say how many
    with `message(count)`, and show the sending progress."""
    try:
        count = queue(meeting, acting_user(), now())
    except MeetingStateError as error:
        return refuse(error, meeting)
    db.session.commit()
    request_delivery()
    flash(message(count), "success" if count else "info")
    return redirect(url_for("invitations.progress", meeting_id=meeting.id))


def sending_problem(meeting: Meeting) -> str | None:
    """Why e-mails cannot go out for this meeting now (draft, cancelled, past), or None."""
    try:
        services.check_can_send(meeting, now())
    except MeetingStateError as error:
        return str(error)
    return None


@bp.route(f"{PREFIX}/send", methods=["GET", "POST"])
def send(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        return queue_then_show_progress(
            meeting,
            services.send_invitations,
            lambda count: (
                ngettext(
                    "%(num)s invitation is being sent.",
                    "%(num)s invitations are being sent.",
                    count,
                )
                if count
                else _("Everyone on the list has already received the invitation.")
            ),
        )
    problem = sending_problem(meeting)
    subject, _message = services.invitation_text(meeting)
    return render_template(
        "invitations/send.html",
        meeting=meeting,
        form=form,
        problem=problem,
        subject=subject,
        counts=services.answer_counts(meeting),
        mail_configured=mail_is_configured(),
    )


@bp.get(f"{PREFIX}/progress")
def progress(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    delivery = services.delivery_progress(meeting)
    return render_template(
        "invitations/progress.html",
        meeting=meeting,
        delivery=delivery,
        mail_configured=mail_is_configured(),
        refresh_seconds=PROGRESS_REFRESH_SECONDS,
        can_manage=can_manage(current_user, meeting),
    )


@bp.post(f"{PREFIX}/<int:invitation_id>/resend")
def resend(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.resend_to(invitation, acting_user(), now())
    except MeetingStateError as error:
        return refuse(error, meeting)
    db.session.commit()
    request_delivery()
    flash(
        _("The invitation is being sent again to %(name)s.", name=invitation.contact.full_name),
        "success",
    )
    return to_answers(meeting)


@bp.route(f"{PREFIX}/resend", methods=["GET", "POST"])
def resend_unanswered(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        return queue_then_show_progress(
            meeting,
            services.resend_to_unanswered,
            lambda count: ngettext(
                "The invitation is being sent again to %(num)s person.",
                "The invitation is being sent again to %(num)s people.",
                count,
            ),
        )
    problem = sending_problem(meeting)
    return render_template(
        "invitations/resend_unanswered.html",
        meeting=meeting,
        form=form,
        problem=problem,
        count=services.count_unanswered(meeting),
    )


@bp.route(f"{PREFIX}/<int:invitation_id>/revoke", methods=["GET", "POST"])
def revoke(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.revoke_invitation_links(invitation, now())
        db.session.commit()
        flash(
            _(
                "The links sent to %(name)s no longer work. Resend the invitation to give "
                "them a new one.",
                name=invitation.contact.full_name,
            ),
            "success",
        )
        return to_answers(meeting)
    return render_template(
        "invitations/revoke.html", meeting=meeting, invitation=invitation, form=form
    )


# Answers


@bp.get(f"{PREFIX}/")
def answers(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    form = AnswerFilterForm(
        formdata=request.args, organisations=services.organisations_of_invitees(meeting)
    )
    filters = form.filters()
    page = services.paginate_rows(
        services.answers_query(meeting, filters), per_page=current_app.config["PAGE_SIZE"]
    )
    export_arguments = {key: value for key, value in request.args.items() if key != "page"}
    asked = question_services.answered_questions(meeting)
    saved = question_services.saved_answers([row[0].id for row in page.items]) if asked else {}
    return render_template(
        "invitations/answers.html",
        meeting=meeting,
        form=form,
        filters=filters,
        page=page,
        questions=asked,
        question_answers=question_services.shown_answers(asked, saved),
        counts=services.answer_counts(meeting),
        delivery=services.delivery_progress(meeting),
        can_manage=can_manage(current_user, meeting),
        now=now(),
        export_arguments=export_arguments,
        mail_configured=mail_is_configured(),
    )


@bp.get(f"{PREFIX}/answers.csv")
def export_answers(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = AnswerFilterForm(formdata=request.args)
    content = services.answers_csv(meeting, form.filters())
    filename = f"answers-{meeting.id}-{now():%Y-%m-%d}.csv"
    return Response(
        content.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route(f"{PREFIX}/<int:invitation_id>/answer", methods=["GET", "POST"], endpoint="record_answer")
def record(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = invitation_or_404(meeting, invitation_id)
    form = RecordAnswerForm()
    if form.validate_on_submit():
        try:
            answer = record_answer(
                invitation, form.coming, form.comment.data or "", now(), acting_user()
            )
        except AnswerRefused as error:
            return refuse(error, meeting)
        db.session.commit()
        request_delivery()
        flash(
            _(
                "Answer recorded for %(name)s: %(answer)s.",
                name=invitation.contact.full_name,
                answer=services.ANSWER_LABELS[answer],
            ),
            "success",
        )
        return to_answers(meeting)
    if not form.is_submitted():
        form.comment.data = invitation.comment
        if invitation.answer in (Answer.COMING, Answer.WAITING):
            form.answer.data = "yes"
        elif invitation.answer is Answer.NOT_COMING:
            form.answer.data = "no"
    return render_template(
        "invitations/record.html", meeting=meeting, invitation=invitation, form=form
    )


# Telling invitees about a change


@bp.route(f"{PREFIX}/notify-change", methods=["GET", "POST"])
def notify_change(meeting_id: int):
    """Offer to tell the invitees about a new date, time or place: those of the meeting, and
    of the following meetings of its series changed with it (`following` in the address)."""
    from app.series.services import following_to_notify

    meeting = managed_meeting_or_abort(meeting_id)
    following = following_to_notify(meeting, request.args.getlist("following", type=int), now())
    form = ConfirmForm()
    if form.validate_on_submit():
        return queue_then_show_progress(
            meeting,
            lambda meeting, user, now: sum(
                services.notify_change(each, user, now) for each in [meeting, *following]
            ),
            lambda count: ngettext(
                "%(num)s person is being told about the change.",
                "%(num)s people are being told about the change.",
                count,
            ),
        )
    problem = sending_problem(meeting)
    changes = set(request.args.getlist("changed")) & {"time", "place"}
    return render_template(
        "invitations/notify_change.html",
        meeting=meeting,
        form=form,
        problem=problem,
        changes=changes,
        following=following,
        count=sum(services.count_notified(each) for each in [meeting, *following]),
        preview=services.preview_change(meeting),
    )
