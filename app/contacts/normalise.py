"""Checks and canonical forms of e-mail addresses and phone numbers, shared by forms and imports,
and the error services raise to refuse a value for one form field."""

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

PHONE_REGION = "FR"


class InvalidValue(ValueError):
    """A value that cannot be stored; `message` says why, for the person who typed it."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


class FieldError(Exception):
    """A service refusing a value: `field` names the form field where `message` belongs."""

    def __init__(self, field: str, message) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def show_on(self, form) -> None:
        """Put the message next to its field, as the form's own validators would."""
        field = form[self.field]
        field.errors = [*field.errors, self.message]


def normalise_email(raw: str) -> str:
    """The address lower-cased, or InvalidValue. Never asks DNS: forms and imports stay offline."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidValue(_l("This is not a valid e-mail address.")) from error
    return result.normalized.lower()


def normalise_phone(raw: str) -> str:
    """ "01 23 45 67 89" for French numbers, "+44 20 7946 0958" for others; "" stays ""."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise InvalidValue(_l("This is not a valid phone number.")) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(_l("This is not a valid phone number."))
    if phonenumbers.region_code_for_number(number) == PHONE_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
