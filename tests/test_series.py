"""Recurring series: the dates of a rhythm, creating its meetings from a template, and
changing or cancelling one occurrence or all the following ones."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.meetings.services import ProgrammeLine, cancel_meeting, local_to_utc, update_meeting
from app.models import (
    Group,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    MeetingVisibility,
    OutboxMessage,
    QuestionKind,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderUnit,
    Series,
    SeriesFrequency,
)
from app.reminders.schedule import schedule
from app.series import services
from app.series.services import InvalidSeries, SeriesData, occurrence_dates
from tests.factories import UserFactory
from tests.invitee_helpers import a_meeting, invite

NOW = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
WEEKLY = SeriesFrequency.WEEKLY
BY_WEEKDAY = SeriesFrequency.MONTHLY_BY_WEEKDAY
BY_DAY = SeriesFrequency.MONTHLY_BY_DAY
# Tuesday 14 July 2026 is the national holiday.
BASTILLE_DAY = date(2026, 7, 14)
SECOND_TUESDAYS_EVERY_TWO_MONTHS = [
    date(2026, 1, 13),
    date(2026, 3, 10),  # winter time: the clocks go forward on 29 March
    date(2026, 5, 12),
    date(2026, 9, 8),
    date(2026, 11, 10),  # winter time again from 25 October
]


# The dates of a rhythm


def test_second_tuesday_every_two_months_skipping_a_date_by_count_or_by_end_date():
    """The metropolis's practice-exchange sessions; skipped dates do not count."""
    rhythm = {"week_of_month": 2, "skipped": [BASTILLE_DAY]}
    # 6 January is the first Tuesday: not itself a meeting.
    by_count = occurrence_dates(BY_WEEKDAY, 2, date(2026, 1, 6), occurrences=5, **rhythm)
    by_end = occurrence_dates(
        BY_WEEKDAY, 2, date(2026, 1, 6), end_date=date(2026, 11, 10), **rhythm
    )
    assert by_count == by_end == SECOND_TUESDAYS_EVERY_TWO_MONTHS


def test_the_end_date_is_included_and_ends_the_series_before_the_count_would():
    dates = occurrence_dates(WEEKLY, 1, date(2026, 1, 5), end_date=date(2026, 1, 19))
    assert dates == [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    assert occurrence_dates(WEEKLY, 1, date(2026, 1, 5), end_date=date(2026, 1, 18))[-1] == date(
        2026, 1, 12
    )


def test_weekly_every_two_weeks_on_the_start_dates_weekday():
    dates = occurrence_dates(WEEKLY, 2, date(2026, 1, 5), occurrences=4)
    assert dates == [date(2026, 1, 5), date(2026, 1, 19), date(2026, 2, 2), date(2026, 2, 16)]
    assert {day.weekday() for day in dates} == {0}


def test_last_weekday_of_the_month_with_another_weekday_than_the_start_dates():
    # Thursday 1 January, meetings on the last Friday (weekday 4).
    dates = occurrence_dates(
        BY_WEEKDAY, 1, date(2026, 1, 1), week_of_month=-1, weekday=4, occurrences=4
    )
    assert dates == [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27), date(2026, 4, 24)]


def test_monthly_by_day_on_the_31st_leaves_out_the_months_without_one():
    dates = occurrence_dates(BY_DAY, 1, date(2026, 1, 31), occurrences=5)
    assert dates == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
        date(2026, 8, 31),
    ]


def test_a_series_may_have_up_to_the_maximum_of_meetings():
    start = date(2026, 1, 5)
    last = start + timedelta(weeks=services.MAX_OCCURRENCES - 1)
    assert len(occurrence_dates(WEEKLY, 1, start, end_date=last)) == services.MAX_OCCURRENCES
    by_count = occurrence_dates(WEEKLY, 1, start, occurrences=services.MAX_OCCURRENCES)
    assert by_count[-1] == last


