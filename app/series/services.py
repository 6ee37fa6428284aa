"""Series operations shared by views, CLI and jobs: the dates of a rhythm, creating its
meetings from a template meeting, changing or cancelling an occurrence and the following
ones, and inviting people to the whole series at once."""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from itertools import islice

from dateutil import rrule
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import joinedload, selectinload

from app.contacts.labels import greeting
from app.extensions import db
from app.invitations.services import (
    answer_links,
    can_notify_change,
    email_locale,
    invite_contacts,
    meeting_reply_to,
    normalised_message,
    paragraphs,
    preview_contact,
)
from app.invitations.tokens import issue_link
from app.mail.outbox import RenderedEmail, header_text, queue_email, render_email
from app.meetings.services import (
    InvalidMeetingData,
    MeetingData,
    MeetingStateError,
    ProgrammeLine,
    cancel_meeting,
    create_meeting,
    meeting_problems,
    publish_meeting,
    update_meeting,
)
from app.models import (
    Contact,
    Invitation,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    OutboxMessage,
    OutboxMessageInvitation,
    Reminder,
    Series,
    SeriesFrequency,
    SeriesSkippedDate,
    User,
)
from app.reminders.schedule import schedule
from app.urls import absolute_url

SERIES_INVITATION_KIND = "series_invitation"

# A series is a rhythm of months or a few years, not a calendar for life: 200 meetings is four
# years of weekly meetings.
MAX_OCCURRENCES = 200
WEEKS_OF_MONTH = (1, 2, 3, 4, -1)

# Settings of the template that are not in MeetingData and that every occurrence shares.
COPIED_SETTINGS = (
    "invitation_subject",
    "invitation_message",
    "reminder_subject",
    "reminder_message",
    "followup_subject",
    "followup_message",
    "proxies_allowed",
    "max_proxies_per_holder",
    "quorum_numerator",
    "quorum_denominator",
    "visibility",
    "registrations_moderated",
)

# What "apply to all following occurrences" carries over, in groups that change together: a new
# venue name with the old address of another occurrence would be a place that does not exist.
SHARED_FIELD_GROUPS = (
    ("title",),
    ("description",),
    ("venue_name", "venue_address", "venue_postcode", "venue_town", "venue_access_notes"),
    ("online_url",),
    ("start_time", "end_time"),
    ("programme",),
    ("capacity",),
    (
        "contact_name",
        "contact_function",
        "contact_organisation",
        "contact_email",
        "contact_phone",
    ),
)


class InvalidSeries(ValueError):
    """The data breaks a series rule; `problems` maps form field names to messages."""

    def __init__(self, problems: dict[str, str]) -> None:
        # Field names only: the messages are lazy and need a request to pick their language.
        super().__init__(f"invalid series: {', '.join(problems)}")
        self.problems = problems


@dataclass
class SeriesData:
    """A form's cleaned values describing the rhythm, on their way to the services."""

    frequency: SeriesFrequency
    start_date: date
    step: int = 1
    week_of_month: int | None = None
    end_date: date | None = None
    occurrences: int | None = None
    skipped_dates: list[date] = field(default_factory=list)


