"""Forms of open meetings: the public registration form (its meeting's questions are added by
app/questions/services.form_with_questions), and the organisers' list filter and refusal."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.contacts.labels import civility_choices
from app.contacts.normalise import InvalidValue, normalise_email
from app.models import Civility, RegistrationStatus
from app.registrations.services import STATUS_LABELS, RegistrationData, RegistrationFilters

NO_CIVILITY = ""


def strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_id(value) -> int | None:
    """The organisation id the suggestions script sets: anything but a number is none."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


class RegistrationForm(FlaskForm):
    """The public form; the session's CSRF token, as the page is public, not personal."""

    civility = RadioField(
        _l("Civility"),
        choices=[SelectChoice(NO_CIVILITY, _l("Not given")), *civility_choices()],
        default=NO_CIVILITY,
        validators=[Optional()],
    )
    first_name = StringField(
        _l("First name"),
        validators=[DataRequired(_l("Please give your first name.")), Length(max=100)],
        filters=[strip],
    )
    last_name = StringField(
        _l("Last name"),
        validators=[DataRequired(_l("Please give your last name.")), Length(max=100)],
        filters=[strip],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Please give your e-mail address.")), Length(max=254)],
        filters=[strip],
    )
    organisation = StringField(
        _l("Organisation"),
        validators=[Length(max=200)],
        filters=[strip],
    )
    # Set by the suggestions script when a directory organisation is picked; checked against
    # the text by the services.
    organisation_id = HiddenField(filters=[optional_id])
    function = StringField(_l("Function"), validators=[Length(max=200)], filters=[strip])
    consent = BooleanField(
        _l("I agree to the use of my details described above."),
        validators=[InputRequired(_l("Please agree to register."))],
    )
    # The honeypot: hidden from people and their screen readers, filled in by robots.
    website = StringField(_l("Leave this field empty"))

    def validate_email(self, field) -> None:
        try:
            field.data = normalise_email(field.data or "")
        except InvalidValue as error:
            raise ValidationError(error.message) from error

    @property
    def is_robot(self) -> bool:
        return bool((self.website.data or "").strip())

    def civility_value(self) -> Civility | None:
        try:
            return Civility(self.civility.data) if self.civility.data else None
        except ValueError:
            return None

    def registration_data(self, answers: str, consent_text: str) -> RegistrationData:
        return RegistrationData(
            civility=self.civility_value(),
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
            function=self.function.data or "",
            organisation_name=self.organisation.data or "",
            organisation_id=self.organisation_id.data,
            answers=answers,
            consent_text=consent_text,
        )


class RegistrationFilterForm(FlaskForm):
    """The organisers' list filter: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), filters=[strip])
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All registrations"))]
        + [SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()],
        default="",
        validate_choice=False,
    )

    def filters(self) -> RegistrationFilters:
        try:
            status = RegistrationStatus(self.status.data) if self.status.data else None
        except ValueError:
            status = None
        return RegistrationFilters(status=status, query=self.q.data or "")


class RefuseRegistrationForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Length(max=2000)],
        filters=[strip],
        description=_l("Sent to the person in the e-mail telling them."),
    )
