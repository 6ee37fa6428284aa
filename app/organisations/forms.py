"""Forms of the organisation pages: the organisation form, the search bar and deletion."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.contacts.labels import kind_choices, select_choices
from app.contacts.normalise import InvalidValue
from app.models import OrganisationKind
from app.organisations.services import (
    DEFAULT_SORT,
    SORTS,
    OrganisationData,
    OrganisationFilters,
    normalise_website,
    town_choices,
)


def _kind_value(value) -> str:
    return value.value if isinstance(value, OrganisationKind) else (value or "")


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please give the organisation's name.")), Length(max=200)],
    )
    kind = SelectField(
        _l("Type"), choices=kind_choices(), coerce=_kind_value, default=OrganisationKind.OTHER
    )
    town = StringField(_l("Town"), validators=[Length(max=120)])
    postcode = StringField(
        _l("Postcode"),
        validators=[
            Optional(),
            Length(max=10),
            Regexp(r"^[0-9A-Za-z][0-9A-Za-z -]*$", message=_l("This is not a valid postcode.")),
        ],
    )
    website = StringField(_l("Website"), validators=[Length(max=500)])
    notes = TextAreaField(_l("Notes"))
    submit = SubmitField(_l("Save"))

    def validate_website(self, field) -> None:
        try:
            normalise_website(field.data or "")
        except InvalidValue as error:
            raise ValidationError(error.message) from error

    def organisation_data(self) -> OrganisationData:
        return OrganisationData(
            name=self.name.data or "",
            kind=OrganisationKind(self.kind.data),
            town=self.town.data or "",
            postcode=self.postcode.data or "",
            website=self.website.data or "",
            notes=self.notes.data or "",
        )


class OrganisationFilterForm(FlaskForm):
    """The search bar above the list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"))
    kind = SelectField(
        _l("Type"),
        choices=[*select_choices([("", _l("All types"))]), *kind_choices()],
        validate_choice=False,
    )
    town = SelectField(_l("Town"), validate_choice=False)
    to_review = BooleanField(_l("Only those to review"))
    sort = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.town.choices = select_choices([("", _l("All towns")), *town_choices()])

    def filters(self) -> OrganisationFilters:
        sort = self.sort.data or DEFAULT_SORT
        try:
            kind = OrganisationKind(self.kind.data) if self.kind.data else None
        except ValueError:
            kind = None
        return OrganisationFilters(
            query=(self.q.data or "").strip(),
            kind=kind,
            town=self.town.data or "",
            sort=sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT,
            to_review=bool(self.to_review.data),
        )


class DeleteOrganisationForm(FlaskForm):
    submit = SubmitField(_l("Delete this organisation"))
    # The button shown instead when the organisation has contacts: pressing it is the answer
    # to "what about its contacts?" (its label, with their number, is in the template).
    detach_contacts = SubmitField()