def test_a_series_beyond_the_maximum_is_refused_on_the_field_at_fault():
    start = date(2026, 1, 5)
    with pytest.raises(InvalidSeries) as too_late:
        occurrence_dates(WEEKLY, 1, start, end_date=start + timedelta(weeks=200))
    assert set(too_late.value.problems) == {"end_date"}
    with pytest.raises(InvalidSeries) as too_many:
        occurrence_dates(WEEKLY, 1, start, occurrences=services.MAX_OCCURRENCES + 1)
    assert set(too_many.value.problems) == {"occurrences"}


@pytest.mark.parametrize(
    ("frequency", "step", "options", "field"),
    [
        (WEEKLY, 0, {"occurrences": 3}, "step"),
        (BY_WEEKDAY, 1, {"occurrences": 3}, "week_of_month"),
        (BY_WEEKDAY, 1, {"occurrences": 3, "week_of_month": 5}, "week_of_month"),
        (WEEKLY, 1, {}, "end_date"),
        (WEEKLY, 1, {"occurrences": 3, "end_date": date(2026, 6, 1)}, "end_date"),
        (WEEKLY, 1, {"end_date": date(2025, 12, 31)}, "end_date"),
        (WEEKLY, 1, {"occurrences": 0}, "occurrences"),
    ],
)
def test_impossible_rhythms_are_refused(frequency, step, options, field):
    with pytest.raises(InvalidSeries) as caught:
        occurrence_dates(frequency, step, date(2026, 1, 5), **options)
    assert field in caught.value.problems


