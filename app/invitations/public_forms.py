"""The forms of the invitee's personal page: the answer, and the colleague sent in their place.
(Leaving the waiting list is a one-button form, rendered by the button_form macro.)"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.contacts.services import ContactData

COMING, NOT_COMING = "yes", "no"
MAX_COMMENT_LENGTH = 2000
# Shared by the form, which validates an answer, and the page, which shows the fields.
ANSWER_LABEL = _l("Will you attend?")
ANSWER_OPTIONS = (
    SelectChoice(value=COMING, label=_l("I will attend")),
    SelectChoice(value=NOT_COMING, label=_l("I cannot attend")),
)
COMMENT_LABEL = _l("Comment (optional)")


def strip(value):
    return value.strip() if isinstance(value, str) else value


class AnswerForm(FlaskForm):
    class Meta:
        # The personal page checks the token of its link instead (public_routes.py).
        csrf = False

    answer = RadioField(
        ANSWER_LABEL,
        choices=list(ANSWER_OPTIONS),
        validators=[InputRequired(message=_l("Choose whether you will attend."))],
    )
    comment = TextAreaField(
        COMMENT_LABEL,
        filters=[strip],
        validators=[Length(max=MAX_COMMENT_LENGTH)],
    )

    @property
    def coming(self) -> bool:
        return self.answer.data == COMING

    @property
    def questions_required(self) -> bool:
        """The meeting's required questions (app/questions) need an answer from those coming
        only."""
        return self.coming


@dataclass(frozen=True)
class AnswerFields:
    """What the page shows in the form's fields. The page is shown far more often than it is
    answered: built from the invitation, this spares the building of a form on every view."""

    answer: str | None
    comment: str | None
    answer_errors: str = ""
    comment_errors: str = ""

    @classmethod
    def of(cls, form: AnswerForm) -> "AnswerFields":
        """The fields as a submitted form left them, with its errors."""
        return cls(
            form.answer.data,
            form.comment.data,
            " ".join(map(str, form.answer.errors)),
            " ".join(map(str, form.comment.errors)),
        )


class SubstituteForm(FlaskForm):
    """The colleague an invitee sends in their place."""

    class Meta:
        # The personal page checks the token of its link instead (public_routes.py).
        csrf = False

    first_name = StringField(_l("First name"), validators=[Length(max=100)], filters=[strip])
    last_name = StringField(
        _l("Last name"),
        validators=[InputRequired(_l("Please give a last name.")), Length(max=100)],
        filters=[strip],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(_l("Please give an e-mail address.")), Length(max=254)],
        filters=[strip],
    )

    def contact_data(self) -> ContactData:
        return ContactData(
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
        )
