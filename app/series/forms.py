"""Series forms: the rhythm of a new series, made from one of its meetings."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from app.models import SeriesFrequency
from app.series.services import MAX_OCCURRENCES, SeriesData

FREQUENCY_LABELS = {
    SeriesFrequency.WEEKLY: _l("Every N weeks, on the same weekday"),
    SeriesFrequency.MONTHLY_BY_WEEKDAY: _l(
        "Every N months, on the Nth weekday (“the 2nd Tuesday”)"
    ),
    SeriesFrequency.MONTHLY_BY_DAY: _l("Every N months, on the same day of the month"),
}
WEEK_OF_MONTH_LABELS = {
    1: _l("first"),
    2: _l("second"),
    3: _l("third"),
    4: _l("fourth"),
    -1: _l("last"),
}


class SeriesForm(FlaskForm):
    frequency = SelectField(
        _l("Rhythm"),
        choices=[SelectChoice(value.value, label) for value, label in FREQUENCY_LABELS.items()],
        validators=[InputRequired()],
    )
    step = IntegerField(
        _l("Every how many weeks or months"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=12)],
    )
    week_of_month = SelectField(
        _l("Which weekday of the month"),
        choices=[
            SelectChoice(str(number), label) for number, label in WEEK_OF_MONTH_LABELS.items()
        ],
        default="2",
    )
    start_date = DateField(_l("First date"), validators=[InputRequired()])
    end_date = DateField(_l("Last date"), validators=[Optional()])
    occurrences = IntegerField(
        _l("Or number of meetings"),
        validators=[Optional(), NumberRange(min=1, max=MAX_OCCURRENCES)],
    )
    skipped_dates = TextAreaField(_l("Dates to skip"))

    def validate_skipped_dates(self, field) -> None:
        self.skipped = []
        for line in (field.data or "").splitlines():
            if not line.strip():
                continue
            try:
                self.skipped.append(datetime.strptime(line.strip(), "%d/%m/%Y").date())
            except ValueError as error:
                raise ValidationError(
                    _l("“%(line)s” is not a date written as DD/MM/YYYY.", line=line.strip())
                ) from error

    def to_data(self) -> SeriesData:
        frequency = SeriesFrequency(self.frequency.data)
        return SeriesData(
            frequency=frequency,
            start_date=self.start_date.data,
            step=self.step.data,
            week_of_month=int(self.week_of_month.data)
            if frequency is SeriesFrequency.MONTHLY_BY_WEEKDAY
            else None,
            end_date=self.end_date.data,
            occurrences=self.occurrences.data,
            skipped_dates=list(getattr(self, "skipped", [])),
        )

    @classmethod
    def for_meeting(cls, first_date: date) -> "SeriesForm":
        return cls(data={"start_date": first_date})
