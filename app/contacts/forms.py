"""Forms of the contact pages: the contact form, the search bar, deletion and the CSV upload."""

import enum

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from app.contacts.labels import civility_choices, kind_choices, select_choices
from app.contacts.normalise import InvalidValue, normalise_email, normalise_phone
from app.contacts.services import DEFAULT_SORT, SORTS, ContactData, ContactFilters
from app.models import Civility, OrganisationKind
from app.organisations.services import organisation_choices, town_choices


def choice_value(value) -> str:
    """A model value (enum, id or None) as the string a <select> option carries."""
    if isinstance(value, enum.Enum):
        return value.value
    return "" if value is None else str(value)


def enum_or_none(kind: type[enum.Enum], value: str | None):
    try:
        return kind(value) if value else None
    except ValueError:
        return None


class ContactForm(FlaskForm):
    civility = SelectField(
        _l("Civility"),
        choices=[*select_choices([("", _l("(none)"))]), *civility_choices()],
        coerce=choice_value,
    )
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(
        _l("Last name"),
        validators=[DataRequired(_l("Please give a last name.")), Length(max=100)],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Please give an e-mail address.")), Length(max=254)],
    )
    phone = TelField(_l("Phone"), validators=[Length(max=30)])
    function = StringField(_l("Function"), validators=[Length(max=200)])
    organisation_id = SelectField(_l("Organisation"), coerce=choice_value)
    notes = TextAreaField(_l("Notes"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = select_choices(
            [("", _l("(no organisation)")), *organisation_choices()]
        )

    def validate_email(self, field) -> None:
        try:
            normalise_email(field.data or "")
        except InvalidValue as error:
            raise ValidationError(error.message) from error

    def validate_phone(self, field) -> None:
        try:
            normalise_phone(field.data or "")
        except InvalidValue as error:
            raise ValidationError(error.message) from error

    def contact_data(self) -> ContactData:
        return ContactData(
            civility=enum_or_none(Civility, self.civility.data),
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or "",
            function=self.function.data or "",
            organisation_id=int(self.organisation_id.data) if self.organisation_id.data else None,
            notes=self.notes.data or "",
        )


class ContactFilterForm(FlaskForm):
    """The search bar above the list (and the export): a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"))
    kind = SelectField(
        _l("Type of organisation"),
        choices=[*select_choices([("", _l("All types"))]), *kind_choices()],
        validate_choice=False,
    )
    town = SelectField(_l("Town"), validate_choice=False)
    organisation = HiddenField()
    sort = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.town.choices = select_choices([("", _l("All towns")), *town_choices()])

    def filters(self) -> ContactFilters:
        sort = self.sort.data or DEFAULT_SORT
        organisation = self.organisation.data or ""
        return ContactFilters(
            query=(self.q.data or "").strip(),
            kind=enum_or_none(OrganisationKind, self.kind.data),
            town=self.town.data or "",
            organisation_id=int(organisation) if organisation.isdigit() else None,
            sort=sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT,
        )


class DeleteContactForm(FlaskForm):
    submit = SubmitField(_l("Delete this contact"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Please choose a file."))])
    submit = SubmitField(_l("Preview the import"))


class ConfirmImportForm(FlaskForm):
    submit = SubmitField(_l("Import"))
