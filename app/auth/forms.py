"""Forms of the accounts domain: setup, login, own account and administration of accounts."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.auth.services import (
    MAX_NAME_LENGTH,
    AccountError,
    check_new_email,
    password_matches,
    password_problems,
)
from app.models import User


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ProfileForm(FlaskForm):
    """A person's name and e-mail address, the address unused by any other account."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_email(self, field: EmailField) -> None:
        try:
            field.data = check_new_email(field.data, except_user=self.user)
        except AccountError as error:
            raise ValidationError(str(error)) from error


class AccountForm(ProfileForm):
    """The account page: the profile, and whether to receive the daily digest."""

    wants_digest = BooleanField(_l("Send me a daily digest of new answers to my meetings"))


class NewPasswordForm(FlaskForm):
    """Base of the forms choosing a password: typed twice and checked against the policy."""

    password = PasswordField(
        _l("Password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are different.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def account_identity(self) -> tuple[str, str]:
        """The name and e-mail address the password must not contain."""
        raise NotImplementedError

    def validate_password(self, field: PasswordField) -> None:
        problems = password_problems(field.data, *self.account_identity())
        if problems:
            raise ValidationError(" ".join(problems))


class SetupForm(ProfileForm, NewPasswordForm):
    """The first administrator."""

    def account_identity(self) -> tuple[str, str]:
        return self.name.data or "", self.email.data or ""


class NewUserForm(SetupForm):
    """An account created by an administrator, with its initial password."""

    is_admin = BooleanField(_l("Administrator"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.password.label.text = _("Initial password")
        self.password_again.label.text = _("Initial password again")


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.password.label.text = _("New password")
        self.password_again.label.text = _("New password again")

    def account_identity(self) -> tuple[str, str]:
        return self.user.name, self.user.email

    def validate_current_password(self, field: PasswordField) -> None:
        if not password_matches(self.user, field.data):
            raise ValidationError(_("This is not your current password."))


class LoginForm(FlaskForm):
    # No check of the address's form: any mistake gets the same answer as a wrong password.
    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[DataRequired()],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Remember me on this device"))
