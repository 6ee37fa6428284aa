"""The network's public agenda: which meetings it lists, its filters and pages, its iCalendar
feed, and the embeddable list, the only page other sites may frame."""

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.extensions import db
from app.models import (
    Answer,
    Group,
    Invitation,
    MeetingStatus,
    MeetingVisibility,
    SiteSettings,
)
from app.text import fold
from tests.factories import ContactFactory, MeetingFactory

_slugs = itertools.count(1)


def open_meeting(**fields):
    """A published open meeting with its public address, two weeks from now by default."""
    fields.setdefault("visibility", MeetingVisibility.OPEN)
    fields.setdefault("slug", f"rencontre-{next(_slugs)}")
    return MeetingFactory(**fields)


def make_group(name: str, archived: bool = False) -> Group:
    group = Group(
        name=name,
        search_key=fold(name),
        archived_at=datetime.now(UTC) if archived else None,
    )
    db.session.add(group)
    db.session.commit()
    return group


def add_answers(meeting, *answers: Answer) -> None:
    for answer in answers:
        db.session.add(Invitation(meeting=meeting, contact=ContactFactory(), answer=answer))
    db.session.commit()


def save_origins(origins: str) -> None:
    db.session.merge(
        SiteSettings(id=1, network_name="", registration_consent="", embed_origins=origins)
    )
    db.session.commit()


def listed_titles(page: str) -> list[str]:
    return [
        title.strip()
        for title in re.findall(r'<h2 id="meeting-\d+"><a href="[^"]*"[^>]*>([^<]*)', page)
    ]


@pytest.fixture
def visitor(client, admin):
    """A visitor who is not logged in, reading English."""
    client.set_cookie("lang", "en")
    return client


# Which meetings


def test_agenda_lists_only_open_published_meetings_not_yet_ended(visitor):
    now = datetime.now(UTC)
    open_meeting(title="Ouverte à tous")
    open_meeting(
        title="Déjà commencée", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    MeetingFactory(title="Sur invitation", slug="sur-invitation")
    open_meeting(title="Brouillon", status=MeetingStatus.DRAFT)
    open_meeting(title="Annulée", status=MeetingStatus.CANCELLED)
    open_meeting(
        title="Passée", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2, hours=-3)
    )
    open_meeting(title="Sans adresse publique", slug=None)

    response = visitor.get("/agenda")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert listed_titles(page) == ["Déjà commencée", "Ouverte à tous"]
    for hidden in ("Sur invitation", "Brouillon", "Annulée", "Passée", "Sans adresse publique"):
        assert hidden not in page
    assert "Registrations closed" in page


def test_agenda_shows_each_meeting_in_french_with_its_page_town_and_groups(client, admin):
    meeting = open_meeting(
        title="Groupe École et Famille",
        slug="groupe-ecole-et-famille-2030-06-04",
        starts_at=datetime(2030, 6, 4, 7, 0, tzinfo=UTC),
        ends_at=datetime(2030, 6, 4, 10, 30, tzinfo=UTC),
        venue_town="Cergy",
    )
    meeting.groups = [make_group("Personnels scolaires"), make_group("Centres sociaux")]
    db.session.commit()

    page = client.get("/agenda").get_data(as_text=True)

    assert "mardi 4 juin 2030, de 9 h 00 à 12 h 30" in page
    assert 'href="http://localhost/m/groupe-ecole-et-famille-2030-06-04"' in page
    assert "Cergy" in page
    assert "Centres sociaux, Personnels scolaires" in page


def test_agenda_names_the_time_zone_of_a_meeting_held_elsewhere(visitor):
    open_meeting(
        title="Rencontre ultramarine",
        timezone="America/Martinique",
        starts_at=datetime(2030, 6, 4, 13, 0, tzinfo=UTC),
        ends_at=datetime(2030, 6, 4, 15, 0, tzinfo=UTC),
    )
    page = visitor.get("/agenda").get_data(as_text=True)
    assert "from 9:00 to 11:00 (time zone: America/Martinique)" in page


def test_agenda_lists_meetings_in_date_order(visitor):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    open_meeting(title="Troisième", starts_at=soon + timedelta(days=20))
    open_meeting(title="Première", starts_at=soon)
    open_meeting(title="Deuxième", starts_at=soon + timedelta(days=1))
    page = visitor.get("/agenda").get_data(as_text=True)
    assert listed_titles(page) == ["Première", "Deuxième", "Troisième"]


