"""Forms of the reminder pages: one reminder of the schedule, the texts of the reminder and
the follow-up, and the confirmation buttons."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from app.contacts.labels import select_choices
from app.models import Reminder, ReminderAnchor, ReminderAudience, ReminderUnit
from app.reminders import services


def strip(value):
    return value.strip() if isinstance(value, str) else value


def enum_choices(labels: dict) -> list:
    return select_choices((member.value, label) for member, label in labels.items())


class ReminderForm(FlaskForm):
    """ "7 days before the start of the meeting, to those coming": the services check the
    range and the rest, so that the rules live in one place."""

    amount = IntegerField(
        _l("How long before"),
        validators=[InputRequired(_l("Give a number."))],
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    unit = SelectField(
        _l("Unit"), choices=enum_choices(services.UNIT_LABELS), default=ReminderUnit.DAYS.value
    )
    anchor = SelectField(
        _l("Before"),
        choices=enum_choices(services.ANCHOR_LABELS),
        default=ReminderAnchor.START.value,
    )
    audience = SelectField(
        _l("Sent to"),
        choices=enum_choices(services.AUDIENCE_LABELS),
        default=ReminderAudience.COMING.value,
    )

    @classmethod
    def for_reminder(cls, reminder: Reminder) -> "ReminderForm":
        return cls(
            data={
                "amount": reminder.amount,
                "unit": reminder.unit.value,
                "anchor": reminder.anchor.value,
                "audience": reminder.audience.value,
            }
        )

    def to_data(self) -> services.ReminderData:
        return services.ReminderData(
            amount=self.amount.data,
            unit=ReminderUnit(self.unit.data),
            anchor=ReminderAnchor(self.anchor.data),
            audience=ReminderAudience(self.audience.data),
        )

    def show_problems(self, problems: dict[str, str]) -> None:
        """Put the services' refusals next to the fields they concern."""
        for name, message in problems.items():
            self[name].errors = [*self[name].errors, message]


class ReminderTextForm(FlaskForm):
    """The subject and opening text of the reminder or of the follow-up. Both are on one
    page, so each form is named by its audience (the prefix of its fields)."""

    # Both may be left empty when going back to the default text, hence no InputRequired.
    subject = StringField(_l("Subject"), validators=[Length(max=300)], filters=[strip])
    message = TextAreaField(_l("Message"), validators=[Length(max=10000)], render_kw={"rows": 8})
    save = SubmitField(_l("Save the text"))
    restore_default = SubmitField(_l("Go back to the default text"))

    @classmethod
    def for_audience(cls, audience: ReminderAudience, text: tuple[str, str]) -> "ReminderTextForm":
        """The posted values if this form is the one submitted, else the `text` in use."""
        form = cls(prefix=audience.value)
        if form.submitted_here:
            return form
        subject, message = text
        return cls(
            prefix=audience.value, formdata=None, data={"subject": subject, "message": message}
        )

    @property
    def submitted_here(self) -> bool:
        return self.is_submitted() and bool(self.save.data or self.restore_default.data)

    def validate_subject(self, field) -> None:
        if not self.restore_default.data and not field.data:
            raise ValidationError(_l("Please give a subject."))

    def validate_message(self, field) -> None:
        if not self.restore_default.data and not (field.data or "").strip():
            raise ValidationError(_l("Please write a message."))


class ConfirmForm(FlaskForm):
    """Only a CSRF token: the button of a confirmation page (delete, send again)."""
