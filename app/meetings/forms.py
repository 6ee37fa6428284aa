"""Meeting forms: the create/edit form, the cancellation reason and the list's filter bar."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
    URLField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.meetings import services
from app.models import Meeting, MeetingStatus, MeetingVisibility

# Browsers send "09:00", some with seconds when a step is set.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


def strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes, easier than a multi-select on a phone."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    description = TextAreaField(_l("Description"), filters=[strip])
    programme = TextAreaField(_l("Programme"), filters=[strip])

    # InputRequired, not DataRequired: an unreadable date keeps its "not a valid date" message.
    start_date = DateField(_l("Date"), validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()], format=TIME_FORMATS)
    end_time = TimeField(_l("End time"), validators=[InputRequired()], format=TIME_FORMATS)
    end_date = DateField(_l("End date"), validators=[Optional()])
    timezone = SelectField(_l("Time zone"), default=services.DEFAULT_TIME_ZONE)

    venue_name = StringField(_l("Venue"), validators=[Length(max=200)], filters=[strip])
    venue_address = StringField(_l("Address"), validators=[Length(max=300)], filters=[strip])
    venue_postcode = StringField(_l("Postcode"), validators=[Length(max=10)], filters=[strip])
    venue_town = StringField(_l("Town"), validators=[Length(max=120)], filters=[strip])
    venue_access_notes = TextAreaField(_l("Access notes"), filters=[strip])
    online_url = URLField(_l("Online link"), validators=[Length(max=500)], filters=[strip])

    capacity = IntegerField(_l("Capacity"), validators=[Optional()])
    deadline_date = DateField(_l("Answer deadline (date)"), validators=[Optional()])
    deadline_time = TimeField(
        _l("Answer deadline (time)"), validators=[Optional()], format=TIME_FORMATS
    )

    visibility = RadioField(
        _l("Who may register"),
        choices=[
            SelectChoice(
                MeetingVisibility.INVITATION_ONLY.value, _l("Only the people invited (default)")
            ),
            SelectChoice(
                MeetingVisibility.OPEN.value,
                _l("Anyone: the meeting has a public page with a registration form"),
            ),
        ],
        # Left out of a submitted form (a page from before the field existed): the default.
        default=MeetingVisibility.INVITATION_ONLY.value,
    )
    registrations_moderated = BooleanField(
        _l("Registrations through the public page wait for an organiser's approval")
    )

    organisers = MultiCheckboxField(_l("Organisers"), coerce=int)
    groups = MultiCheckboxField(_l("Working groups"), coerce=int)

    contact_name = StringField(_l("Name"), validators=[Length(max=200)], filters=[strip])
    contact_function = StringField(_l("Function"), validators=[Length(max=200)], filters=[strip])
    contact_organisation = StringField(
        _l("Organisation"), validators=[Length(max=200)], filters=[strip]
    )
    contact_email = EmailField(
        _l("E-mail"), validators=[Optional(), Email(), Length(max=254)], filters=[strip]
    )
    contact_phone = TelField(_l("Phone"), validators=[Length(max=30)], filters=[strip])
    # Shown only for a meeting of a series with meetings still to come.
    apply_to_following = BooleanField(
        _l("Apply the changes to the following meetings of the series")
    )

    def __init__(self, *args, meeting: Meeting | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = {user.id: user for user in services.selectable_organisers(meeting)}
        self.organisers.choices = [
            SelectChoice(user.id, user.name) for user in self.accounts.values()
        ]
        self.groups.choices = [
            SelectChoice(group.id, group.name) for group in services.selectable_groups(meeting)
        ]
        zones = dict(services.TIME_ZONE_LABELS)
        # A zone set outside this form (command line, import) stays selectable when editing.
        if meeting is not None and meeting.timezone not in zones:
            zones[meeting.timezone] = meeting.timezone
        self.timezone.choices = [SelectChoice(name, label) for name, label in zones.items()]

    @classmethod
    def for_new_meeting(cls, author) -> "MeetingForm":
        return cls(data={"contact_name": author.name, "organisers": [author.id]})

    @classmethod
    def for_meeting(cls, meeting: Meeting) -> "MeetingForm":
        starts_at, ends_at = meeting.local_starts_at, meeting.local_ends_at
        deadline = meeting.answer_deadline and meeting.answer_deadline.astimezone(meeting.zone)
        values = {
            name: getattr(meeting, name)
            for name in (
                "title",
                "description",
                "timezone",
                "venue_name",
                "venue_address",
                "venue_postcode",
                "venue_town",
                "venue_access_notes",
                "online_url",
                "capacity",
                "contact_name",
                "contact_function",
                "contact_organisation",
                "contact_email",
                "contact_phone",
            )
        }
        values.update(
            programme=services.format_programme(meeting.programme_items),
            start_date=starts_at.date(),
            start_time=starts_at.time(),
            end_time=ends_at.time(),
            end_date=ends_at.date() if ends_at.date() != starts_at.date() else None,
            deadline_date=deadline.date() if deadline else None,
            deadline_time=deadline.time() if deadline else None,
            organisers=[user.id for user in meeting.organisers],
            groups=[group.id for group in meeting.groups],
            visibility=meeting.visibility.value,
            registrations_moderated=meeting.registrations_moderated,
        )
        return cls(data=values, meeting=meeting)

    def validate_programme(self, field) -> None:
        try:
            services.parse_programme(field.data or "")
        except services.ProgrammeError as error:
            raise ValidationError(str(error)) from error

    def validate(self, extra_validators=None) -> bool:
        """Field checks first, then the meeting rules, each shown next to the field it concerns."""
        valid = super().validate(extra_validators)
        if self._schedule_is_readable():
            problems = services.meeting_problems(self.to_data())
        else:
            # The dates cannot be compared yet, but the other rules can already be shown.
            problems = services.place_problems(
                self.venue_name.data or "",
                self.venue_address.data or "",
                self.online_url.data or "",
                self.capacity.data,
            )
        for name, message in problems.items():
            if not self[name].errors:
                self[name].errors.append(message)
            valid = False
        return valid

    def _schedule_is_readable(self) -> bool:
        required = (self.start_date, self.start_time, self.end_time)
        return not self.end_date.errors and all(
            not field.errors and field.data is not None for field in required
        )

    def chosen_visibility(self) -> MeetingVisibility | None:
        """The visibility chosen; None (keep the meeting's) for a value that is not one."""
        try:
            return MeetingVisibility(self.visibility.data)
        except ValueError:
            return None

    def to_data(self) -> services.MeetingData:
        try:
            programme = services.parse_programme(self.programme.data or "")
        except services.ProgrammeError:
            programme = []
        return services.MeetingData(
            title=self.title.data or "",
            description=self.description.data or "",
            programme=programme,
            start_date=self.start_date.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            end_date=self.end_date.data,
            timezone=self.timezone.data,
            venue_name=self.venue_name.data or "",
            venue_address=self.venue_address.data or "",
            venue_postcode=self.venue_postcode.data or "",
            venue_town=self.venue_town.data or "",
            venue_access_notes=self.venue_access_notes.data or "",
            online_url=self.online_url.data or "",
            capacity=self.capacity.data,
            deadline_date=self.deadline_date.data,
            deadline_time=self.deadline_time.data,
            organisers=[
                self.accounts[user_id]
                for user_id in self.organisers.data or []
                if user_id in self.accounts
            ],
            group_ids=list(self.groups.data or []),
            contact_name=self.contact_name.data or "",
            contact_function=self.contact_function.data or "",
            contact_organisation=self.contact_organisation.data or "",
            contact_email=(self.contact_email.data or "").lower(),
            contact_phone=self.contact_phone.data or "",
            visibility=self.chosen_visibility(),
            registrations_moderated=bool(self.registrations_moderated.data),
        )


class CancelMeetingForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the cancellation"), validators=[DataRequired()], filters=[strip]
    )
    notify = BooleanField(_l("Send the cancellation by e-mail to the people invited"))
    # Shown only for a meeting of a series with meetings still to come.
    cancel_following = BooleanField(_l("Also cancel the following meetings of the series"))


class MeetingFilterForm(FlaskForm):
    """The list's search bar: a GET form, so a filtered list can be bookmarked and shared."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), filters=[strip])
    state = SelectField(
        _l("State"),
        choices=[SelectChoice("", _l("All states"))]
        + [SelectChoice(status.value, label) for status, label in services.STATUS_LABELS.items()],
        default="",
    )
    period = HiddenField(default="upcoming")

    def criteria(self) -> dict:
        """The filters to apply; a value that does not validate is ignored, not an error page."""
        self.validate()
        state = None
        if self.state.data and not self.state.errors:
            state = MeetingStatus(self.state.data)
        return {
            "period": self.period.data if self.period.data in services.PERIODS else "upcoming",
            "state": state,
            "text": self.q.data or "",
        }
