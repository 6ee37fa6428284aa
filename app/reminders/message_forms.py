"""The form of a message to a segment of a meeting's invitees: writing it, its preview, sending."""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from app.contacts.labels import select_choices
from app.models import Segment
from app.reminders import messages


class MessageForm(FlaskForm):
    """One form for both steps: the preview page carries the typed values in hidden fields,
    with `sent_after` (see messages.send_message), and its buttons send or go back to edit."""

    segment = RadioField(
        _l("Send to"), validators=[InputRequired(_l("Choose who receives the message."))]
    )
    # The rules are the service's (MessageDraft); these only mark the fields as required.
    subject = StringField(_l("Subject"), validators=[InputRequired(_l("Please give a subject."))])
    body = TextAreaField(
        _l("Message"),
        validators=[InputRequired(_l("Please write a message."))],
        render_kw={"rows": 12},
    )
    sent_after = HiddenField()
    preview = SubmitField(_l("Preview"))
    edit = SubmitField(_l("Change the message"))
    send = SubmitField(_l("Send"))

    def __init__(self, *args, counts: dict[Segment, int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.segment.choices = select_choices(
            (
                segment.value,
                ngettext(
                    "%(segment)s: %(num)s person",
                    "%(segment)s: %(num)s people",
                    counts[segment],
                    segment=label,
                ),
            )
            for segment, label in messages.SEGMENT_LABELS.items()
        )

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the message rules, each shown next to the field it concerns."""
        valid = super().validate(extra_validators)
        # The segment changes nothing in the text's rules: any one will do while it is missing.
        segment = Segment.ALL if self.segment.errors else Segment(self.segment.data)
        problems = self.draft(segment).problems()
        self.show_problems(problems)
        return valid and not problems

    def show_problems(self, problems: dict[str, str]) -> None:
        for name, message in problems.items():
            if message not in self[name].errors:
                self[name].errors = [*self[name].errors, message]

    def draft(self, segment: Segment | None = None) -> messages.MessageDraft:
        """The typed message, cleaned; call after validate()."""
        return messages.MessageDraft.cleaned(
            segment or Segment(self.segment.data), self.subject.data or "", self.body.data or ""
        )

    def sent_after_id(self) -> int | None:
        value = self.sent_after.data or ""
        return int(value) if value.isdigit() else None
