"""Forms of the organisers' invitation pages: choosing invitees, pasting addresses, the
invitation text, answers taken by phone, the list's filters and the confirmation buttons."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, ValidationError

from app.contacts.forms import ContactFilterForm, choice_value, enum_or_none
from app.contacts.labels import civility_choices, select_choices
from app.invitations import services
from app.models import Answer, Civility
from app.organisations.services import organisation_choices

COMING, NOT_COMING = "yes", "no"
MAX_COMMENT_LENGTH = 2000


def strip(value):
    return value.strip() if isinstance(value, str) else value


class InviteeFilterForm(ContactFilterForm):
    """The directory search of the invite page: the contacts' filters, with the organisation
    as a menu. A GET form, so no CSRF token (inherited)."""

    organisation = SelectField(_l("Organisation"), validate_choice=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = select_choices(
            [("", _l("All organisations")), *organisation_choices()]
        )


class InviteForm(FlaskForm):
    """The selection under the search results; "invite all" takes the search's filters."""

    contacts = SelectMultipleField(coerce=int, validate_choice=False)
    invite_selected = SubmitField(_l("Invite the selected people"))
    invite_all = SubmitField(_l("Invite everyone matching the search"))

    def validate_contacts(self, field) -> None:
        if self.invite_selected.data and not field.data:
            raise ValidationError(_l("Select at least one person, or invite everyone."))


class PasteAddressesForm(FlaskForm):
    addresses = TextAreaField(
        _l("E-mail addresses"),
        validators=[InputRequired(_l("Paste at least one e-mail address."))],
        render_kw={"rows": 10},
    )
    submit = SubmitField(_l("Invite these people"))


class NewContactRowForm(Form):
    """One unknown address to create as a contact (no CSRF of its own: inside the page's)."""

    include = BooleanField(_l("Create and invite"), default=True)
    email = HiddenField()
    civility = SelectField(
        _l("Civility"),
        choices=[*select_choices([("", _l("(none)"))]), *civility_choices()],
        coerce=choice_value,
    )
    first_name = StringField(_l("First name"), validators=[Length(max=100)], filters=[strip])
    last_name = StringField(_l("Last name"), validators=[Length(max=100)], filters=[strip])

    def validate(self, extra_validators=None) -> bool:
        # An unticked row is left out: nothing in it needs to be right.
        if not self.include.data:
            return True
        return super().validate(extra_validators)

    def validate_last_name(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Please give a last name."))

    def to_row(self, organisation_id: int | None) -> services.NewContactRow:
        return services.NewContactRow(
            email=self.email.data or "",
            last_name=self.last_name.data or "",
            first_name=self.first_name.data or "",
            civility=enum_or_none(Civility, self.civility.data),
            organisation_id=organisation_id,
        )


class CreateContactsForm(FlaskForm):
    rows = FieldList(FormField(NewContactRowForm))
    organisation_id = SelectField(_l("Organisation of these new contacts"), coerce=choice_value)
    submit = SubmitField(_l("Create the contacts and invite them"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = select_choices(
            [("", _l("(no organisation)")), *organisation_choices()]
        )

    @classmethod
    def for_addresses(cls, addresses: list[services.NewAddress]) -> "CreateContactsForm":
        """Prefilled with the guessed names; not read from the request that pasted them."""
        rows = [
            {
                "include": True,
                "email": address.email,
                "first_name": address.first_name,
                "last_name": address.last_name,
            }
            for address in addresses
        ]
        return cls(formdata=None, data={"rows": rows})

    def contact_rows(self) -> list[services.NewContactRow]:
        organisation = self.organisation_id.data
        organisation_id = int(organisation) if organisation and organisation.isdigit() else None
        return [row.form.to_row(organisation_id) for row in self.rows if row.form.include.data]

    def show_row_errors(self, errors: dict) -> None:
        """Put the services' refusals next to the row and field they concern."""
        included = [row for row in self.rows if row.form.include.data]
        for index, error in errors.items():
            row = included[index].form
            error.show_on(row if error.field in row else self)


class InvitationTextForm(FlaskForm):
    # Both may be left empty when going back to the default text, hence no InputRequired.
    subject = StringField(_l("Subject"), validators=[Length(max=300)], filters=[strip])
    message = TextAreaField(_l("Message"), validators=[Length(max=10000)], render_kw={"rows": 8})
    save = SubmitField(_l("Save the text"))
    restore_default = SubmitField(_l("Go back to the default text"))

    def validate_subject(self, field) -> None:
        if not self.restore_default.data and not field.data:
            raise ValidationError(_l("Please give a subject."))

    def validate_message(self, field) -> None:
        if not self.restore_default.data and not (field.data or "").strip():
            raise ValidationError(_l("Please write a message."))


class RecordAnswerForm(FlaskForm):
    answer = RadioField(
        _l("Answer"),
        choices=select_choices([(COMING, _l("Coming")), (NOT_COMING, _l("Not coming"))]),
        validators=[InputRequired(_l("Choose the answer."))],
    )
    comment = TextAreaField(
        _l("Comment"), filters=[strip], validators=[Length(max=MAX_COMMENT_LENGTH)]
    )
    submit = SubmitField(_l("Record the answer"))

    @property
    def coming(self) -> bool:
        return self.answer.data == COMING


ANSWER_FILTERS = {
    "none": Answer.NONE,
    "coming": Answer.COMING,
    "not_coming": Answer.NOT_COMING,
    "waiting": Answer.WAITING,
}


class AnswerFilterForm(FlaskForm):
    """The answers list's filters: a GET form, so a filtered list can be bookmarked."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), filters=[strip])
    answer = SelectField(
        _l("Answer"),
        choices=select_choices(
            [
                ("", _l("All answers")),
                *((key, services.ANSWER_LABELS[answer]) for key, answer in ANSWER_FILTERS.items()),
            ]
        ),
        validate_choice=False,
    )
    organisation = SelectField(_l("Organisation"), validate_choice=False)
    email = SelectField(
        _l("E-mail"),
        choices=select_choices([("", _l("All e-mails")), *services.EMAIL_STATE_LABELS.items()]),
        validate_choice=False,
    )

    def __init__(self, *args, organisations: list[tuple[str, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = select_choices([("", _l("All organisations")), *organisations])

    def filters(self) -> services.AnswerFilters:
        organisation = self.organisation.data or ""
        email = self.email.data or ""
        return services.AnswerFilters(
            query=self.q.data or "",
            answer=ANSWER_FILTERS.get(self.answer.data or ""),
            organisation_id=int(organisation) if organisation.isdigit() else None,
            email=email if email in services.EMAIL_STATE_LABELS else "",
        )


class ConfirmForm(FlaskForm):
    """Only a CSRF token: the button of a confirmation page (send, revoke, remove...)."""
