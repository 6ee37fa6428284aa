"""The organiser's forms of the questions page: one question, and the confirmation buttons."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length

from app.models import MeetingQuestion, QuestionKind
from app.questions.services import CHOICE_KINDS, QuestionData

MAX_LABEL_LENGTH = 300
MAX_HELP_LENGTH = 1000
MAX_CHOICE_LENGTH = 200
MAX_CHOICES = 30

KIND_LABELS = {
    QuestionKind.SHORT_TEXT: _l("Short text"),
    QuestionKind.LONG_TEXT: _l("Long text"),
    QuestionKind.SINGLE_CHOICE: _l("One choice among several"),
    QuestionKind.MULTIPLE_CHOICE: _l("Several choices possible"),
    QuestionKind.YES_NO: _l("Yes or no"),
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def choice_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class QuestionForm(FlaskForm):
    label = StringField(
        _l("Question"),
        validators=[DataRequired(), Length(max=MAX_LABEL_LENGTH)],
        filters=[strip],
    )
    kind = RadioField(
        _l("Kind of answer"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        default=QuestionKind.SHORT_TEXT.value,
        validators=[InputRequired()],
    )
    choices = TextAreaField(
        _l("Choices, one per line"),
        filters=[strip],
        render_kw={"rows": 5},
    )
    required = BooleanField(_l("An answer is required"))
    help_text = TextAreaField(
        _l("Help text (optional)"),
        validators=[Length(max=MAX_HELP_LENGTH)],
        filters=[strip],
        render_kw={"rows": 2},
    )

    @classmethod
    def for_question(cls, question: MeetingQuestion) -> "QuestionForm":
        return cls(
            label=question.label,
            kind=question.kind.value,
            choices=question.choices,
            required=question.required,
            help_text=question.help_text,
        )

    @property
    def question_kind(self) -> QuestionKind:
        return QuestionKind(self.kind.data)

    def validate_choices(self, field) -> None:
        if self.kind.data not in {kind.value for kind in CHOICE_KINDS}:
            return
        choices = choice_lines(field.data)
        if len(choices) < 2:
            raise ValidationError(_l("Give at least two choices, one per line."))
        if len(choices) > MAX_CHOICES:
            raise ValidationError(
                _l("Give at most %(num)s choices.", num=MAX_CHOICES),
            )
        if any(len(choice) > MAX_CHOICE_LENGTH for choice in choices):
            raise ValidationError(
                _l("A choice is at most %(num)s characters long.", num=MAX_CHOICE_LENGTH)
            )
        seen = set()
        for choice in choices:
            if choice.casefold() in seen:
                raise ValidationError(_l("“%(choice)s” is given twice.", choice=choice))
            seen.add(choice.casefold())

    def to_data(self) -> QuestionData:
        return QuestionData(
            kind=self.question_kind,
            label=self.label.data,
            help_text=self.help_text.data or "",
            required=self.required.data,
            choices=choice_lines(self.choices.data),
        )


class ConfirmForm(FlaskForm):
    """A button whose POST carries the CSRF token."""