def _rhythm_problems(
    frequency: SeriesFrequency,
    step: int,
    start_date: date,
    week_of_month: int | None,
    end_date: date | None,
    occurrences: int | None,
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if step < 1:
        problems["step"] = _l("The interval must be a positive number.")
    if frequency is SeriesFrequency.MONTHLY_BY_WEEKDAY and week_of_month not in WEEKS_OF_MONTH:
        problems["week_of_month"] = _l("Choose which week of the month.")
    if (end_date is None) == (occurrences is None):
        problems["end_date"] = _l("Give either an end date or a number of meetings.")
    elif end_date is not None and end_date < start_date:
        problems["end_date"] = _l("The end date cannot be before the start date.")
    elif occurrences is not None and not 1 <= occurrences <= MAX_OCCURRENCES:
        problems["occurrences"] = _l(
            "A series has from 1 to %(max)s meetings.", max=MAX_OCCURRENCES
        )
    return problems


def _rule(
    frequency: SeriesFrequency,
    step: int,
    start_date: date,
    week_of_month: int | None,
    weekday_number: int,
    end_date: date | None,
) -> rrule.rrule:
    start = datetime.combine(start_date, time())
    until = datetime.combine(end_date, time()) if end_date else None
    if frequency is SeriesFrequency.WEEKLY:
        return rrule.rrule(rrule.WEEKLY, interval=step, dtstart=start, until=until)
    monthly = {"freq": rrule.MONTHLY, "interval": step, "dtstart": start, "until": until}
    if frequency is SeriesFrequency.MONTHLY_BY_WEEKDAY:
        return rrule.rrule(**monthly, byweekday=rrule.weekday(weekday_number, week_of_month))
    return rrule.rrule(**monthly, bymonthday=start_date.day)


def occurrence_dates(
    frequency: SeriesFrequency,
    step: int,
    start_date: date,
    *,
    week_of_month: int | None = None,
    weekday: int | None = None,
    end_date: date | None = None,
    occurrences: int | None = None,
    skipped: tuple[date, ...] | list[date] | set[date] = (),
) -> list[date]:
    """The dates of a rhythm, from `start_date` on, in order.

    - WEEKLY: every `step` weeks on the start date's weekday.
    - MONTHLY_BY_WEEKDAY: every `step` months (counted from the start date's month) on the
      `week_of_month`-th `weekday` (0 is Monday; by default the start date's weekday), -1
      being the last one: "le 2e mardi tous les deux mois". A start date that is not itself
      such a day is not a meeting: the first one is the next that is.
    - MONTHLY_BY_DAY: every `step` months on the start date's day of the month. Months
      without that day (a 31st in April, a 30th in February) have no meeting: they are
      left out, not moved to another day.

    The series ends on `end_date` (included) or after `occurrences` meetings, one of the two.
    Skipped dates (school holidays) are left out and do not count: "10 meetings" means ten
    meetings held. More than MAX_OCCURRENCES dates raise InvalidSeries."""
    problems = _rhythm_problems(frequency, step, start_date, week_of_month, end_date, occurrences)
    if problems:
        raise InvalidSeries(problems)
    weekday_number = start_date.weekday() if weekday is None else weekday
    rule = _rule(frequency, step, start_date, week_of_month, weekday_number, end_date)
    skipped = set(skipped)
    held = (moment.date() for moment in rule if moment.date() not in skipped)
    # One more than allowed, to tell a series at the limit from one beyond it.
    dates = list(islice(held, occurrences or MAX_OCCURRENCES + 1))
    if len(dates) > MAX_OCCURRENCES:
        raise InvalidSeries(
            {
                "end_date": _l(
                    "This series would have more than %(max)s meetings: choose an earlier"
                    " end date.",
                    max=MAX_OCCURRENCES,
                )
            }
        )
    return dates


def series_dates(data: SeriesData) -> list[date]:
    """The dates of the meetings `data` describes, to preview them before creating them."""
    return occurrence_dates(
        data.frequency,
        data.step,
        data.start_date,
        week_of_month=data.week_of_month,
        end_date=data.end_date,
        occurrences=data.occurrences,
        skipped=data.skipped_dates,
    )


def meeting_data_of(meeting: Meeting) -> MeetingData:
    """A meeting's values in its local time, as its form would give them back unchanged."""
    starts_at, ends_at = meeting.local_starts_at, meeting.local_ends_at
    deadline = meeting.answer_deadline.astimezone(meeting.zone) if meeting.answer_deadline else None
    return MeetingData(
        title=meeting.title,
        description=meeting.description or "",
        start_date=starts_at.date(),
        start_time=starts_at.time(),
        end_time=ends_at.time(),
        end_date=ends_at.date() if ends_at.date() != starts_at.date() else None,
        timezone=meeting.timezone,
        programme=[ProgrammeLine(item.starts_at, item.text) for item in meeting.programme_items],
        venue_name=meeting.venue_name or "",
        venue_address=meeting.venue_address or "",
        venue_postcode=meeting.venue_postcode or "",
        venue_town=meeting.venue_town or "",
        venue_access_notes=meeting.venue_access_notes or "",
        online_url=meeting.online_url or "",
        capacity=meeting.capacity,
        deadline_date=deadline.date() if deadline else None,
        deadline_time=deadline.time() if deadline else None,
        organisers=list(meeting.organisers),
        contact_name=meeting.contact_name or "",
        contact_function=meeting.contact_function or "",
        contact_organisation=meeting.contact_organisation or "",
        contact_email=meeting.contact_email or "",
        contact_phone=meeting.contact_phone or "",
    )


def _on_day(data: MeetingData, day: date) -> MeetingData:
    """The same meeting on another day: end and answer deadline move by as many calendar days,
    at the same local times."""
    shift = day - data.start_date
    return replace(
        data,
        start_date=day,
        end_date=data.end_date + shift if data.end_date else None,
        deadline_date=data.deadline_date + shift if data.deadline_date else None,
    )


def _copy_reminders(template: Meeting, meeting: Meeting) -> None:
    """The template's schedule (not its sending history) in place of the default one."""
    meeting.reminders = [
        Reminder(
            anchor=reminder.anchor,
            amount=reminder.amount,
            unit=reminder.unit,
            audience=reminder.audience,
        )
        for reminder in template.reminders
    ]
    for reminder in meeting.reminders:
        schedule(reminder, meeting)


def _copy_questions(template: Meeting, meeting: Meeting) -> None:
    """The questions the template still asks, without their answers."""
    meeting.questions = [
        MeetingQuestion(
            position=question.position,
            kind=question.kind,
            label=question.label,
            help_text=question.help_text,
            required=question.required,
            choices=question.choices,
        )
        for question in template.questions
        if question.removed_at is None
    ]


def _occurrence(template: Meeting, data: MeetingData, user: User, now: datetime) -> Meeting:
    try:
        meeting = create_meeting(user, data, now)
    except InvalidMeetingData as error:
        raise InvalidSeries(
            {
                "start_date": _l(
                    "The meeting of %(day)s cannot be created: its times do not exist that"
                    " day. Skip that date.",
                    day=data.start_date.strftime("%d/%m/%Y"),
                )
            }
        ) from error
    for name in COPIED_SETTINGS:
        # An unsaved template has no column defaults yet: the copy keeps its own.
        if getattr(template, name) is not None:
            setattr(meeting, name, getattr(template, name))
    meeting.groups = list(template.groups)
    _copy_reminders(template, meeting)
    _copy_questions(template, meeting)
    if template.status is MeetingStatus.PUBLISHED:
        publish_meeting(meeting, now)
    return meeting


def create_series(template: Meeting, data: SeriesData, user: User, now: datetime) -> Series:
    """The series and its meetings, each a copy of `template` on one of the series' dates.

    The copies keep the template's local times of day, venue, online link, capacity, contact
    person, organisers (with `user`), groups, programme, reminder schedule and texts; the
    answer deadline keeps its distance from the start. They are published if the template
    is, drafts otherwise. A saved template whose date is one of the series' dates becomes
    that occurrence rather than getting a copy. A cancelled template, a template already in
    a series and a series starting before today are refused."""
    if template.series_id is not None or template.series is not None:
        raise InvalidSeries({"template": _l("This meeting already belongs to a series.")})
    if template.status is MeetingStatus.CANCELLED:
        raise InvalidSeries({"template": _l("A cancelled meeting cannot start a series.")})
    if data.start_date < now.astimezone(template.zone).date():
        raise InvalidSeries({"start_date": _l("A series cannot start in the past.")})
    dates = series_dates(data)
    if not dates:
        raise InvalidSeries({"end_date": _l("These settings give no date at all.")})
    template_data = meeting_data_of(template)
    problems = meeting_problems(template_data)
    if problems:
        raise InvalidMeetingData(problems)
    series = Series(
        title=template.title,
        frequency=data.frequency,
        step=data.step,
        week_of_month=data.week_of_month
        if data.frequency is SeriesFrequency.MONTHLY_BY_WEEKDAY
        else None,
        start_date=data.start_date,
        end_date=data.end_date,
        occurrences=data.occurrences,
        starts_at_time=template_data.start_time,
        ends_at_time=template_data.end_time,
        timezone=template.timezone,
        created_at=now,
        created_by_id=user.id,
        skipped_dates=[SeriesSkippedDate(day=day) for day in sorted(set(data.skipped_dates))],
    )
    db.session.add(series)
    template_is_occurrence = template.id is not None and template_data.start_date in dates
    for day in dates:
        if template_is_occurrence and day == template_data.start_date:
            template.series = series
        else:
            _occurrence(template, _on_day(template_data, day), user, now).series = series
    db.session.flush()
    return series


def following_occurrences(meeting: Meeting, now: datetime) -> list[Meeting]:
    """The later meetings of `meeting`'s series that can still change: not started, not
    cancelled. Empty for a meeting outside any series."""
    if meeting.series_id is None:
        return []
    query = (
        select(Meeting)
        .where(
            Meeting.series_id == meeting.series_id,
            Meeting.id != meeting.id,
            Meeting.starts_at > meeting.starts_at,
            Meeting.starts_at > now,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .options(
            selectinload(Meeting.organisers),
            selectinload(Meeting.programme_items),
            selectinload(Meeting.reminders),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(db.session.scalars(query))


def shared_changes(before: MeetingData, after: MeetingData) -> dict[str, object]:
    """The shared fields an edit changed, by whole group, as {field name: new value}."""
    changes: dict[str, object] = {}
    for names in SHARED_FIELD_GROUPS:
        if any(getattr(before, name) != getattr(after, name) for name in names):
            changes.update({name: getattr(after, name) for name in names})
    return changes


def update_following(
    meeting: Meeting, data: MeetingData, editor: User, now: datetime
) -> list[Meeting]:
    """Edit `meeting` with `data`, and carry what changed of the shared fields (title,
    description, venue, online link, times of day, programme, capacity, contact person) to
    the following occurrences (see following_occurrences). Each keeps its own date, deadline
    and anything else it was given alone. Returns the meetings changed, `meeting` first."""
    following = following_occurrences(meeting, now)
    changes = shared_changes(meeting_data_of(meeting), data)
    update_meeting(meeting, data, editor, now)
    for occurrence in following:
        update_meeting(occurrence, replace(meeting_data_of(occurrence), **changes), editor, now)
    series = meeting.series
    if series is not None and following:
        # The series describes the rhythm still to come.
        if "title" in changes:
            series.title = data.title
        if "start_time" in changes:
            series.starts_at_time, series.ends_at_time = data.start_time, data.end_time
    db.session.flush()
    return [meeting, *following]


def following_to_notify(meeting: Meeting, ids: list[int], now: datetime) -> list[Meeting]:
    """The following occurrences of `meeting` among `ids` (those an edit of the whole series
    changed) whose invitees can be told about it: anything else in `ids` is ignored."""
    wanted = set(ids)
    return [
        occurrence
        for occurrence in following_occurrences(meeting, now)
        if occurrence.id in wanted and can_notify_change(occurrence, now)
    ]


def cancel_following(meeting: Meeting, reason: str, now: datetime) -> list[Meeting]:
    """Cancel `meeting` and the following occurrences still to come; returns them, so the
    caller can tell their invitees."""
    following = following_occurrences(meeting, now)
    cancelled = [cancel_meeting(meeting, reason, now)]
    cancelled.extend(cancel_meeting(occurrence, reason, now) for occurrence in following)
    return cancelled


# Inviting people to the whole series


def upcoming_meetings(series: Series, now: datetime) -> list[Meeting]:
    """The series' meetings still to come: not started, not cancelled, drafts included."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.series_id == series.id,
                Meeting.starts_at > now,
                Meeting.status != MeetingStatus.CANCELLED,
            )
            .options(selectinload(Meeting.organisers))
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


@dataclass
class SeriesInvitationPlan:
    """What inviting to the whole series would do, for the confirmation page.

    `meetings` are the upcoming published meetings, the only ones invited to; `drafts` the
    upcoming ones not published yet. `people` is how many contacts are invited to at least one
    of `meetings`, `new_invitations` how many invitations adding all of them to all of
    `meetings` creates, and `emails` how many people have at least one date not sent yet."""

    meetings: list[Meeting]
    drafts: list[Meeting]
    people: int
    new_invitations: int
    emails: int


def series_invitation_plan(series: Series, now: datetime) -> SeriesInvitationPlan:
    """What invite_series would do at `now`; changes nothing."""
    upcoming = upcoming_meetings(series, now)
    meetings = [meeting for meeting in upcoming if meeting.status is MeetingStatus.PUBLISHED]
    drafts = [meeting for meeting in upcoming if meeting.status is MeetingStatus.DRAFT]
    rows = db.session.execute(
        select(Invitation.meeting_id, Invitation.contact_id, Invitation.invited_at).where(
            Invitation.meeting_id.in_([meeting.id for meeting in meetings])
        )
    ).all()
    people = {row.contact_id for row in rows}
    sent = {(row.meeting_id, row.contact_id) for row in rows if row.invited_at is not None}
    emailed = {
        contact_id
        for contact_id in people
        if any((meeting.id, contact_id) not in sent for meeting in meetings)
    }
    return SeriesInvitationPlan(
        meetings=meetings,
        drafts=drafts,
        people=len(people),
        new_invitations=len(meetings) * len(people) - len(rows),
        emails=len(emailed),
    )


@dataclass
class SeriesInvitationReport:
    """What invite_series did: invitations added, e-mails queued, dates in them in all."""

    added: int
    emails: int
    dates: int


def _claim_unsent(meetings: list[Meeting], now: datetime) -> list[int]:
    """Mark the invitations to these meetings not sent yet as sent now, in one statement, and
    return their ids: neither a second click nor the per-meeting send can send them again."""
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.meeting_id.in_([meeting.id for meeting in meetings]),
            Invitation.invited_at.is_(None),
        )
        .values(invited_at=now)
        .returning(Invitation.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result]


def _claimed_by_contact(invitation_ids: list[int]) -> dict[int, list[Invitation]]:
    """The claimed invitations with their contacts and meetings, by contact, in date order."""
    if not invitation_ids:
        return {}
    invitations = db.session.scalars(
        select(Invitation)
        .join(Invitation.meeting)
        .where(Invitation.id.in_(invitation_ids))
        .options(
            joinedload(Invitation.contact),
            joinedload(Invitation.meeting),
            selectinload(Invitation.links),
        )
        .order_by(Invitation.contact_id, Meeting.starts_at, Meeting.id)
        .execution_options(populate_existing=True)
    )
    by_contact: dict[int, list[Invitation]] = defaultdict(list)
    for invitation in invitations:
        by_contact[invitation.contact_id].append(invitation)
    return by_contact


def default_series_subject(series: Series, dates: int) -> str:
    """In the current language, for an e-mail listing `dates` dates."""
    return ngettext(
        "Invitation: %(title)s, %(num)s date",
        "Invitation: %(title)s, %(num)s dates",
        dates,
        title=series.title,
    )


def default_series_message(series: Series, dates: int) -> str:
    """The opening text only: the dates, with their places and links, always follow."""
    return ngettext(
        "We are pleased to invite you to the meeting “%(title)s” on the following date.",
        "We are pleased to invite you to the meetings “%(title)s” on the following dates.",
        dates,
        title=series.title,
    )


def series_invitation_text(series: Series, dates: int) -> tuple[str, str]:
    """(subject, opening message) of an e-mail listing `dates` dates, as invitees read them:
    the organiser's text, or the default one in the e-mails' language."""
    with force_locale(email_locale()):
        subject = series.invitation_subject or default_series_subject(series, dates)
        message = series.invitation_message or default_series_message(series, dates)
    return subject, message


def save_series_text(series: Series, subject: str, message: str, dates: int) -> None:
    """Keep the organiser's subject and message of the series e-mail. Text equal to the
    default for `dates` dates (what the confirmation page shows) is stored as empty, so that
    each e-mail keeps the default worded for its own number of dates."""
    subject = header_text(subject)
    message = normalised_message(message)
    with force_locale(email_locale()):
        default_subject = default_series_subject(series, dates)
        default_message = default_series_message(series, dates)
    series.invitation_subject = "" if subject == default_subject else subject
    series.invitation_message = "" if message == default_message else message
    db.session.flush()


def render_series_invitation(
    series: Series, contact: Contact, dates: list[tuple[Meeting, str]]
) -> RenderedEmail:
    """The e-mail inviting `contact` to the meetings of `dates`, (meeting, token of its
    personal link) in date order; their own page is reached with the first token."""
    subject, message = series_invitation_text(series, len(dates))
    with force_locale(email_locale()):
        hello = greeting(contact)
    return render_email(
        SERIES_INVITATION_KIND,
        email_locale(),
        series=series,
        meeting=dates[0][0],
        contact=contact,
        subject=subject,
        greeting=hello,
        paragraphs=paragraphs(message),
        message=message,
        dates=[(meeting, answer_links(token)["personal_url"]) for meeting, token in dates],
        own_page_url=absolute_url("invitations.own_page", token=dates[0][1]),
    )


def preview_series_invitation(series: Series, meetings: list[Meeting]) -> RenderedEmail:
    """The e-mail listing `meetings` as the first person on the first date's list (or a
    sample person) would get it, with links that lead nowhere."""
    return render_series_invitation(
        series, preview_contact(meetings[0]), [(meeting, "preview") for meeting in meetings]
    )


def invite_series(series: Series, user: User | None, now: datetime) -> SeriesInvitationReport:
    """Invite everyone invited to one of the series' upcoming published meetings to all of
    them, and send each person one e-mail listing the dates they have not received yet, with
    a personal link per date and one to their own page where they answer for each date.

    Invitations sent this way are marked sent, so the per-meeting send leaves them out;
    someone whose dates were all sent already gets no e-mail. Drafts are left out: they are
    not announced before they are published. Flushes; the caller commits, then calls
    request_delivery()."""
    plan = series_invitation_plan(series, now)
    if not plan.meetings:
        raise MeetingStateError(_l("This series has no published meeting still to come."))
    contact_ids = db.session.scalars(
        select(Invitation.contact_id)
        .where(Invitation.meeting_id.in_([meeting.id for meeting in plan.meetings]))
        .distinct()
    ).all()
    added = sum(invite_contacts(meeting, contact_ids, user, now)[0] for meeting in plan.meetings)
    by_contact = _claimed_by_contact(_claim_unsent(plan.meetings, now))
    sent: list[tuple[OutboxMessage, list[Invitation]]] = []
    for invitations in by_contact.values():
        first = invitations[0]
        dates = [(invitation.meeting, issue_link(invitation, now)) for invitation in invitations]
        message = queue_email(
            SERIES_INVITATION_KIND,
            first.contact.email,
            render_series_invitation(series, first.contact, dates),
            now,
            to_name=first.contact.full_name,
            reply_to=meeting_reply_to(first.meeting),
            meeting=first.meeting,
            invitation=first,
        )
        sent.append((message, invitations))
    db.session.flush()
    # Each e-mail is about every date it lists: its delivery shows on each date's pages.
    covered = [
        {"message_id": message.id, "invitation_id": invitation.id}
        for message, invitations in sent
        for invitation in invitations
    ]
    if covered:
        db.session.execute(insert(OutboxMessageInvitation), covered)
    return SeriesInvitationReport(
        added=added,
        emails=len(by_contact),
        dates=sum(len(invitations) for invitations in by_contact.values()),
    )
