"""The meeting list: upcoming and past, state and text filters, own meetings first, query count."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import MeetingStatus
from tests.factories import MeetingFactory, UserFactory

NOW = datetime.now(UTC).replace(microsecond=0)


def titles(page: str) -> list[str]:
    """The meeting titles in the list, in order."""
    return re.findall(r'<a href="/meetings/\d+">([^<]+)</a>', page)


def list_page(client, **arguments) -> str:
    response = client.get("/meetings/", query_string=arguments)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def meeting_in(days: int, **values):
    starts_at = NOW + timedelta(days=days)
    return MeetingFactory(starts_at=starts_at, ends_at=starts_at + timedelta(hours=3), **values)


def test_upcoming_meetings_come_first_by_date_and_past_ones_latest_first(as_organiser):
    meeting_in(20, title="Dans vingt jours")
    meeting_in(2, title="Dans deux jours")
    meeting_in(-2, title="Il y a deux jours")
    meeting_in(-20, title="Il y a vingt jours")

    assert titles(list_page(as_organiser)) == ["Dans deux jours", "Dans vingt jours"]
    assert titles(list_page(as_organiser, period="past")) == [
        "Il y a deux jours",
        "Il y a vingt jours",
    ]


def test_a_meeting_under_way_is_still_upcoming(as_organiser):
    starts_at = NOW - timedelta(hours=1)
    MeetingFactory(title="En cours", starts_at=starts_at, ends_at=starts_at + timedelta(hours=3))
    assert titles(list_page(as_organiser)) == ["En cours"]


@pytest.mark.parametrize(
    ("period", "state", "expected"),
    [
        ("upcoming", "draft", ["Brouillon"]),
        ("upcoming", "published", ["Publiée"]),
        ("upcoming", "held", []),
        ("past", "held", ["Tenue"]),
        ("past", "published", []),
        ("upcoming", "cancelled", ["Annulée"]),
        ("upcoming", "", ["Brouillon", "Publiée", "Annulée"]),
    ],
)
def test_state_filter(as_organiser, period, state, expected):
    meeting_in(1, title="Brouillon", status=MeetingStatus.DRAFT)
    meeting_in(2, title="Publiée", status=MeetingStatus.PUBLISHED)
    meeting_in(-2, title="Tenue", status=MeetingStatus.PUBLISHED)
    meeting_in(3, title="Annulée", status=MeetingStatus.CANCELLED, cancellation_reason="Grève")
    assert titles(list_page(as_organiser, period=period, state=state)) == expected


def test_status_badges_show_the_derived_state(as_organiser):
    meeting_in(-2, title="Tenue", status=MeetingStatus.PUBLISHED)
    page = list_page(as_organiser, period="past")
    assert '<span class="status status-held">' in page


def test_text_search_ignores_accents_and_case(as_organiser):
    meeting_in(1, title="Liens École et centres sociaux", venue_town="Argenteuil")
    meeting_in(2, title="Conseil municipal", venue_town="Dijon")
    assert titles(list_page(as_organiser, q="ecole")) == ["Liens École et centres sociaux"]
    assert titles(list_page(as_organiser, q="ÉCOLE")) == ["Liens École et centres sociaux"]
    assert titles(list_page(as_organiser, q="argenteuil")) == ["Liens École et centres sociaux"]
    assert titles(list_page(as_organiser, q="dijon")) == ["Conseil municipal"]


def test_text_search_treats_like_wildcards_as_text(as_organiser):
    meeting_in(1, title="Bilan 100 % réussite")
    meeting_in(2, title="Bilan annuel")
    assert titles(list_page(as_organiser, q="%")) == ["Bilan 100 % réussite"]
    assert titles(list_page(as_organiser, q="_")) == []


def test_own_meetings_come_first(as_organiser, organiser):
    colleague = UserFactory()
    meeting_in(1, title="Celle d'une collègue", organisers=[colleague])
    meeting_in(5, title="La mienne, plus tard", organisers=[organiser])
    meeting_in(3, title="Sans organisateur")
    page = list_page(as_organiser)
    assert titles(page) == ["La mienne, plus tard", "Celle d&#39;une collègue", "Sans organisateur"]
    assert page.count('class="mine"') == 1


def test_list_shows_venue_or_online_and_the_french_date(as_organiser):
    meeting = meeting_in(
        1,
        title="En ligne",
        venue_name="",
        venue_address="",
        venue_town="",
        online_url="https://visio.example.org",
    )
    page = list_page(as_organiser)
    assert "En ligne" in page
    local_start = meeting.starts_at.astimezone(meeting.zone)
    assert f"{local_start.hour} h {local_start.minute:02d}" in page


def test_an_unknown_state_is_ignored(as_organiser):
    meeting_in(1, title="Une réunion")
    assert titles(list_page(as_organiser, state="bogus", period="later")) == ["Une réunion"]


def test_list_is_paginated(app, as_organiser):
    app.config["PAGE_SIZE"] = 2
    for days in range(1, 6):
        meeting_in(days, title=f"Réunion {days}")
    assert titles(list_page(as_organiser, page=3)) == ["Réunion 5"]


def add_meetings(count: int, organiser) -> None:
    # One commit for all rows: a thousand factory commits would only slow the test down.
    meetings = MeetingFactory.build_batch(count)
    for number, meeting in enumerate(meetings):
        meeting.starts_at = NOW + timedelta(days=1, minutes=number)
        meeting.ends_at = meeting.starts_at + timedelta(hours=2)
        if number % 3 == 0:
            meeting.organisers = [organiser]
    db.session.add_all(meetings)
    db.session.commit()


def queries_for_list(client, count_queries) -> int:
    client.get("/meetings/")  # the first request also checks that setup is done
    db.session.expire_all()  # each request of a real server starts from an empty session
    with count_queries() as counter:
        response = client.get("/meetings/")
    assert response.status_code == 200
    return counter.count


def test_meeting_list_runs_the_same_queries_for_10_and_1000_meetings(
    as_organiser, organiser, count_queries
):
    add_meetings(10, organiser)
    with_ten = queries_for_list(as_organiser, count_queries)
    add_meetings(990, organiser)
    with_a_thousand = queries_for_list(as_organiser, count_queries)

    # The user, the count, the page of meetings and their organisers.
    assert with_ten == with_a_thousand <= 4
    page = list_page(as_organiser)
    assert len(titles(page)) == 50