def test_agenda_shows_places_left_or_the_waiting_list(visitor):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    roomy = open_meeting(title="Places", capacity=5, starts_at=soon)
    add_answers(roomy, Answer.COMING, Answer.NOT_COMING, Answer.NONE)
    full = open_meeting(title="Complète", capacity=2, starts_at=soon + timedelta(days=1))
    add_answers(full, Answer.COMING, Answer.COMING, Answer.WAITING)
    open_meeting(title="Sans limite", starts_at=soon + timedelta(days=2))
    open_meeting(
        title="Clôturée",
        capacity=10,
        starts_at=soon + timedelta(days=3),
        answer_deadline=datetime.now(UTC) - timedelta(hours=1),
    )

    page = visitor.get("/agenda").get_data(as_text=True)

    items = page.split('<article class="agenda-meeting"')[1:]
    assert "4 places left" in items[0]
    assert "Full — waiting list" in items[1]
    assert "places left" not in items[2] and "Full" not in items[2]
    assert "Registrations closed" in items[3]


def test_agenda_needs_no_login_and_names_the_network(visitor):
    save_origins("")
    settings = db.session.get(SiteSettings, 1)
    settings.network_name = "Réseau du Val d'Oise"
    db.session.commit()
    response = visitor.get("/agenda")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Open meetings of Réseau du Val d&#39;Oise</h1>" in page
    assert "<title>Open meetings of Réseau du Val d&#39;Oise · Rencontres</title>" in page
    assert "No open meeting is planned for now." in page


def test_login_page_links_to_the_agenda(visitor):
    assert 'href="/agenda"' in visitor.get("/login").get_data(as_text=True)


# Filters


def test_group_filter_offers_active_groups_with_meetings_and_filters_by_group(visitor):
    coordination = make_group("Coordination PRE")
    archived = make_group("Ancien groupe", archived=True)
    idle = make_group("Groupe sans rencontre")
    with_group = open_meeting(title="Coordination de juin")
    with_group.groups = [coordination]
    with_archived = open_meeting(title="Réunion de l'ancien groupe")
    with_archived.groups = [archived]
    open_meeting(title="Hors groupe")
    db.session.commit()

    page = visitor.get("/agenda").get_data(as_text=True)
    group_select = page.split('<select id="group"')[1].split("</select>")[0]
    assert f'value="{coordination.id}"' in group_select
    assert "Ancien groupe" not in group_select
    assert "Groupe sans rencontre" not in group_select

    page = visitor.get(f"/agenda?group={coordination.id}").get_data(as_text=True)
    assert listed_titles(page) == ["Coordination de juin"]
    assert f'<option selected value="{coordination.id}">' in page

    # A group with nothing planned is a valid filter with an empty result.
    page = visitor.get(f"/agenda?group={idle.id}").get_data(as_text=True)
    assert listed_titles(page) == []
    assert "No open meeting matches these filters for now." in page


@pytest.mark.parametrize(
    "value", ["abc", "-1", "1e3", "999999", "٣", "99999999999999999999999", "archived"]
)
def test_a_bad_group_value_is_explained_and_not_applied(visitor, value):
    archived = make_group("Ancien groupe", archived=True)
    open_meeting(title="Réunion ouverte")
    value = str(archived.id) if value == "archived" else value
    response = visitor.get("/agenda", query_string={"group": value})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This group is unknown or archived: all groups are shown." in page
    assert 'aria-invalid="true"' in page
    assert listed_titles(page) == ["Réunion ouverte"]


def test_town_filter_offers_the_towns_present_and_filters_by_town(visitor):
    open_meeting(title="À Dijon", venue_town="Dijon")
    open_meeting(title="À Évry", venue_town="Évry")
    open_meeting(title="À Paris", venue_town="Paris")
    open_meeting(
        title="En ligne",
        venue_name="",
        venue_address="",
        venue_town="",
        online_url="https://visio.example.org/x",
    )
    MeetingFactory(title="Sur invitation à Lyon", venue_town="Lyon")

    page = visitor.get("/agenda").get_data(as_text=True)
    town_select = page.split('<select id="town"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)">', town_select) == ["", "Dijon", "Évry", "Paris"]

    page = visitor.get("/agenda?town=Évry").get_data(as_text=True)
    assert listed_titles(page) == ["À Évry"]


