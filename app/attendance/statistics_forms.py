"""The filters of the organisation statistics: a period and a search by name."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SearchField
from wtforms.validators import Optional, ValidationError

from app.attendance.statistics import Period

# Dates people may mean; beyond them the period's bounds cannot even be computed.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def within_range(form, field) -> None:
    if field.data is not None and not FIRST_DATE <= field.data <= LAST_DATE:
        raise ValidationError(_l("Give a date between the years 1900 and 2999."))


class OrganisationStatisticsForm(FlaskForm):
    """A GET form, so no CSRF token; an empty date means the default period's."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional(), within_range])
    end = DateField(_l("To"), validators=[Optional(), within_range])
    q = SearchField(_l("Organisation"), filters=[strip])

    def __init__(self, formdata, default: Period) -> None:
        # The default period fills the fields, so people see which dates they are reading.
        super().__init__(formdata=formdata, data={"start": default.start, "end": default.end})
        self.default = default

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        # Checked on the period itself: a date left out is the default period's.
        period = self.period()
        if period.end < period.start:
            self.end.errors.append(_l("The end date cannot be before the start date."))
            return False
        return True

    def period(self) -> Period:
        """The dates asked for; a date left empty is the default period's."""
        return Period(self.start.data or self.default.start, self.end.data or self.default.end)
