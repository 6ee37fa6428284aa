"""Forms of the feeds and of the invitee's own page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from app.contacts.normalise import InvalidValue, normalise_phone


def strip(value):
    return value.strip() if isinstance(value, str) else value


class FeedTokenForm(FlaskForm):
    """Confirms creating, replacing or revoking a group's feed address: its CSRF token only."""


class ConfirmLinkForm(FlaskForm):
    """A confirmation on the invitee's own page, which checks its link's token instead of the
    session's (public_routes.check_csrf_token)."""

    class Meta:
        csrf = False


class OwnDetailsForm(ConfirmLinkForm):
    """The contact's own phone and function; not their e-mail, which their links go to."""

    phone = StringField(_l("Phone"), filters=[strip], validators=[Length(max=30)])
    function = StringField(_l("Function"), filters=[strip], validators=[Length(max=200)])

    def validate_phone(self, field) -> None:
        try:
            field.data = normalise_phone(field.data or "")
        except InvalidValue as error:
            raise ValidationError(error.message) from error