def test_an_unknown_town_gives_an_empty_list_that_says_so(visitor):
    open_meeting(title="À Dijon", venue_town="Dijon")
    response = visitor.get("/agenda?town=Lyon")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert listed_titles(page) == []
    assert "No open meeting matches these filters for now." in page
    assert '<option selected value="Lyon">' in page

    response = visitor.get("/agenda", query_string={"town": "x" * 500})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This is not a town&#39;s name: all towns are shown." in page
    assert listed_titles(page) == ["À Dijon"]


def test_agenda_is_paginated_keeping_its_filters(visitor, app):
    app.config["PAGE_SIZE"] = 2
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    for number in range(5):
        open_meeting(
            title=f"Dijon {number}", venue_town="Dijon", starts_at=soon + timedelta(days=number)
        )
    open_meeting(title="Ailleurs", venue_town="Beaune", starts_at=soon)

    first = visitor.get("/agenda?town=Dijon").get_data(as_text=True)
    assert listed_titles(first) == ["Dijon 0", "Dijon 1"]
    assert "Page 1 of 3, 5 results" in first
    assert 'href="/agenda?town=Dijon&amp;page=2" rel="next"' in first
    last = visitor.get("/agenda?town=Dijon&page=3").get_data(as_text=True)
    assert listed_titles(last) == ["Dijon 4"]


def test_agenda_costs_the_same_queries_for_2_or_30_meetings(visitor, count_queries):
    def add_meetings(count: int, start: int) -> None:
        groups = [make_group(f"Groupe {start + number}") for number in range(2)]
        for number in range(start, start + count):
            meeting = open_meeting(
                title=f"Réunion {number}", capacity=20, venue_town=f"Ville {number}"
            )
            meeting.groups = groups
            add_answers(meeting, Answer.COMING, Answer.WAITING)

    add_meetings(2, 0)
    visitor.get("/agenda")
    with count_queries() as few:
        assert visitor.get("/agenda?town=Ville+1").status_code == 200
    add_meetings(28, 2)
    with count_queries() as many:
        page = visitor.get("/agenda?town=Ville+1").get_data(as_text=True)
    assert "19 places left" in page
    assert many.count == few.count
    with count_queries() as unfiltered:
        page = visitor.get("/agenda").get_data(as_text=True)
    assert len(listed_titles(page)) == 30
    assert unfiltered.count == few.count
    assert few.count <= 7, few.statements


# The iCalendar feed


def test_agenda_feed_lists_the_same_meetings_and_links_their_pages(visitor):
    listed = open_meeting(
        title="Coordination PRE",
        slug="coordination-pre-2030-06-04",
        starts_at=datetime(2030, 6, 4, 7, 0, tzinfo=UTC),
        ends_at=datetime(2030, 6, 4, 10, 30, tzinfo=UTC),
    )
    MeetingFactory(title="Sur invitation")
    open_meeting(title="Annulée", status=MeetingStatus.CANCELLED)
    open_meeting(title="À Beaune", venue_town="Beaune")

    response = visitor.get("/agenda.ics?town=Dijon")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.get_data())
    events = calendar.walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in events] == ["Coordination PRE"]
    event = events[0]
    assert str(event["UID"]) == f"meeting-{listed.id}@localhost"
    assert str(event["URL"]) == "http://localhost/m/coordination-pre-2030-06-04"
    assert "http://localhost/m/coordination-pre-2030-06-04" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime(2030, 6, 4, 7, 0, tzinfo=UTC)
    assert str(calendar["X-WR-CALNAME"]) == "Open meetings"
    assert calendar.walk("VTIMEZONE")

    whole = Calendar.from_ical(visitor.get("/agenda.ics").get_data())
    assert sorted(str(event["SUMMARY"]) for event in whole.walk("VEVENT")) == [
        "Coordination PRE",
        "À Beaune",
    ]