# Creating a series from a template meeting


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC moment of a wall-clock time in Paris (winter or summer time)."""
    return local_to_utc(day, time(hour, minute), "Europe/Paris")


def a_template(**fields) -> Meeting:
    """The first session: Tuesday 13 January 2026, 18:00 to 20:00 in Paris, answers until
    Friday noon, two reminders (one already sent) and the group it belongs to."""
    starts_at = paris(date(2026, 1, 13), 18)
    values = {
        "title": "Échanges de pratiques des coordinateurs",
        "description": "Séance bimestrielle du réseau.",
        "starts_at": starts_at,
        "ends_at": paris(date(2026, 1, 13), 20),
        "answer_deadline": paris(date(2026, 1, 9), 12),
        "online_url": "https://visio.example.org/echanges",
        "capacity": 30,
        "contact_phone": "03 80 00 00 00",
        "reminder_subject": "Rappel : échanges de pratiques",
        "proxies_allowed": True,
    }
    values.update(fields)
    template = a_meeting(NOW, **values)
    template.groups = [Group(name="Coordinateurs PRE")]
    template.reminders = [
        Reminder(amount=2, unit=ReminderUnit.DAYS, anchor=ReminderAnchor.START),
        Reminder(
            amount=1,
            unit=ReminderUnit.DAYS,
            anchor=ReminderAnchor.DEADLINE,
            audience=ReminderAudience.UNANSWERED,
            round=1,
            done_at=NOW,
        ),
    ]
    for reminder in template.reminders:
        schedule(reminder, template)
    db.session.commit()
    return template


def bimonthly(**changes) -> SeriesData:
    values = {
        "frequency": BY_WEEKDAY,
        "start_date": date(2026, 1, 13),
        "step": 2,
        "week_of_month": 2,
        "occurrences": 5,
        "skipped_dates": [BASTILLE_DAY],
    }
    values.update(changes)
    return SeriesData(**values)


def meetings_of(series: Series) -> list[Meeting]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.series_id == series.id).order_by(Meeting.starts_at)
        )
    )


def test_series_meetings_stay_at_18_00_in_paris_across_daylight_saving_changes(app):
    template = a_template()
    series = services.create_series(template, bimonthly(), UserFactory(), NOW)
    db.session.commit()
    meetings = meetings_of(series)
    assert [meeting.local_starts_at.date() for meeting in meetings] == (
        SECOND_TUESDAYS_EVERY_TWO_MONTHS
    )
    assert {meeting.local_starts_at.time() for meeting in meetings} == {time(18, 0)}
    assert {meeting.local_ends_at.time() for meeting in meetings} == {time(20, 0)}
    # 18:00 is 17:00 UTC in winter, 16:00 UTC in summer.
    assert [meeting.starts_at.hour for meeting in meetings] == [17, 17, 16, 16, 17]


def test_the_saved_template_becomes_the_first_occurrence_and_the_series_is_recorded(app):
    template = a_template()
    author = UserFactory()
    series = services.create_series(template, bimonthly(), author, NOW)
    db.session.commit()
    meetings = meetings_of(series)
    assert len(meetings) == 5
    assert meetings[0].id == template.id
    assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 5
    assert series.title == template.title
    assert (series.frequency, series.step, series.week_of_month) == (BY_WEEKDAY, 2, 2)
    assert (series.occurrences, series.end_date) == (5, None)
    assert (series.starts_at_time, series.ends_at_time) == (time(18, 0), time(20, 0))
    assert series.timezone == "Europe/Paris"
    assert series.created_by_id == author.id
    assert [skipped.day for skipped in series.skipped_dates] == [BASTILLE_DAY]


def test_each_occurrence_copies_the_template(app):
    template = a_template()
    author = UserFactory()
    series = services.create_series(template, bimonthly(), author, NOW)
    db.session.commit()
    template, *copies = meetings_of(series)
    copied = (
        "title",
        "description",
        "venue_name",
        "venue_address",
        "venue_postcode",
        "venue_town",
        "online_url",
        "capacity",
        "contact_name",
        "contact_function",
        "contact_email",
        "contact_phone",
        "timezone",
        "reminder_subject",
        "proxies_allowed",
        "status",
    )
    for meeting in copies:
        assert {name: getattr(meeting, name) for name in copied} == {
            name: getattr(template, name) for name in copied
        }
        assert [(item.starts_at, item.text) for item in meeting.programme_items] == [
            (time(9, 0), "Accueil café"),
            (time(9, 30), "Ateliers par territoire"),
            (None, "Synthèse et suites"),
        ]
        assert [group.name for group in meeting.groups] == ["Coordinateurs PRE"]
        assert {user.id for user in meeting.organisers} == {
            *(user.id for user in template.organisers),
            author.id,
        }
        assert meeting.published_at == NOW


def test_each_occurrence_gets_the_template_reminders_afresh_and_its_deadline_as_far_ahead(app):
    template = a_template()
    series = services.create_series(template, bimonthly(), UserFactory(), NOW)
    db.session.commit()
    may = meetings_of(series)[2]
    # Four days before, at noon Paris time, which is summer time in May.
    assert may.answer_deadline == paris(date(2026, 5, 8), 12)
    assert may.answer_deadline.hour == 10
    schedule_of_may = {
        (r.anchor, r.amount, r.unit, r.audience, r.send_at, r.round, r.done_at)
        for r in may.reminders
    }
    start_reminder = (ReminderAnchor.START, 2, ReminderUnit.DAYS, ReminderAudience.COMING)
    deadline_reminder = (
        ReminderAnchor.DEADLINE,
        1,
        ReminderUnit.DAYS,
        ReminderAudience.UNANSWERED,
    )
    assert schedule_of_may == {
        (*start_reminder, paris(date(2026, 5, 10), 18), 0, None),
        (*deadline_reminder, paris(date(2026, 5, 7), 12), 0, None),
    }


def test_a_draft_template_gives_drafts_and_a_template_off_the_rhythm_stays_alone(app):
    # Tuesday 6 January is not a second Tuesday: the template is only the model.
    template = a_template(
        status=MeetingStatus.DRAFT,
        starts_at=paris(date(2026, 1, 6), 18),
        ends_at=paris(date(2026, 1, 6), 20),
        answer_deadline=paris(date(2026, 1, 2), 12),
    )
    series = services.create_series(
        template, bimonthly(start_date=date(2026, 1, 6)), UserFactory(), NOW
    )
    db.session.commit()
    meetings = meetings_of(series)
    assert template.id not in {meeting.id for meeting in meetings}
    assert template.series_id is None
    assert [meeting.local_starts_at.date() for meeting in meetings] == (
        SECOND_TUESDAYS_EVERY_TWO_MONTHS
    )
    assert {meeting.status for meeting in meetings} == {MeetingStatus.DRAFT}


def test_an_unsaved_template_is_copied_on_every_date(app):
    author = UserFactory()
    template = Meeting(
        title="Atelier d'écriture",
        starts_at=paris(date(2026, 1, 5), 14),
        ends_at=paris(date(2026, 1, 5), 15, 30),
        timezone="Europe/Paris",
        venue_name="CMPP",
        status=MeetingStatus.DRAFT,
    )
    data = SeriesData(WEEKLY, date(2026, 1, 5), step=1, end_date=date(2026, 1, 26))
    series = services.create_series(template, data, author, NOW)
    db.session.commit()
    meetings = meetings_of(series)
    assert [meeting.local_starts_at.date() for meeting in meetings] == [
        date(2026, 1, 5),
        date(2026, 1, 12),
        date(2026, 1, 19),
        date(2026, 1, 26),
    ]
    assert {meeting.venue_name for meeting in meetings} == {"CMPP"}
    assert template not in db.session


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_date": date(2025, 11, 1)}, "start_date"),
        ({"occurrences": None}, "end_date"),
        ({"occurrences": None, "end_date": date(2026, 1, 12)}, "end_date"),
    ],
)
def test_create_series_refuses_bad_settings_and_creates_nothing(app, changes, field):
    template = a_template()
    with pytest.raises(InvalidSeries) as caught:
        services.create_series(template, bimonthly(**changes), UserFactory(), NOW)
    assert field in caught.value.problems
    db.session.rollback()
    assert db.session.scalars(select(Series)).all() == []


def test_a_meeting_already_in_a_series_or_cancelled_cannot_start_another(app):
    template = a_template()
    services.create_series(template, bimonthly(), UserFactory(), NOW)
    db.session.commit()
    with pytest.raises(InvalidSeries):
        services.create_series(template, bimonthly(), UserFactory(), NOW)
    cancelled = a_template(status=MeetingStatus.CANCELLED)
    with pytest.raises(InvalidSeries):
        services.create_series(cancelled, bimonthly(), UserFactory(), NOW)


# Changing one occurrence, or all the following ones


@pytest.fixture
def series_under_way(app):
    """The five sessions on 1 April 2026: January's and March's are past; September's was
    cancelled; November's capacity was changed alone."""
    series = services.create_series(a_template(), bimonthly(), UserFactory(), NOW)
    db.session.commit()
    meetings = meetings_of(series)
    later = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    cancel_meeting(meetings[3], "Rentrée chargée", later)
    november = services.meeting_data_of(meetings[4])
    november.capacity = 12
    update_meeting(meetings[4], november, meetings[4].organisers[0], later)
    db.session.commit()
    return series, later


