"""The organiser's pages of a meeting's questions: the list with its answer counts, adding,
changing, moving and removing a question."""

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.extensions import db
from app.meetings.access import managed_meeting_or_abort
from app.meetings.services import MeetingStateError, check_editable
from app.models import Meeting, MeetingQuestion
from app.questions import bp, services
from app.questions.forms import KIND_LABELS, ConfirmForm, QuestionForm

PREFIX = "/<int:meeting_id>/questions"
QUESTION = f"{PREFIX}/<int:question_id>"
MOVES = {"up": -1, "down": 1}


def now() -> datetime:
    return datetime.now(UTC)


@bp.errorhandler(MeetingStateError)
def refuse_in_this_state(error: MeetingStateError):
    """A change the meeting's state forbids (a cancelled meeting): say so, back to the list."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("questions.list_questions", meeting_id=request.view_args["meeting_id"]))


def changeable_meeting_or_abort(meeting_id: int) -> Meeting:
    """The meeting, if the current user manages it and its questions may still change."""
    meeting = managed_meeting_or_abort(meeting_id)
    check_editable(meeting)
    return meeting


def question_or_404(meeting: Meeting, question_id: int) -> MeetingQuestion:
    """An active question of this meeting: another meeting's, or a removed one, is missing."""
    question = db.get_or_404(MeetingQuestion, question_id)
    if question.meeting_id != meeting.id or question.removed_at is not None:
        abort(404)
    return question


def to_list(meeting: Meeting):
    return redirect(url_for("questions.list_questions", meeting_id=meeting.id))


@bp.get(PREFIX)
def list_questions(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    questions = services.answered_questions(meeting)
    return render_template(
        "questions/list.html",
        meeting=meeting,
        questions=[q for q in questions if q.removed_at is None],
        removed=[q for q in questions if q.removed_at is not None],
        answer_counts=services.answer_counts(meeting),
        kind_labels=KIND_LABELS,
        form=ConfirmForm(),
    )


@bp.route(f"{PREFIX}/new", methods=["GET", "POST"])
def new_question(meeting_id: int):
    meeting = changeable_meeting_or_abort(meeting_id)
    form = QuestionForm()
    if form.validate_on_submit():
        services.add_question(meeting, form.to_data(), now())
        db.session.commit()
        flash(_("The question is added."), "success")
        return to_list(meeting)
    return render_form(meeting, form, question=None)


@bp.route(f"{QUESTION}/edit", methods=["GET", "POST"])
def edit_question(meeting_id: int, question_id: int):
    meeting = changeable_meeting_or_abort(meeting_id)
    question = question_or_404(meeting, question_id)
    form = QuestionForm.for_question(question)
    if form.validate_on_submit():
        try:
            services.update_question(question, form.to_data(), now())
        except services.QuestionChangeError as error:
            db.session.rollback()
            form.kind.errors = [*form.kind.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The question is saved."), "success")
            return to_list(meeting)
    return render_form(meeting, form, question=question)


def render_form(meeting: Meeting, form: QuestionForm, question: MeetingQuestion | None):
    answered = question is not None and services.has_answers(question)
    status = 400 if form.errors else 200
    page = render_template(
        "questions/form.html", meeting=meeting, form=form, question=question, answered=answered
    )
    return page, status


@bp.post(f"{QUESTION}/move/<any(up, down):direction>")
def move_question(meeting_id: int, question_id: int, direction: str):
    meeting = changeable_meeting_or_abort(meeting_id)
    question = question_or_404(meeting, question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.move_question(question, MOVES[direction], now())
    db.session.commit()
    return to_list(meeting)


@bp.route(f"{QUESTION}/remove", methods=["GET", "POST"])
def remove_question(meeting_id: int, question_id: int):
    meeting = changeable_meeting_or_abort(meeting_id)
    question = question_or_404(meeting, question_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if services.remove_question(question, now()):
            flash(_("The question is deleted."), "success")
        else:
            flash(_("The question is removed from the forms; its answers are kept."), "success")
        db.session.commit()
        return to_list(meeting)
    return render_template(
        "questions/remove.html",
        meeting=meeting,
        question=question,
        answer_count=services.answer_counts(meeting).get(question.id, 0),
        form=form,
    )
