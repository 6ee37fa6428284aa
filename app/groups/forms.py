"""Forms of the working group pages: the group form, the list's filters, adding members from
the directory, by pasted addresses or by a CSV file, a member's role and departure, and
confirmations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length

from app.groups import services
from app.meetings.forms import MultiCheckboxField
from app.models import Group, GroupRole


def strip(value):
    return value.strip() if isinstance(value, str) else value


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, label) for role, label in services.ROLE_LABELS.items()]


def _role_value(value) -> str:
    return value.value if isinstance(value, GroupRole) else (value or "")


class GroupForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please give the group's name.")), Length(max=200)],
        filters=[strip],
    )
    description = TextAreaField(_l("Description"), filters=[strip])
    lead_organisations = SelectMultipleField(_l("Led by (organisations)"), coerce=int)
    organisers = MultiCheckboxField(_l("Organisers"), coerce=int)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, group: Group | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lead_organisations.choices = [
            SelectChoice(organisation.id, _organisation_label(organisation))
            for organisation in services.organisation_options()
        ]
        self.organisers.choices = [
            SelectChoice(user.id, user.name) for user in services.selectable_organisers(group)
        ]

    @classmethod
    def for_new_group(cls, author) -> "GroupForm":
        return cls(data={"organisers": [author.id]})

    @classmethod
    def for_group(cls, group: Group) -> "GroupForm":
        return cls(
            data={
                "name": group.name,
                "description": group.description,
                "lead_organisations": [lead.id for lead in group.lead_organisations],
                "organisers": [user.id for user in group.organisers],
            },
            group=group,
        )

    def validate_organisers(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("A group needs at least one organiser."))

    def to_data(self) -> services.GroupData:
        return services.GroupData(
            name=self.name.data or "",
            description=self.description.data or "",
            lead_organisation_ids=list(self.lead_organisations.data or []),
            organiser_ids=list(self.organisers.data or []),
        )


def _organisation_label(organisation) -> str:
    return f"{organisation.name} ({organisation.town})" if organisation.town else organisation.name


class GroupFilterForm(FlaskForm):
    """The search bar above the list: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"))
    state = SelectField(
        _l("Groups"),
        choices=[
            SelectChoice("active", _l("Active groups")),
            SelectChoice("archived", _l("Archived groups")),
            SelectChoice("all", _l("All groups")),
        ],
        default=services.DEFAULT_STATE,
        validate_choice=False,
    )

    def filters(self) -> services.GroupFilters:
        state = self.state.data if self.state.data in services.STATES else services.DEFAULT_STATE
        return services.GroupFilters(query=(self.q.data or "").strip(), state=state)


class MembershipFieldsMixin:
    """The role, the date of joining and whether to invite the newcomers to the meetings to
    come, shared by the two ways of adding members."""

    role = SelectField(
        _l("Role"), choices=role_choices(), coerce=_role_value, default=GroupRole.MEMBER.value
    )
    joined_on = DateField(_l("Member since"), validators=[InputRequired()])
    invite_upcoming = BooleanField(
        _l("Also invite them to the group's upcoming published meetings"), default=True
    )

    def chosen_role(self) -> GroupRole:
        return GroupRole(self.role.data)


class AddMembersForm(MembershipFieldsMixin, FlaskForm):
    """The selection under the directory search results."""

    contacts = SelectMultipleField(coerce=int, validate_choice=False)
    submit = SubmitField(_l("Add the selected people"))

    def validate_contacts(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Select at least one person."))


class PasteMembersForm(MembershipFieldsMixin, FlaskForm):
    addresses = TextAreaField(
        _l("E-mail addresses"),
        validators=[InputRequired(_l("Paste at least one e-mail address."))],
        render_kw={"rows": 10},
    )
    submit = SubmitField(_l("Add these people"))


class AddAllMembersForm(MembershipFieldsMixin, FlaskForm):
    """Adding every result of a directory search; `expected` is the number of results the
    organiser saw, so a directory that changed meanwhile asks again instead of surprising."""

    expected = HiddenField()
    submit = SubmitField(_l("Add them all"))

    def expected_count(self) -> int | None:
        value = self.expected.data or ""
        return int(value) if value.isdigit() else None


class ImportMembersForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Please choose a file."))])
    submit = SubmitField(_l("Preview the import"))


class ConfirmMembersImportForm(MembershipFieldsMixin, FlaskForm):
    submit = SubmitField(_l("Import and add to the group"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices(), coerce=_role_value)
    submit = SubmitField(_l("Change the role"))


class LeaveForm(FlaskForm):
    left_on = DateField(_l("Last day in the group"), validators=[InputRequired()])
    submit = SubmitField(_l("Record the departure"))


class ConfirmForm(FlaskForm):
    """A confirmation page's button: only its CSRF token matters."""

    submit = SubmitField(_l("Confirm"))
