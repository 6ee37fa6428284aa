"""Forms of the attendance pages: the record's filters, marking, times, closing, the
check-in page's code and walk-in forms, and the proxy and quorum rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TimeField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.attendance import proxies, services
from app.contacts.forms import choice_value
from app.contacts.labels import select_choices
from app.contacts.services import ContactData
from app.models import Attendance, OrganisationKind
from app.organisations.services import OrganisationData, organisation_choices

AUTOMATIC = "automatic"
WALK_INS = "walk_in"


def strip(value):
    return value.strip() if isinstance(value, str) else value


class RecordFilterForm(FlaskForm):
    """The record's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), filters=[strip])
    attendance = SelectField(_l("Attendance"), validate_choice=False)
    organisation = SelectField(_l("Organisation"), validate_choice=False)

    def __init__(self, *args, organisations: list[tuple[str, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attendance.choices = select_choices(
            [
                ("", _l("Everyone")),
                *((status.value, label) for status, label in services.ATTENDANCE_LABELS.items()),
                (WALK_INS, _l("Walk-ins")),
            ]
        )
        self.organisation.choices = select_choices([("", _l("All organisations")), *organisations])

    def filters(self) -> services.RecordFilters:
        status = self.attendance.data or ""
        organisation = self.organisation.data or ""
        return services.RecordFilters(
            query=self.q.data or "",
            attendance=next((a for a in Attendance if a.value == status), None),
            organisation_id=int(organisation) if organisation.isdigit() else None,
            walk_ins_only=status == WALK_INS,
        )


class MarkForm(FlaskForm):
    """One row's buttons: each submits its value in `attendance`."""

    attendance = SelectField(
        choices=select_choices(
            [(status.value, "") for status in services.MARKABLE] + [(AUTOMATIC, "")]
        ),
        validators=[DataRequired()],
    )

    def marked(self) -> Attendance | None:
        value = self.attendance.data
        return None if value == AUTOMATIC else Attendance(value)


class TimesForm(FlaskForm):
    arrived_at = TimeField(_l("Arrival"), validators=[Optional()])
    left_at = TimeField(_l("Departure"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button whose POST carries the CSRF token."""


class CheckinCodeForm(FlaskForm):
    code = StringField(
        _l("Check-in code"),
        validators=[DataRequired(_l("Type or scan a check-in code.")), Length(max=40)],
        filters=[strip],
    )


class WalkInContactForm(FlaskForm):
    """A directory contact added as a walk-in: its id comes from the search results."""

    contact_id = StringField(validators=[DataRequired()])


class NewWalkInForm(FlaskForm):
    """Someone unknown to the directory: created as a contact on the spot."""

    first_name = StringField(_l("First name"), validators=[Length(max=100)], filters=[strip])
    last_name = StringField(
        _l("Last name"),
        validators=[DataRequired(_l("Please give a last name.")), Length(max=100)],
        filters=[strip],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Please give an e-mail address.")), Length(max=254)],
        filters=[strip],
    )
    function = StringField(_l("Function"), validators=[Length(max=200)], filters=[strip])
    organisation_id = SelectField(_l("Organisation"), coerce=choice_value, validate_choice=False)
    new_organisation = StringField(
        _l("Or a new organisation"), validators=[Length(max=200)], filters=[strip]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = select_choices([("", _l("(none)")), *organisation_choices()])

    def contact_data(self) -> ContactData:
        organisation = self.organisation_id.data or ""
        return ContactData(
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
            function=self.function.data or "",
            organisation_id=int(organisation) if organisation.isdigit() else None,
        )

    def organisation_data(self) -> OrganisationData | None:
        """A new organisation, when one is named (it wins over the menu)."""
        if not self.new_organisation.data:
            return None
        return OrganisationData(name=self.new_organisation.data, kind=OrganisationKind.OTHER)


class RulesForm(FlaskForm):
    """The meeting's proxy and quorum rules."""

    proxies_allowed = BooleanField(_l("Members who cannot come may give a proxy"))
    max_proxies_per_holder = IntegerField(
        _l("Proxies one person may hold"),
        validators=[InputRequired(_l("Give a number.")), NumberRange(min=1, max=20)],
        default=1,
    )
    quorum = StringField(
        _l("Quorum"),
        description=_l(
            "A number of members (12) or a fraction of the members invited (1/2, 2/3); "
            "empty: no quorum."
        ),
        validators=[Length(max=20)],
        filters=[strip],
    )

    def validate_quorum(self, field) -> None:
        try:
            self.quorum_rule = proxies.parse_quorum(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error.args[0])) from error


class ProxyForm(FlaskForm):
    """A proxy recorded by an organiser: who gives it, who holds it."""

    giver = SelectField(_l("Given by"), coerce=choice_value, validate_choice=False)
    holder = SelectField(_l("Held by"), coerce=choice_value, validate_choice=False)

    def __init__(self, *args, givers=(), holders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.giver.choices = select_choices([("", _l("Choose…")), *map(invitee_choice, givers)])
        self.holder.choices = select_choices([("", _l("Choose…")), *map(invitee_choice, holders)])

    def validate_giver(self, field) -> None:
        if not (field.data or "").isdigit():
            raise ValidationError(_l("Choose who gives the proxy."))

    def validate_holder(self, field) -> None:
        if not (field.data or "").isdigit():
            raise ValidationError(_l("Choose who holds the proxy."))


def invitee_choice(invitation) -> tuple[str, str]:
    """ "Koenders Anne (Centre social)" for a menu of invitees."""
    contact = invitation.contact
    name = f"{contact.last_name} {contact.first_name}".strip()
    if contact.organisation:
        name = f"{name} ({contact.organisation.name})"
    return str(invitation.id), name
