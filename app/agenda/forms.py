"""The agenda's filters: a GET form, so a filtered agenda can be bookmarked, shared and
subscribed to."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.agenda.services import AgendaFilters
from app.models import Group

MAX_TOWN_LENGTH = 120
# Larger numbers are no identifier, and overflow SQLite's integers.
MAX_ID_DIGITS = 18


def strip(value):
    return value.strip() if isinstance(value, str) else value


class AgendaFilterForm(FlaskForm):
    class Meta:
        csrf = False

    # The choices depend on what is planned (filters()); other values are checked below.
    group = SelectField(_l("Working group"), filters=[strip], validate_choice=False)
    town = SelectField(_l("Town"), filters=[strip], validate_choice=False)

    def requested_group_id(self) -> int | None:
        """The group asked for, when the value is a number a database can compare at all."""
        value = self.group.data or ""
        if value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS:
            return int(value)
        return None

    def filters(self, groups: list[Group], towns: list[str]) -> AgendaFilters:
        """Offer `groups` and `towns` as choices, and return the filters to apply. A value that
        does not validate is not applied: its field shows why, and "all" is selected."""
        self.group.choices = [("", _("All groups"))] + [(str(g.id), g.name) for g in groups]
        town = self.town.data or ""
        if town and town not in towns and len(town) <= MAX_TOWN_LENGTH:
            # A town where nothing is planned now (a bookmarked filter): selected, with no
            # meeting under it.
            towns = [*towns, town]
        self.town.choices = [("", _("All towns"))] + [(name, name) for name in towns]
        self.validate()
        for field in (self.group, self.town):
            if field.errors:
                field.data = ""
        return AgendaFilters(group_id=self.requested_group_id(), town=self.town.data or "")

    def validate_group(self, field) -> None:
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_("This group is unknown or archived: all groups are shown."))

    def validate_town(self, field) -> None:
        if len(field.data or "") > MAX_TOWN_LENGTH:
            raise ValidationError(_("This is not a town's name: all towns are shown."))
