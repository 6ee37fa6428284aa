"""The questions a meeting asks on its answer and registration forms: their fields in those
forms, the invitees' saved answers, the counts per choice, and the organiser's changes to the
questions (add, edit, reorder, remove) that keep earlier answers readable."""

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import exists, func, select
from wtforms import Field, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Length, StopValidation

from app.extensions import db
from app.meetings.forms import MultiCheckboxField
from app.models import (
    Answer,
    Invitation,
    Meeting,
    MeetingQuestion,
    QuestionAnswer,
    QuestionKind,
)

MAX_SHORT_ANSWER_LENGTH = 300
MAX_LONG_ANSWER_LENGTH = 2000
YES, NO = "yes", "no"
CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
COUNTED_KINDS = (*CHOICE_KINDS, QuestionKind.YES_NO)
# The changes of kind that leave every saved answer valid: a text stays a text, one choice is
# a valid set of choices. Any other change is refused once a question has answers.
COMPATIBLE_KINDS = {
    QuestionKind.SHORT_TEXT: {QuestionKind.LONG_TEXT},
    QuestionKind.LONG_TEXT: {QuestionKind.SHORT_TEXT},
    QuestionKind.SINGLE_CHOICE: {QuestionKind.MULTIPLE_CHOICE},
}


# Reading the questions


def active_questions(meeting: Meeting) -> list[MeetingQuestion]:
    """The questions the forms ask, in their order (removed ones left out)."""
    return [question for question in meeting.questions if question.removed_at is None]


def active_questions_of(meeting_id: int) -> list[MeetingQuestion]:
    """The questions the forms ask, for a meeting known by its id alone (a personal page reads
    the meeting without the ORM). One query."""
    return list(
        db.session.scalars(
            select(MeetingQuestion)
            .where(MeetingQuestion.meeting_id == meeting_id, MeetingQuestion.removed_at.is_(None))
            .order_by(MeetingQuestion.position, MeetingQuestion.id)
        )
    )


def meetings_with_required_questions(meeting_ids: list[int]) -> set[int]:
    """Those of these meetings that ask a required question, in one query."""
    if not meeting_ids:
        return set()
    return set(
        db.session.scalars(
            select(MeetingQuestion.meeting_id)
            .where(
                MeetingQuestion.meeting_id.in_(set(meeting_ids)),
                MeetingQuestion.removed_at.is_(None),
                MeetingQuestion.required.is_(True),
            )
            .distinct()
        )
    )


def unanswered_required(invitation: Invitation) -> list[MeetingQuestion]:
    """The required questions of the invitation's meeting it has no saved answer to."""
    answered = select(QuestionAnswer.question_id).where(
        QuestionAnswer.invitation_id == invitation.id
    )
    return list(
        db.session.scalars(
            select(MeetingQuestion)
            .where(
                MeetingQuestion.meeting_id == invitation.meeting_id,
                MeetingQuestion.removed_at.is_(None),
                MeetingQuestion.required.is_(True),
                MeetingQuestion.id.not_in(answered),
            )
            .order_by(MeetingQuestion.position, MeetingQuestion.id)
        )
    )


def answered_questions(meeting: Meeting) -> list[MeetingQuestion]:
    """The questions of the answer list and the exports: the active ones, and the removed ones
    whose answers are still kept. One query."""
    has_answers = exists().where(QuestionAnswer.question_id == MeetingQuestion.id)
    return list(
        db.session.scalars(
            select(MeetingQuestion)
            .where(
                MeetingQuestion.meeting_id == meeting.id,
                MeetingQuestion.removed_at.is_(None) | has_answers,
            )
            .order_by(MeetingQuestion.position, MeetingQuestion.id)
        )
    )


def asks_exported_questions(meeting: Meeting):
    """SQL, a column to add to an export's query of rows: whether the meeting has questions
    for the exports (answered_questions), so that a meeting without any costs no query more."""
    has_answers = exists().where(QuestionAnswer.question_id == MeetingQuestion.id)
    return (
        exists()
        .where(
            MeetingQuestion.meeting_id == meeting.id,
            MeetingQuestion.removed_at.is_(None) | has_answers,
        )
        .label("asks_questions")
    )