def snapshot(meetings: list[Meeting]) -> list[tuple]:
    return [
        (m.title, m.venue_name, m.capacity, m.starts_at, m.status, m.sequence) for m in meetings
    ]


def test_editing_one_occurrence_alone_changes_only_that_one(series_under_way):
    series, later = series_under_way
    meetings = meetings_of(series)
    before = snapshot(meetings)
    may = meetings[2]
    data = services.meeting_data_of(may)
    data.venue_name = "Salle des fêtes"
    update_meeting(may, data, may.organisers[0], later)
    db.session.commit()
    after = snapshot(meetings_of(series))
    assert after[2][1] == "Salle des fêtes"
    assert after[:2] + after[3:] == before[:2] + before[3:]


def test_update_following_changes_this_and_the_later_ones_still_to_come(series_under_way):
    series, later = series_under_way
    meetings = meetings_of(series)
    before = snapshot(meetings)
    march, may, september, november = meetings[1], meetings[2], meetings[3], meetings[4]
    data = services.meeting_data_of(may)
    data.title = "Échanges de pratiques"
    data.start_time, data.end_time = time(17, 0), time(19, 0)
    data.programme = [ProgrammeLine(time(17, 0), "Tour de table")]
    changed = services.update_following(may, data, may.organisers[0], later)
    db.session.commit()
    assert [meeting.id for meeting in changed] == [may.id, november.id]
    meetings = meetings_of(series)
    for meeting in (meetings[2], meetings[4]):
        assert meeting.title == "Échanges de pratiques"
        assert meeting.local_starts_at.time() == time(17, 0)
        assert meeting.local_ends_at.time() == time(19, 0)
        assert [item.text for item in meeting.programme_items] == ["Tour de table"]
    # Each keeps its own date and what it was given alone.
    assert meetings[2].local_starts_at.date() == date(2026, 5, 12)
    assert meetings[4].local_starts_at.date() == date(2026, 11, 10)
    assert meetings[4].capacity == 12
    assert meetings[4].sequence == before[4][5] + 1
    # The reminders follow the new time.
    start_reminder = next(r for r in meetings[4].reminders if r.anchor is ReminderAnchor.START)
    assert start_reminder.send_at == paris(date(2026, 11, 8), 17)
    # The past ones and the cancelled one are left as they were.
    after = snapshot(meetings)
    assert [after[0], after[1], after[3]] == [before[0], before[1], before[3]]
    assert march.id == meetings[1].id and september.id == meetings[3].id
    assert series.title == "Échanges de pratiques"
    assert series.starts_at_time == time(17, 0)