def test_agenda_feed_answers_304_while_nothing_changed(visitor):
    meeting = open_meeting(title="Coordination PRE")
    first = visitor.get("/agenda.ics")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]

    again = visitor.get("/agenda.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""

    meeting.title = "Coordination PRE (salle changée)"
    db.session.commit()
    changed = visitor.get("/agenda.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "salle changée" in changed.get_data(as_text=True)


def test_agenda_feed_of_a_group_filters_and_refuses_unknown_groups(visitor):
    group = make_group("Coordination PRE")
    meeting = open_meeting(title="Coordination")
    meeting.groups = [group]
    open_meeting(title="Autre")
    db.session.commit()
    calendar = Calendar.from_ical(visitor.get(f"/agenda.ics?group={group.id}").get_data())
    assert [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")] == ["Coordination"]
    assert visitor.get("/agenda.ics?group=abc").status_code == 404
    assert visitor.get("/agenda.ics?group=999").status_code == 404
    assert visitor.get("/agenda.ics?group=99999999999999999999999").status_code == 404


def test_agenda_page_links_to_its_feed_with_its_filters(visitor):
    open_meeting(title="À Dijon", venue_town="Dijon")
    page = visitor.get("/agenda?town=Dijon").get_data(as_text=True)
    assert 'href="/agenda.ics?town=Dijon"' in page


# The embeddable list and who may frame it


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    directives = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")]
    assert len(directives) == 1
    return directives[0].removeprefix("frame-ancestors ")


def test_embedded_agenda_is_the_bare_list_opening_meetings_outside_the_frame(visitor):
    open_meeting(title="Coordination PRE", slug="coordination-pre")
    response = visitor.get("/agenda/embed")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert listed_titles(page) == ["Coordination PRE"]
    assert 'href="http://localhost/m/coordination-pre" target="_blank" rel="noopener"' in page
    assert "(opens in a new tab)" in page
    assert "site-nav" not in page and "/login" not in page and "skip-link" not in page
    assert 'action="/agenda/embed"' in page
    # Nothing kept about the visitor of another site.
    assert "Set-Cookie" not in response.headers


def test_embedded_agenda_cannot_be_framed_while_no_site_is_allowed(visitor):
    response = visitor.get("/agenda/embed")
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "origins",
    [
        ["https://www.centres-sociaux-95.org"],
        ["https://www.centres-sociaux-95.org", "https://*.val-doise.fr", "http://localhost:8080"],
    ],
)
def test_embedded_agenda_may_be_framed_by_the_allowed_sites_only(visitor, origins):
    save_origins("\n".join(origins))
    response = visitor.get("/agenda/embed")
    assert frame_ancestors(response) == " ".join(origins)
    # X-Frame-Options cannot name sites: browsers follow the policy.
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/agenda", "/agenda?town=Dijon", "/agenda.ics", "/login", "/no-such-page"]
)
def test_every_other_page_stays_unframable(visitor, path):
    save_origins("https://www.centres-sociaux-95.org")
    response = visitor.get(path)
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_settings_page_stays_unframable(as_admin):
    save_origins("https://www.centres-sociaux-95.org")
    response = as_admin.get("/admin/settings")
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_stored_value_that_is_not_an_origin_never_reaches_the_header(visitor):
    # Written around the form's check, as an old or hand-edited row could be.
    save_origins(
        "https://ok.example.org\n"
        "https://evil.example; script-src *\n"
        "'unsafe-inline'\n"
        "https://a.example.org https://b.example.org\n"
        "https://c.example.org\r\nX-Injected: yes\n"
        "*\n"
        "https://d.example.org/path"
    )
    response = visitor.get("/agenda/embed")
    assert response.status_code == 200
    assert frame_ancestors(response) == "https://ok.example.org https://c.example.org"
    policy = response.headers["Content-Security-Policy"]
    assert "\n" not in policy and "\r" not in policy
    assert "script-src *" not in policy and "evil" not in policy
    assert "X-Injected" not in response.headers


def test_only_malformed_values_stored_means_nobody_may_frame(visitor):
    save_origins("https://evil.example; frame-ancestors *\n*")
    response = visitor.get("/agenda/embed")
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_agenda_links_lead_to_the_meetings_public_pages(visitor):
    open_meeting(title="Coordination PRE", slug="coordination-pre")
    page = visitor.get("/agenda").get_data(as_text=True)
    link = re.search(r'<h2 id="meeting-\d+"><a href="http://localhost(/m/[^"]+)"', page).group(1)
    response = visitor.get(link)
    assert response.status_code == 200
    assert "Coordination PRE" in response.get_data(as_text=True)