def answer_counts(meeting: Meeting) -> dict[int, int]:
    """How many invitees answered each question of the meeting, in one query."""
    rows = db.session.execute(
        select(QuestionAnswer.question_id, func.count())
        .join(MeetingQuestion, MeetingQuestion.id == QuestionAnswer.question_id)
        .where(MeetingQuestion.meeting_id == meeting.id)
        .group_by(QuestionAnswer.question_id)
    )
    return {question_id: count for question_id, count in rows}


def has_answers(question: MeetingQuestion) -> bool:
    if question.id is None:
        return False
    return bool(
        db.session.scalar(select(exists().where(QuestionAnswer.question_id == question.id)))
    )


# The fields of the forms


def question_field_name(question: MeetingQuestion) -> str:
    return f"question_{question.id}"


class AnswerRequired:
    """A required question's validator. A form whose `questions_required` is false (the answer
    form saying "I cannot attend") lets it be left empty; what was given is still checked.
    It sets no "required" flag: the templates mark the field themselves (questions/_fields.html),
    as the browser must not refuse an empty answer of someone not coming, nor ask for every
    checkbox of a multiple choice."""

    def __init__(self, message=None):
        self.message = message or _l("Please answer this question.")

    def __call__(self, form, field: Field) -> None:
        if has_value(field.data):
            return
        field.errors[:] = []
        if getattr(form, "questions_required", True):
            raise StopValidation(self.message)
        raise StopValidation()


class AnswerOptional:
    """An optional question's validator: an empty answer stops the checks of its choices."""

    field_flags = {"optional": True}

    def __call__(self, form, field: Field) -> None:
        if not has_value(field.data):
            field.errors[:] = []
            raise StopValidation()


def has_value(data) -> bool:
    if isinstance(data, str):
        return bool(data.strip())
    return bool(data)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def question_field(question: MeetingQuestion) -> Field:
    """The unbound form field asking one question."""
    presence = AnswerRequired() if question.required else AnswerOptional()
    options = {"description": question.help_text or ""}
    kind = question.kind
    if kind is QuestionKind.SHORT_TEXT:
        return StringField(
            question.label,
            validators=[presence, Length(max=MAX_SHORT_ANSWER_LENGTH)],
            filters=[strip],
            **options,
        )
    if kind is QuestionKind.LONG_TEXT:
        return TextAreaField(
            question.label,
            validators=[presence, Length(max=MAX_LONG_ANSWER_LENGTH)],
            filters=[strip],
            **options,
        )
    if kind is QuestionKind.YES_NO:
        choices = [SelectChoice(YES, _l("Yes")), SelectChoice(NO, _l("No"))]
        return RadioField(question.label, choices=choices, validators=[presence], **options)
    choices = [SelectChoice(choice) for choice in question.choice_list]
    if kind is QuestionKind.SINGLE_CHOICE:
        return RadioField(question.label, choices=choices, validators=[presence], **options)
    return MultiCheckboxField(question.label, choices=choices, validators=[presence], **options)


def form_with_questions(base: type[FlaskForm], questions: list[MeetingQuestion]) -> type[FlaskForm]:
    """A subclass of `base` asking the questions too, one field each, named by
    `question_field_name`, after the fields of `base`; `base` itself when there is none."""
    if not questions:
        return base
    fields = {question_field_name(question): question_field(question) for question in questions}
    return type(base.__name__, (base,), fields)


def answers_from_form(form: FlaskForm, questions: list[MeetingQuestion]) -> dict[int, list[str]]:
    """What the submitted form answers to each question; an empty list for no answer."""
    answers = {}
    for question in questions:
        data = form[question_field_name(question)].data
        if isinstance(data, list | tuple):
            values = [str(value) for value in data if has_value(value)]
        else:
            values = [data.strip()] if has_value(data) else []
        answers[question.id] = values
    return answers


def prefill(form: FlaskForm, questions: list[MeetingQuestion], saved: dict[int, list[str]]) -> None:
    """Show saved answers in the form's fields (a GET, not a submitted form)."""
    for question in questions:
        field = form[question_field_name(question)]
        values = saved.get(question.id, [])
        if question.kind is QuestionKind.MULTIPLE_CHOICE:
            field.data = list(values)
        else:
            field.data = values[0] if values else None


# Saved answers


