"""The form of the invitee's personal page. (Leaving the waiting list is a one-button form,
rendered by the button_form macro.)"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

COMING, NOT_COMING = "yes", "no"
MAX_COMMENT_LENGTH = 2000


def strip(value):
    return value.strip() if isinstance(value, str) else value


class AnswerForm(FlaskForm):
    answer = RadioField(
        _l("Will you attend?"),
        choices=[
            SelectChoice(value=COMING, label=_l("I will attend")),
            SelectChoice(value=NOT_COMING, label=_l("I cannot attend")),
        ],
        validators=[InputRequired(message=_l("Choose whether you will attend."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_COMMENT_LENGTH)],
        render_kw={"rows": 3},
    )

    @property
    def coming(self) -> bool:
        return self.answer.data == COMING