def test_update_following_carries_only_what_changed(series_under_way):
    series, later = series_under_way
    meetings = meetings_of(series)
    data = services.meeting_data_of(meetings[2])
    data.venue_town = "Chenôve"
    services.update_following(meetings[2], data, meetings[2].organisers[0], later)
    db.session.commit()
    november = meetings_of(series)[4]
    assert november.venue_town == "Chenôve"
    assert november.capacity == 12
    assert november.title == "Échanges de pratiques des coordinateurs"


def test_update_following_of_a_meeting_outside_a_series_changes_it_alone(app):
    meeting, other = a_meeting(NOW), a_meeting(NOW)
    data = services.meeting_data_of(meeting)
    data.title = "Nouveau titre"
    changed = services.update_following(meeting, data, meeting.organisers[0], NOW)
    assert changed == [meeting]
    assert other.title != "Nouveau titre"


def test_cancel_following_cancels_this_and_the_later_ones_still_to_come(series_under_way):
    series, later = series_under_way
    meetings = meetings_of(series)
    september_cancelled_at = meetings[3].cancelled_at
    cancelled = services.cancel_following(meetings[2], "Fin du dispositif", later)
    db.session.commit()
    assert [meeting.id for meeting in cancelled] == [meetings[2].id, meetings[4].id]
    meetings = meetings_of(series)
    assert [meeting.status for meeting in meetings] == [MeetingStatus.PUBLISHED] * 2 + [
        MeetingStatus.CANCELLED
    ] * 3
    assert meetings[4].cancellation_reason == "Fin du dispositif"
    assert meetings[3].cancellation_reason == "Rentrée chargée"
    assert meetings[3].cancelled_at == september_cancelled_at


def test_a_date_where_the_time_does_not_exist_is_refused_by_name(app):
    # 2:30 does not exist in Paris on Sunday 29 March 2026: the clocks go forward.
    template = a_template(
        starts_at=paris(date(2026, 3, 22), 2, 30),
        ends_at=paris(date(2026, 3, 22), 4),
    )
    data = SeriesData(WEEKLY, date(2026, 3, 22), occurrences=3)
    with pytest.raises(InvalidSeries) as caught:
        services.create_series(template, data, UserFactory(), NOW)
    assert "29/03/2026" in str(caught.value.problems["start_date"])
    skipping = SeriesData(
        WEEKLY, date(2026, 3, 22), occurrences=3, skipped_dates=[date(2026, 3, 29)]
    )
    db.session.rollback()
    series = services.create_series(template, skipping, UserFactory(), NOW)
    assert [m.local_starts_at.date() for m in meetings_of(series)] == [
        date(2026, 3, 22),
        date(2026, 4, 5),
        date(2026, 4, 12),
    ]


# The page making a series from a meeting


@pytest.fixture
def weekly_form(app):
    """A meeting of the logged-in organiser two weeks from today, and a weekly rhythm from it."""
    meeting = a_meeting(datetime.now(UTC))
    first = meeting.local_starts_at.date()
    skipped = first + timedelta(weeks=1)
    form = {
        "frequency": "weekly",
        "step": "1",
        "week_of_month": "2",
        "start_date": first.isoformat(),
        "occurrences": "3",
        "skipped_dates": f"\n{skipped:%d/%m/%Y}\n",
    }
    return meeting, form