def saved_answers(invitation_ids: list[int]) -> dict[int, dict[int, list[str]]]:
    """The saved answers of these invitations, {invitation id: {question id: values}}, in one
    query."""
    if not invitation_ids:
        return {}
    rows = db.session.execute(
        select(QuestionAnswer.invitation_id, QuestionAnswer.question_id, QuestionAnswer.value)
        .where(QuestionAnswer.invitation_id.in_(set(invitation_ids)))
        .order_by(QuestionAnswer.id)
    )
    answers: dict[int, dict[int, list[str]]] = {}
    for invitation_id, question_id, value in rows:
        answers.setdefault(invitation_id, {})[question_id] = values_from_json(value)
    return answers


def save_answers(invitation: Invitation, answers: dict[int, list[str]], now: datetime) -> None:
    """Record the invitee's answers: given values replace the saved ones, an empty list erases
    the saved answer. Questions not in `answers` keep theirs; ids that are not questions of the
    invitation's meeting (a question deleted since a registration was filled in) are left out."""
    if not answers:
        return
    if invitation.id is None:
        db.session.flush()
    known = set(
        db.session.scalars(
            select(MeetingQuestion.id).where(
                MeetingQuestion.meeting_id == invitation.meeting_id,
                MeetingQuestion.id.in_(list(answers)),
            )
        )
    )
    answers = {
        question_id: values for question_id, values in answers.items() if question_id in known
    }
    existing = {
        row.question_id: row
        for row in db.session.scalars(
            select(QuestionAnswer).where(
                QuestionAnswer.invitation_id == invitation.id,
                QuestionAnswer.question_id.in_(list(answers)),
            )
        )
    }
    for question_id, values in answers.items():
        row = existing.get(question_id)
        if not values:
            if row is not None:
                db.session.delete(row)
            continue
        value = json.dumps(list(values), ensure_ascii=False)
        if row is None:
            db.session.add(
                QuestionAnswer(
                    question_id=question_id,
                    invitation_id=invitation.id,
                    value=value,
                    answered_at=now,
                )
            )
        elif row.value != value:
            row.value = value
            row.answered_at = now
    db.session.flush()


def values_from_json(text: str) -> list[str]:
    try:
        values = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(values, list):
        values = [values]
    return [str(value) for value in values if value is not None]


def answers_to_json(answers: dict[int, list[str]]) -> str:
    """Answers as JSON text ({"12": ["…"]}), as a registration keeps them until confirmed."""
    return json.dumps(
        {str(question_id): list(values) for question_id, values in answers.items()},
        ensure_ascii=False,
    )


def answers_from_json(text: str) -> dict[int, list[str]]:
    """The answers of `answers_to_json`; anything unreadable is left out."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    answers = {}
    for key, values in data.items():
        try:
            question_id = int(key)
        except (TypeError, ValueError):
            continue
        if not isinstance(values, list):
            values = [values]
        answers[question_id] = [str(value) for value in values if value is not None]
    return answers


# Showing answers


@dataclass(frozen=True)
class AnswerPart:
    """One value of an answer as shown: `former` when the question no longer offers it."""

    text: str
    former: bool = False


def answer_parts(question: MeetingQuestion, values: list[str]) -> list[AnswerPart]:
    if question.kind is QuestionKind.YES_NO:
        names = {YES: _("Yes"), NO: _("No")}
        return [AnswerPart(names.get(value, value), value not in names) for value in values]
    if question.kind in CHOICE_KINDS:
        offered = set(question.choice_list)
        return [AnswerPart(value, value not in offered) for value in values]
    return [AnswerPart(value) for value in values]


def shown_answers(
    questions: list[MeetingQuestion], saved: dict[int, dict[int, list[str]]]
) -> dict[int, list[tuple[MeetingQuestion, list[AnswerPart]]]]:
    """The answers of each invitation of `saved` (from saved_answers) as a page shows them:
    {invitation id: [(question, parts)]}, in the order of `questions`, unanswered ones left
    out."""
    return {
        invitation_id: [
            (question, answer_parts(question, answers[question.id]))
            for question in questions
            if answers.get(question.id)
        ]
        for invitation_id, answers in saved.items()
    }


def question_heading(question: MeetingQuestion) -> str:
    """A question's column heading in the exports; a removed question says so."""
    if question.removed_at is not None:
        return _("%(label)s (removed question)", label=question.label)
    return question.label


def format_answer(question: MeetingQuestion, values: list[str]) -> str:
    """An answer as one line of text, for the exports: values joined with "; "."""
    return "; ".join(
        _("%(value)s (former choice)", value=part.text) if part.former else part.text
        for part in answer_parts(question, values)
    )


