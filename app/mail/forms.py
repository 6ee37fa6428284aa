"""Forms of the E-mails pages: the search bar above the list."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice

from app.mail.labels import STATUS_LABELS
from app.mail.services import MessageFilters
from app.models import MessageStatus


class MessageFilterForm(FlaskForm):
    """A GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"))
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(value="", label=_l("All statuses"))]
        + [
            SelectChoice(value=status.value, label=label) for status, label in STATUS_LABELS.items()
        ],
        validate_choice=False,
    )

    def filters(self) -> MessageFilters:
        try:
            status = MessageStatus(self.status.data) if self.status.data else None
        except ValueError:
            status = None
        return MessageFilters(status=status, query=(self.q.data or "").strip())