def test_the_page_previews_the_dates_and_creates_nothing(client, login, weekly_form):
    meeting, form = weekly_form
    login(meeting.organisers[0])
    assert client.get(f"/series/new/{meeting.id}").status_code == 200
    response = client.post(f"/series/new/{meeting.id}", data={**form, "preview": ""})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<li>", page.index("series-preview")) == 3
    assert 'name="create"' in page
    assert db.session.scalars(select(Series)).all() == []


def test_the_page_creates_the_series_with_the_meeting_as_first_occurrence(
    client, login, weekly_form
):
    meeting, form = weekly_form
    login(meeting.organisers[0])
    repeat = f'href="/series/new/{meeting.id}"'
    assert repeat in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    response = client.post(f"/series/new/{meeting.id}", data={**form, "create": ""})
    assert response.status_code == 302
    # A meeting of a series is repeated through its series, not again.
    assert repeat not in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}")
    series = db.session.scalars(select(Series)).one()
    first = meeting.local_starts_at.date()
    assert [m.local_starts_at.date() for m in meetings_of(series)] == [
        first,
        first + timedelta(weeks=2),
        first + timedelta(weeks=3),
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"skipped_dates": "31/02/2027"}, "is not a date written as DD/MM/YYYY"),
        ({"occurrences": ""}, "Give either an end date or a number of meetings."),
    ],
)
def test_the_page_shows_what_is_wrong_and_creates_nothing(
    client, login, weekly_form, changes, message
):
    meeting, form = weekly_form
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    response = client.post(f"/series/new/{meeting.id}", data={**form, **changes, "create": ""})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Series)).all() == []


def test_only_the_meetings_organisers_may_make_a_series_of_it(as_organiser, weekly_form):
    meeting, form = weekly_form
    assert as_organiser.get(f"/series/new/{meeting.id}").status_code == 403
    assert as_organiser.post(f"/series/new/{meeting.id}", data=form).status_code == 403


def series_of_three(client, login, weekly_form) -> list[Meeting]:
    meeting, form = weekly_form
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    client.post(f"/series/new/{meeting.id}", data={**form, "create": ""})
    return meetings_of(db.session.scalars(select(Series)).one())


def edit_form(meeting: Meeting, **changes) -> dict:
    """The edit form of `meeting` as its page fills it, with `changes`."""
    starts, ends = meeting.local_starts_at, meeting.local_ends_at
    values = {
        "title": meeting.title,
        "start_date": starts.date().isoformat(),
        "start_time": f"{starts:%H:%M}",
        "end_time": f"{ends:%H:%M}",
        "timezone": meeting.timezone,
        "venue_name": meeting.venue_name,
        "venue_address": meeting.venue_address,
        "venue_postcode": meeting.venue_postcode,
        "venue_town": meeting.venue_town,
        "organisers": [str(user.id) for user in meeting.organisers],
        "contact_name": meeting.contact_name,
        "contact_email": meeting.contact_email,
    }
    values.update(changes)
    return values


def test_the_edit_page_applies_the_changes_to_the_following_meetings(client, login, weekly_form):
    first, second, third = series_of_three(client, login, weekly_form)
    page = client.get(f"/meetings/{second.id}/edit").get_data(as_text=True)
    assert 'name="apply_to_following"' in page
    assert 'name="apply_to_following"' not in client.get(f"/meetings/{third.id}/edit").get_data(
        as_text=True
    )

    response = client.post(
        f"/meetings/{second.id}/edit",
        data=edit_form(second, title="Nouveau titre", apply_to_following="y"),
        follow_redirects=True,
    )

    assert "1 following meeting of the series is updated too." in response.get_data(as_text=True)
    db.session.expire_all()
    titles = [m.title for m in (first, second, third)]
    assert titles[1:] == ["Nouveau titre", "Nouveau titre"] and titles[0] != "Nouveau titre"


def test_without_the_box_only_this_meeting_changes(client, login, weekly_form):
    first, second, third = series_of_three(client, login, weekly_form)
    client.post(f"/meetings/{second.id}/edit", data=edit_form(second, title="Seule"))
    db.session.expire_all()
    assert (second.title, third.title) == ("Seule", first.title)