# Counts per choice


@dataclass
class ChoiceCount:
    choice: str
    count: int = 0
    former: bool = False


@dataclass
class QuestionCounts:
    question: MeetingQuestion
    choices: list[ChoiceCount]
    answered: int = 0


def choice_counts(meeting: Meeting) -> list[QuestionCounts]:
    """For each active choice or yes/no question, how many of those coming chose each
    choice (a choice no longer offered but still chosen comes last, marked former). Two
    queries whatever the number of questions and invitees."""
    questions = [q for q in active_questions(meeting) if q.kind in COUNTED_KINDS]
    if not questions:
        return []
    rows = db.session.execute(
        select(QuestionAnswer.question_id, QuestionAnswer.value)
        .join(Invitation, Invitation.id == QuestionAnswer.invitation_id)
        .where(
            QuestionAnswer.question_id.in_([q.id for q in questions]),
            Invitation.answer == Answer.COMING,
        )
    )
    tallies = {question.id: counts_of(question) for question in questions}
    for question_id, value in rows:
        tally = tallies[question_id]
        tally.answered += 1
        for choice in values_from_json(value):
            count = next((c for c in tally.choices if c.choice == choice), None)
            if count is None:
                count = ChoiceCount(choice, former=True)
                tally.choices.append(count)
            count.count += 1
    return list(tallies.values())


def counts_of(question: MeetingQuestion) -> QuestionCounts:
    if question.kind is QuestionKind.YES_NO:
        choices = [ChoiceCount(YES), ChoiceCount(NO)]
    else:
        choices = [ChoiceCount(choice) for choice in question.choice_list]
    return QuestionCounts(question, choices)


# The organiser's changes


@dataclass(frozen=True)
class QuestionData:
    kind: QuestionKind
    label: str
    help_text: str = ""
    required: bool = False
    choices: list[str] | None = None


def add_question(meeting: Meeting, data: QuestionData, now: datetime) -> MeetingQuestion:
    """A new question, asked after the meeting's others."""
    last = db.session.scalar(
        select(func.max(MeetingQuestion.position)).where(MeetingQuestion.meeting_id == meeting.id)
    )
    question = MeetingQuestion(
        meeting=meeting,
        position=(last or 0) + 1,
        created_at=now,
        updated_at=now,
    )
    apply(question, data, now)
    db.session.add(question)
    db.session.flush()
    return question


def update_question(question: MeetingQuestion, data: QuestionData, now: datetime) -> None:
    """Change a question. Saved answers are kept as they were typed or chosen: a renamed or
    removed choice shows as a former choice."""
    if data.kind is not question.kind and not kind_change_allowed(question, data.kind):
        raise QuestionChangeError(
            _("This question has answers: its kind can no longer change this way.")
        )
    apply(question, data, now)
    db.session.flush()


class QuestionChangeError(Exception):
    """A change that would make saved answers unreadable."""


def kind_change_allowed(question: MeetingQuestion, kind: QuestionKind) -> bool:
    if kind is question.kind or not has_answers(question):
        return True
    return kind in COMPATIBLE_KINDS.get(question.kind, set())


def apply(question: MeetingQuestion, data: QuestionData, now: datetime) -> None:
    question.kind = data.kind
    question.label = data.label
    question.help_text = data.help_text
    question.required = data.required
    question.choices = "\n".join(data.choices or []) if data.kind in CHOICE_KINDS else ""
    question.updated_at = now


def move_question(question: MeetingQuestion, offset: int, now: datetime) -> None:
    """Move an active question up (-1) or down (+1) among the meeting's active questions."""
    questions = active_questions(question.meeting)
    index = questions.index(question)
    target = index + offset
    if not 0 <= target < len(questions):
        return
    questions[index], questions[target] = questions[target], questions[index]
    for position, each in enumerate(questions, start=1):
        if each.position != position:
            each.position = position
            each.updated_at = now
    db.session.flush()


def remove_question(question: MeetingQuestion, now: datetime) -> bool:
    """Take a question off the forms. With answers, it is only marked removed, so its answers
    stay in the answer list and the exports; without, it is deleted. True when deleted."""
    if has_answers(question):
        question.removed_at = now
        question.updated_at = now
        db.session.flush()
        return False
    db.session.delete(question)
    db.session.flush()
    return True
