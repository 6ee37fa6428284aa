"""Attendance statistics: one meeting's figures, each organisation's attendance over a period,
their pages (filters, search, pagination, permissions, the SVG chart) and their query counts."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.attendance import services, statistics
from app.attendance.status import attendance_of
from app.extensions import db
from app.models import (
    Answer,
    Attendance,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    OrganisationKind,
)
from tests.factories import ContactFactory, OrganisationFactory, UserFactory
from tests.invitations_organiser_helpers import directory, invite_all
from tests.invitee_helpers import NOW, a_meeting, invite, set_answer

PARIS = ZoneInfo("Europe/Paris")
# Meetings of the service tests start one hour after NOW; the record closes after them.
DURING = NOW + timedelta(hours=2)
AFTER = NOW + timedelta(hours=6)
# The organisation statistics are read a few days later, over May 2026.
LATER = NOW + timedelta(days=5)
MAY = statistics.Period(date(2026, 5, 1), date(2026, 5, 31))


def real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def organisation(kind: OrganisationKind, name: str | None = None) -> Organisation:
    fields = {"kind": kind} | ({"name": name} if name else {})
    return OrganisationFactory(**fields)


def answered(meeting: Meeting, answer: Answer, **contact_fields) -> Invitation:
    invitation, _token = invite(meeting, **contact_fields)
    if answer is not Answer.NONE:
        set_answer(invitation, answer)
    return invitation


def marked(invitation: Invitation, attendance: Attendance) -> Invitation:
    invitation.attendance = attendance
    db.session.commit()
    return invitation


def walk_in(meeting: Meeting, home: Organisation | None, now: datetime = DURING) -> Invitation:
    invitation = services.add_walk_in(meeting, ContactFactory(organisation=home), None, now)
    db.session.commit()
    return invitation


# One meeting


def realistic_meeting(starts_at: datetime = NOW + timedelta(hours=1), now: datetime = DURING):
    """A meeting of social centres, schools and an association, with every case of the record:
    present, excused on the day, declined, no-show, silent, waiting list, walk-in, and a
    person without organisation."""
    meeting = a_meeting(starts_at=starts_at)
    centre = organisation(OrganisationKind.SOCIAL_CENTRE)
    school = organisation(OrganisationKind.SCHOOL)
    association = organisation(OrganisationKind.ASSOCIATION)
    marked(answered(meeting, Answer.COMING, organisation=centre), Attendance.PRESENT)
    answered(meeting, Answer.COMING, organisation=school)  # the no-show
    marked(answered(meeting, Answer.COMING, organisation=school), Attendance.EXCUSED)
    answered(meeting, Answer.NOT_COMING, organisation=association)
    answered(meeting, Answer.NONE, organisation=centre)
    answered(meeting, Answer.WAITING, organisation=centre)
    marked(answered(meeting, Answer.COMING, organisation=None), Attendance.PRESENT)
    walk_in(meeting, school, now)
    return meeting


def test_meeting_figures_once_the_record_is_closed(app):
    meeting = realistic_meeting()
    services.close_record(meeting, None, AFTER)
    db.session.commit()
    result = statistics.meeting_statistics(meeting)
    assert result.record_closed
    assert result.total == statistics.Figures(
        invited=7,
        answered=6,
        coming=4,
        no_shows=1,
        present=3,
        expected=0,
        excused=2,
        absent=2,
        walk_ins=1,
    )
    assert result.total.no_show_rate == 0.25
    # The same rule as the record page's counts.
    assert result.total.attendance == services.attendance_counts(meeting)
    by_kind = {row.kind: (row.figures.invited, row.figures.present) for row in result.by_kind}
    assert by_kind == {
        OrganisationKind.SOCIAL_CENTRE: (3, 1),
        OrganisationKind.SCHOOL: (2, 1),
        OrganisationKind.ASSOCIATION: (1, 0),
        None: (1, 1),
    }
    assert [row.kind for row in result.by_kind] == [
        OrganisationKind.SOCIAL_CENTRE,
        OrganisationKind.SCHOOL,
        OrganisationKind.ASSOCIATION,
        None,
    ]
    school = next(row for row in result.by_kind if row.kind is OrganisationKind.SCHOOL)
    assert school.figures.walk_ins == 1 and school.figures.no_shows == 1


def test_before_closing_people_coming_are_expected_not_no_shows(app):
    meeting = realistic_meeting()
    result = statistics.meeting_statistics(meeting)
    assert not result.record_closed
    assert (result.total.expected, result.total.absent, result.total.no_shows) == (1, 0, 0)
    assert result.total.no_show_rate == 0
    assert result.total.attendance == services.attendance_counts(meeting)


def test_meeting_without_anyone_coming_has_no_no_show_rate(app):
    meeting = a_meeting()
    answered(meeting, Answer.NOT_COMING)
    result = statistics.meeting_statistics(meeting)
    assert result.total.no_show_rate is None
    assert statistics.meeting_statistics(a_meeting()).by_kind == []


# Organisations over a period


def test_attendance_across_meetings_follows_each_meetings_record(app):
    open_meeting, closed_meeting = a_meeting(), a_meeting()
    for meeting in (open_meeting, closed_meeting):
        answered(meeting, Answer.COMING)
        answered(meeting, Answer.NOT_COMING)
        answered(meeting, Answer.NONE)
        answered(meeting, Answer.WAITING)
        marked(answered(meeting, Answer.COMING), Attendance.PRESENT)
    # Closed without storing the absences: the rule alone must say who was absent.
    closed_meeting.attendance_closed_at = AFTER
    db.session.commit()
    rows = db.session.execute(
        select(Invitation, statistics.attendance_across_meetings()).join(Invitation.meeting)
    ).all()
    assert len(rows) == 10
    for invitation, status in rows:
        assert status == attendance_of(invitation, invitation.meeting)
    assert Attendance.ABSENT in {status for _invitation, status in rows}


def in_may(day: int, hour: int = 9, **fields) -> Meeting:
    """A meeting of May 2026 at `hour`, Paris time."""
    starts_at = datetime(2026, 5, day, hour, 0, tzinfo=PARIS).astimezone(UTC)
    return a_meeting(starts_at=starts_at, **fields)


def organisation_figures(viewer, period=MAY, now=LATER, search="") -> dict[str, tuple[int, int]]:
    statement = statistics.organisation_attendance_query(viewer, period, PARIS, now, search)
    rows = statistics.organisation_attendance(db.session.execute(statement).all())
    return {row.organisation.name: (row.meetings, row.attended) for row in rows}


@pytest.fixture
def partners(app):
    """Three partners and the meetings of May: which count, who came."""
    agora = organisation(OrganisationKind.SOCIAL_CENTRE, "Centre social Agora")
    jaures = organisation(OrganisationKind.SCHOOL, "Collège Jean Jaurès")
    famille = organisation(OrganisationKind.ASSOCIATION, "École et Famille")
    organiser = UserFactory()

    closed = in_may(
        5, organisers=[organiser], attendance_closed_at=datetime(2026, 5, 5, 16, tzinfo=UTC)
    )
    marked(answered(closed, Answer.COMING, organisation=agora), Attendance.PRESENT)
    answered(closed, Answer.COMING, organisation=jaures)  # absent: the record is closed

    still_open = in_may(12)
    answered(still_open, Answer.NONE, organisation=agora)
    marked(answered(still_open, Answer.COMING, organisation=jaures), Attendance.PRESENT)
    # Came without being invited: École et Famille was not invited to this one.
    walk_in(still_open, famille, still_open.starts_at)

    # Invited through one person, represented by a colleague who walked in.
    represented = in_may(19)
    answered(represented, Answer.NOT_COMING, organisation=famille)
    walk_in(represented, famille, represented.starts_at)

    left_out = [
        in_may(6, status=MeetingStatus.DRAFT),
        in_may(7, status=MeetingStatus.CANCELLED),
        a_meeting(starts_at=datetime(2026, 4, 30, 12, tzinfo=UTC)),  # before May
        in_may(28),  # published, but still to come at LATER
    ]
    for meeting in left_out:
        marked(answered(meeting, Answer.COMING, organisation=agora), Attendance.PRESENT)
    db.session.commit()
    return organiser


def test_each_organisations_meetings_and_attendance(partners):
    admin = UserFactory(is_admin=True)
    assert organisation_figures(admin) == {
        "Centre social Agora": (2, 1),
        "Collège Jean Jaurès": (2, 1),
        "École et Famille": (1, 1),
    }
    assert statistics.count_meetings(admin, MAY, PARIS, LATER) == 3
    assert organisation_figures(admin, search="  COLLEGE JEAN ") == {"Collège Jean Jaurès": (2, 1)}


def test_organisers_only_count_their_own_meetings(partners):
    assert organisation_figures(partners) == {
        "Centre social Agora": (1, 1),
        "Collège Jean Jaurès": (1, 0),
    }
    assert organisation_figures(UserFactory()) == {}
    assert statistics.count_meetings(partners, MAY, PARIS, LATER) == 1


def test_period_days_are_whole_days_in_the_installations_time_zone(app):
    admin = UserFactory(is_admin=True)
    home = organisation(OrganisationKind.SOCIAL_CENTRE, "Centre social Agora")
    # 23:30 on 31 May in Paris is in May; 00:30 on 1 June is not, though still 31 May in UTC.
    for local_start in (datetime(2026, 5, 31, 23, 30), datetime(2026, 6, 1, 0, 30)):
        meeting = a_meeting(starts_at=local_start.replace(tzinfo=PARIS).astimezone(UTC))
        answered(meeting, Answer.COMING, organisation=home)
    june = NOW + timedelta(days=30)
    assert organisation_figures(admin, now=june) == {"Centre social Agora": (1, 0)}


@pytest.mark.parametrize(
    ("today", "start"),
    [(date(2026, 5, 20), date(2025, 5, 20)), (date(2028, 2, 29), date(2027, 2, 28))],
)
def test_default_period_is_the_last_twelve_months(today, start):
    assert statistics.default_period(today) == statistics.Period(start, today)


# The meeting statistics page


def meeting_now(**fields) -> Meeting:
    """A meeting under way by the clock of the request handlers."""
    now = real_now()
    return a_meeting(now=now, starts_at=now - timedelta(minutes=30), **fields)


def test_meeting_statistics_page(client, login):
    now = real_now()
    meeting = realistic_meeting(starts_at=now - timedelta(minutes=30), now=now)
    services.close_record(meeting, None, now)
    db.session.commit()
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/statistics").get_data(as_text=True)
    assert "<h1>Attendance statistics</h1>" in page
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)", page))
    assert figures == {
        "Invited": "7",
        "Answered": "6",
        "Said they were coming": "4",
        "Present": "3",
        "Excused": "2",
        "Absent": "2",
        "Walk-ins": "1",
    }
    assert "25%" in page and "(1 of the 4 people who said they were coming was absent)" in page
    assert "still open" not in page
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td class="numeric">(\d+)</td>\s*'
        r'<td class="numeric">(\d+)</td>',
        page,
    )
    assert rows == [
        ("Social centre", "3", "1"),
        ("School", "2", "1"),
        ("Association", "1", "0"),
        ("No organisation", "1", "1"),
        ("Total", "7", "3"),
    ]
    assert 'aria-current="page">Statistics</a>' in page


def test_record_page_links_to_the_statistics(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    page = client.get(f"/meetings/{meeting.id}/attendance").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/statistics"' in page


def test_meeting_statistics_while_the_record_is_open(client, login):
    meeting = meeting_now()
    answered(meeting, Answer.COMING)
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/statistics").get_data(as_text=True)
    assert "The attendance record is still open" in page
    assert "<dt>Expected</dt><dd>1</dd>" in page


def test_meeting_statistics_of_a_cancelled_meeting_say_so(client, login):
    meeting = meeting_now(status=MeetingStatus.CANCELLED)
    answered(meeting, Answer.COMING)
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/statistics").get_data(as_text=True)
    assert "This meeting is cancelled: there is no attendance to record." in page
    assert "still open" not in page


def test_meeting_statistics_are_for_the_meetings_organisers_and_administrators(client, login):
    meeting = meeting_now()
    url = f"/meetings/{meeting.id}/statistics"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.location
    login(UserFactory())
    assert client.get(url).status_code == 403
    login(UserFactory(is_admin=True))
    assert client.get(url).status_code == 200
    assert client.get(f"/meetings/{meeting.id + 1}/statistics").status_code == 404


# The organisation statistics page

ORGANISATIONS = "/meetings/statistics/organisations"


def last_month_meeting(**fields) -> Meeting:
    return a_meeting(starts_at=real_now() - timedelta(days=30), **fields)


@pytest.fixture
def recent(app):
    """Two meetings of last month: Agora came to both, Jaurès to one of two, Famille to none."""
    agora = organisation(OrganisationKind.SOCIAL_CENTRE, "Centre social Agora")
    jaures = organisation(OrganisationKind.SCHOOL, "Collège Jean Jaurès")
    famille = organisation(OrganisationKind.ASSOCIATION, "École et Famille")
    first, second = last_month_meeting(), last_month_meeting()
    for meeting in (first, second):
        marked(answered(meeting, Answer.COMING, organisation=agora), Attendance.PRESENT)
        answered(meeting, Answer.COMING, organisation=jaures)
    marked(answered(first, Answer.COMING, organisation=jaures), Attendance.PRESENT)
    answered(first, Answer.NOT_COMING, organisation=famille)
    return first, second


def table_rows(page: str) -> list[tuple[str, ...]]:
    return re.findall(
        r'<th scope="row"><a href="/organisations/\d+">([^<]+)</a></th>\s*<td>[^<]*</td>\s*'
        r'<td class="numeric">(\d+)</td>\s*<td class="numeric">(\d+)</td>\s*'
        r'<td class="numeric">([^<]+)</td>',
        page,
    )


def test_organisation_statistics_table_and_chart(client, login, recent):
    login(UserFactory(is_admin=True))
    client.set_cookie("lang", "en")
    page = client.get(ORGANISATIONS).get_data(as_text=True)
    assert "2 meetings counted in this period." in page
    assert table_rows(page) == [
        ("Centre social Agora", "2", "2", "100%"),
        ("Collège Jean Jaurès", "2", "1", "50%"),
        ("École et Famille", "1", "0", "0%"),
    ]
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.DOTALL).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="organisation-chart-title organisation-chart-desc"' in svg
    assert '<title id="organisation-chart-title">' in svg
    description = re.search(r'<desc id="organisation-chart-desc">(.*?)</desc>', svg).group(1)
    assert "Centre social Agora: 2 of 2 meetings attended (100%)." in description
    assert "Collège Jean Jaurès: 1 of 2 meetings attended (50%)." in description
    assert "École et Famille: 0 of 1 meeting attended (0%)." in description
    assert re.findall(r'<rect class="bar" [^>]*width="([\d.]+)%"', svg) == ["80.0", "40.0"]
    assert "<script" not in page and "style=" not in page


def test_organisation_statistics_default_to_the_last_twelve_months(client, login, recent):
    login(UserFactory(is_admin=True))
    today = datetime.now(PARIS).date()
    page = client.get(ORGANISATIONS).get_data(as_text=True)
    assert f'value="{today.isoformat()}"' in page
    assert f'value="{statistics.default_period(today).start.isoformat()}"' in page


def test_organisation_statistics_period_filter(client, login, recent):
    login(UserFactory(is_admin=True))
    client.set_cookie("lang", "en")
    long_ago = {"start": "2020-01-01", "end": "2020-12-31"}
    page = client.get(ORGANISATIONS, query_string=long_ago).get_data(as_text=True)
    assert "0 meetings counted in this period." in page
    assert "No organisation was invited to a meeting counted in this period." in page
    assert 'value="2020-01-01"' in page


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end", "cannot be before the start date"),
        ({"start": "2999-01-01"}, "end", "cannot be before the start date"),
        ({"start": "2026-13-45"}, "start", "Not a valid date value."),
        ({"end": "1 March"}, "end", "Not a valid date value."),
        ({"start": "0001-01-01"}, "start", "Give a date between the years 1900 and 2999."),
    ],
)
def test_organisation_statistics_date_errors(client, login, recent, arguments, field, message):
    login(UserFactory(is_admin=True))
    client.set_cookie("lang", "en")
    page = client.get(ORGANISATIONS, query_string=arguments).get_data(as_text=True)
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*{re.escape(message)}', page)
    assert re.search(rf'<input[^>]*aria-describedby="{field}-error"[^>]*aria-invalid="true"', page)
    assert "Please correct the errors below." in page
    assert "<svg" not in page and "meetings counted" not in page


def test_organisation_statistics_search(client, login, recent):
    login(UserFactory(is_admin=True))
    client.set_cookie("lang", "en")
    page = client.get(ORGANISATIONS, query_string={"q": "jaures"}).get_data(as_text=True)
    assert [row[0] for row in table_rows(page)] == ["Collège Jean Jaurès"]
    page = client.get(ORGANISATIONS, query_string={"q": "nowhere"}).get_data(as_text=True)
    assert "No organisation invited in this period matches this search." in page


def test_organisation_statistics_pages(app, client, login, recent):
    app.config["PAGE_SIZE"] = 2
    login(UserFactory(is_admin=True))
    client.set_cookie("lang", "en")
    arguments = {"start": "2000-01-01", "q": "e"}
    first = client.get(ORGANISATIONS, query_string=arguments).get_data(as_text=True)
    assert [row[0] for row in table_rows(first)] == ["Centre social Agora", "Collège Jean Jaurès"]
    assert "Page 1 of 2, 3 results" in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert "start=2000-01-01" in next_link and "q=e" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert [row[0] for row in table_rows(second)] == ["École et Famille"]
    assert second.count('<rect class="bar-track"') == 1


def test_organisation_statistics_only_count_the_viewers_meetings(client, login, recent):
    first, _second = recent
    login(first.organisers[0])
    client.set_cookie("lang", "en")
    page = client.get(ORGANISATIONS).get_data(as_text=True)
    assert "1 meeting counted in this period." in page
    assert "Only the meetings you organise are counted." in page
    assert table_rows(page) == [
        ("Centre social Agora", "1", "1", "100%"),
        ("Collège Jean Jaurès", "1", "1", "100%"),
        ("École et Famille", "1", "0", "0%"),
    ]
    login(UserFactory())
    page = client.get(ORGANISATIONS).get_data(as_text=True)
    assert "0 meetings counted in this period." in page and table_rows(page) == []


def test_organisation_statistics_need_a_login(client, recent):
    response = client.get(ORGANISATIONS)
    assert response.status_code == 302 and "/login" in response.location


def test_organisations_list_links_to_their_statistics(client, login, recent):
    login(UserFactory())
    page = client.get("/organisations/").get_data(as_text=True)
    assert f'href="{ORGANISATIONS}"' in page


# Queries: a fixed number whatever the number of invitations


def page_queries(client, count_queries, url: str) -> int:
    client.get(url)
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def invitees(meeting: Meeting, count: int) -> None:
    """`count` people invited to `meeting`: half coming, every fourth present."""
    invitations = invite_all(meeting, directory(count, prefix=f"m{meeting.id}-"), invited_at=NOW)
    for invitation in invitations[::2]:
        invitation.answer = Answer.COMING
    for invitation in invitations[::4]:
        invitation.attendance = Attendance.PRESENT
    db.session.commit()


def test_meeting_statistics_page_runs_the_same_queries_for_20_and_500(client, login, count_queries):
    small, large = meeting_now(), meeting_now()
    invitees(small, 20)
    invitees(large, 500)
    services.close_record(large, None, real_now())
    db.session.commit()
    login(UserFactory(is_admin=True))
    small_count = page_queries(client, count_queries, f"/meetings/{small.id}/statistics")
    large_count = page_queries(client, count_queries, f"/meetings/{large.id}/statistics")
    assert small_count == large_count <= 5


def test_organisation_statistics_page_runs_the_same_queries_for_20_and_500(
    client, login, count_queries
):
    login(UserFactory(is_admin=True))
    invitees(last_month_meeting(), 20)
    small_count = page_queries(client, count_queries, ORGANISATIONS)
    for _meeting in range(4):
        invitees(last_month_meeting(attendance_closed_at=real_now()), 120)
    large_count = page_queries(client, count_queries, ORGANISATIONS)
    assert small_count == large_count <= 5