def test_the_cancel_page_cancels_the_following_meetings_too(client, login, weekly_form):
    first, second, third = series_of_three(client, login, weekly_form)
    response = client.post(
        f"/meetings/{first.id}/cancel",
        data={"reason": "Salle indisponible", "cancel_following": "y"},
        follow_redirects=True,
    )
    assert "2 following meetings of the series are cancelled too." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert {m.status for m in (first, second, third)} == {MeetingStatus.CANCELLED}


def test_the_invitees_of_the_following_meetings_changed_are_offered_the_news(
    client, login, weekly_form
):
    first, second, third = series_of_three(client, login, weekly_form)
    outsider = a_meeting(datetime.now(UTC))
    for meeting in (first, second, third, outsider):
        invite(meeting, datetime.now(UTC))
    db.session.commit()

    response = client.post(
        f"/meetings/{first.id}/edit",
        data=edit_form(first, venue_name="Autre salle", apply_to_following="y"),
    )

    location = response.headers["Location"]
    assert f"/meetings/{first.id}/invitations/notify-change" in location
    assert f"following={second.id}" in location and f"following={third.id}" in location
    # An address naming a meeting outside the series is not obeyed.
    url = f"{location}&following={outsider.id}"
    page = client.get(url).get_data(as_text=True)
    assert "The following meetings of the series changed with it" in page
    assert "Tell 3 people" in page
    action = (
        f'action="/meetings/{first.id}/invitations/notify-change'
        f'?following={second.id}&amp;following={third.id}"'
    )
    assert action in page

    client.post(url)

    db.session.expire_all()
    updates = db.session.scalars(
        select(OutboxMessage.meeting_id).where(OutboxMessage.kind == "meeting_update")
    ).all()
    assert sorted(updates) == sorted([first.id, second.id, third.id])


def test_a_following_meeting_whose_time_and_place_stay_is_not_offered(client, login, weekly_form):
    first, second, third = series_of_three(client, login, weekly_form)
    for meeting in (first, second, third):
        invite(meeting, datetime.now(UTC))
        # The form gives hours and minutes: whole minutes, so the times do not change.
        meeting.starts_at = meeting.starts_at.replace(second=0)
        meeting.ends_at = meeting.ends_at.replace(second=0)
    db.session.commit()

    response = client.post(
        f"/meetings/{first.id}/edit",
        data=edit_form(first, title="Autre titre", apply_to_following="y"),
    )

    assert response.headers["Location"].endswith(f"/meetings/{first.id}")


def test_the_occurrences_of_an_open_meeting_are_open_each_with_its_own_address(app):
    template = a_template(visibility=MeetingVisibility.OPEN, registrations_moderated=True)
    services.create_series(template, bimonthly(), UserFactory(), NOW)
    db.session.commit()
    meetings = meetings_of(template.series)

    assert {meeting.visibility for meeting in meetings} == {MeetingVisibility.OPEN}
    assert {meeting.registrations_moderated for meeting in meetings} == {True}
    # The template was made open and published directly here, without its address.
    slugs = [meeting.slug for meeting in meetings[1:]]
    assert None not in slugs and len(set(slugs)) == len(slugs)
    assert slugs[0].endswith(meetings[1].local_starts_at.date().isoformat())


def test_the_occurrences_ask_the_questions_the_template_still_asks(app):
    template = a_template()
    template.questions = [
        MeetingQuestion(
            position=0,
            kind=QuestionKind.SINGLE_CHOICE,
            label="Atelier",
            choices="Lecture\nCalcul",
            required=True,
        ),
        MeetingQuestion(position=1, kind=QuestionKind.SHORT_TEXT, label="Ancienne", removed_at=NOW),
    ]
    db.session.commit()

    series = services.create_series(template, bimonthly(), UserFactory(), NOW)
    db.session.commit()

    for meeting in meetings_of(series)[1:]:
        assert [
            (question.label, question.kind, question.choice_list, question.required)
            for question in meeting.questions
        ] == [("Atelier", QuestionKind.SINGLE_CHOICE, ["Lecture", "Calcul"], True)]
