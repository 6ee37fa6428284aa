"""The public page of an open meeting (/m/<slug>): who sees it, what it shows, its address made
once from the title and date, and the organisation suggestions of its form."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.meetings.services import publish_meeting, set_public_slug
from app.models import Answer, Meeting, MeetingStatus, MeetingVisibility
from tests.factories import OrganisationFactory
from tests.invitee_helpers import a_meeting, invite, set_answer


def open_meeting(**fields) -> Meeting:
    """A published open meeting two weeks from now, with its public address."""
    values = {
        "visibility": MeetingVisibility.OPEN,
        "slug": "reunion-des-centres-sociaux",
        "title": "Réunion des centres sociaux",
    }
    values.update(fields)
    return a_meeting(now=datetime.now(UTC), **values)


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


# Who sees the page


def test_an_open_published_meeting_has_a_public_page_without_login(english):
    meeting = open_meeting(capacity=30, answer_deadline=None)

    response = english.get(f"/m/{meeting.slug}")

    assert response.status_code == 200
    page = response.text
    assert "Réunion des centres sociaux" in page
    assert "Maison des associations" in page
    assert "https://www.openstreetmap.org/search?query=2+rue+des+Corroyeurs%2C+21000+Dijon" in page
    assert "Accueil café" in page  # the programme
    assert "Claire Martin" in page  # the contact person
    assert "30 places left" in page
    assert 'name="email"' in page
    assert "Register" in page


def test_the_date_is_written_in_french_in_the_meetings_zone(client):
    meeting = open_meeting(
        starts_at=datetime(2030, 6, 5, 7, 0, tzinfo=UTC),
        answer_deadline=datetime(2030, 6, 1, 21, 59, tzinfo=UTC),
    )

    page = client.get(f"/m/{meeting.slug}").text

    assert "mercredi 5 juin 2030, de 9 h 00 à 12 h 00" in page
    assert "samedi 1er juin 2030 à 23 h 59" in page


@pytest.mark.parametrize(
    "fields",
    [
        {"visibility": MeetingVisibility.INVITATION_ONLY},
        {"status": MeetingStatus.DRAFT},
    ],
    ids=["invitation-only", "draft"],
)
def test_invitation_only_and_draft_meetings_have_no_public_page(client, fields):
    meeting = open_meeting(**fields)

    assert client.get(f"/m/{meeting.slug}").status_code == 404
    assert client.get(f"/m/{meeting.slug}/organisations?q=ce").status_code == 404
    assert client.post(f"/m/{meeting.slug}/register", data={}).status_code == 404


def test_an_unknown_address_is_not_found(client):
    open_meeting()

    assert client.get("/m/no-such-meeting").status_code == 404


def test_a_cancelled_meeting_says_so_and_takes_no_registration(english):
    meeting = open_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Salle inondée")

    response = english.get(f"/m/{meeting.slug}")

    assert response.status_code == 200
    assert "This meeting is cancelled" in response.text
    assert "Salle inondée" in response.text
    assert 'name="email"' not in response.text


def test_a_full_meeting_shows_its_waiting_list(english):
    meeting = open_meeting(capacity=1)
    invitation, _token = invite(meeting)
    set_answer(invitation, Answer.COMING)

    page = english.get(f"/m/{meeting.slug}").text

    assert "Full — waiting list" in page
    assert "you will be put on the waiting list" in page
    assert 'name="email"' in page


def test_registrations_close_at_the_deadline(english):
    meeting = open_meeting(answer_deadline=datetime.now(UTC) - timedelta(hours=1))

    page = english.get(f"/m/{meeting.slug}").text

    assert "Registrations closed on" in page
    assert 'name="email"' not in page


def test_registrations_close_once_the_meeting_has_started(english):
    started = datetime.now(UTC) - timedelta(minutes=30)
    meeting = open_meeting(starts_at=started, ends_at=started + timedelta(hours=3))

    page = english.get(f"/m/{meeting.slug}").text

    assert "registrations are closed" in page
    assert 'name="email"' not in page


def test_an_online_meeting_shows_its_link(english):
    meeting = open_meeting(
        venue_name="", venue_address="", venue_postcode="", venue_town="",
        online_url="https://visio.example.org/reseau",
    )  # fmt: skip

    page = english.get(f"/m/{meeting.slug}").text

    assert '<a href="https://visio.example.org/reseau" rel="noopener noreferrer">' in page
    assert "openstreetmap" not in page


def test_the_form_has_a_hidden_honeypot_and_the_consent_sentence(english):
    meeting = open_meeting()

    page = english.get(f"/m/{meeting.slug}").text

    assert '<div class="visually-hidden" aria-hidden="true">' in page
    assert 'name="website" tabindex="-1"' in page or (
        'name="website"' in page and 'tabindex="-1"' in page
    )
    assert "The details you give are used only to organise this meeting" in page
    assert 'name="consent"' in page
    assert "organisation_suggestions.js" in page


# The public address


def test_publishing_an_open_meeting_gives_it_its_address(app):
    meeting = a_meeting(
        now=datetime.now(UTC),
        title="Réunion des Centres sociaux : l'été !",
        status=MeetingStatus.DRAFT,
        visibility=MeetingVisibility.OPEN,
        starts_at=datetime(2030, 12, 8, 8, 0, tzinfo=UTC),
    )

    publish_meeting(meeting, datetime.now(UTC))

    assert meeting.slug == "reunion-des-centres-sociaux-l-ete-2030-12-08"


def test_a_second_meeting_with_the_same_title_and_day_gets_a_suffix(app):
    starts_at = datetime(2030, 12, 8, 8, 0, tzinfo=UTC)
    slugs = []
    for _number in range(3):
        meeting = a_meeting(
            title="Café des parents",
            status=MeetingStatus.DRAFT,
            visibility=MeetingVisibility.OPEN,
            starts_at=starts_at,
        )
        publish_meeting(meeting, datetime.now(UTC))
        db.session.commit()
        slugs.append(meeting.slug)

    assert slugs == [
        "cafe-des-parents-2030-12-08",
        "cafe-des-parents-2030-12-08-2",
        "cafe-des-parents-2030-12-08-3",
    ]


def test_the_date_of_the_address_is_the_local_date(app):
    # 23:30 UTC on 7 December is already 8 December in Paris.
    meeting = a_meeting(
        title="Veillée",
        status=MeetingStatus.DRAFT,
        visibility=MeetingVisibility.OPEN,
        starts_at=datetime(2030, 12, 7, 23, 30, tzinfo=UTC),
    )

    publish_meeting(meeting, datetime.now(UTC))

    assert meeting.slug == "veillee-2030-12-08"


def test_an_invitation_only_meeting_gets_no_address(app):
    meeting = a_meeting(title="Bureau", status=MeetingStatus.DRAFT)

    publish_meeting(meeting, datetime.now(UTC))

    assert meeting.slug is None


def test_the_address_never_changes_once_set(app):
    meeting = a_meeting(title="Premier titre", visibility=MeetingVisibility.OPEN)
    set_public_slug(meeting)
    first = meeting.slug

    meeting.title = "Un tout autre titre"
    meeting.starts_at += timedelta(days=3)
    set_public_slug(meeting)

    assert first.startswith("premier-titre-")
    assert meeting.slug == first


# The meeting form


def meeting_form(**changes) -> dict:
    values = {
        "title": "Forum des bénévoles",
        "start_date": "2030-12-08",
        "start_time": "09:00",
        "end_time": "12:00",
        "timezone": "Europe/Paris",
        "venue_name": "Maison des associations",
        "visibility": "invitation_only",
    }
    values.update(changes)
    return values


def test_a_new_meeting_is_invitation_only_by_default(app, as_organiser):
    page = as_organiser.get("/meetings/new").text
    assert re.search(r'<input checked[^>]*value="invitation_only"', page)

    response = as_organiser.post("/meetings/new", data=meeting_form(visibility=None))

    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting))
    assert meeting.visibility is MeetingVisibility.INVITATION_ONLY
    assert meeting.registrations_moderated is False


def test_the_form_sets_the_visibility_and_the_moderation(app, as_organiser):
    response = as_organiser.post(
        "/meetings/new", data=meeting_form(visibility="open", registrations_moderated="y")
    )

    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting))
    assert meeting.visibility is MeetingVisibility.OPEN
    assert meeting.registrations_moderated is True
    assert meeting.slug is None  # a draft has no public page yet


def test_the_form_refuses_an_unknown_visibility(app, as_organiser):
    as_organiser.set_cookie("lang", "en")

    response = as_organiser.post("/meetings/new", data=meeting_form(visibility="everyone"))

    assert response.status_code == 200
    assert "Not a valid choice" in response.text
    assert db.session.scalar(db.select(Meeting)) is None


def test_a_published_meeting_made_open_gets_its_address_and_keeps_it(app, as_organiser, organiser):
    meeting = a_meeting(title="Forum des bénévoles", organisers=[organiser])
    local_day = meeting.starts_at.astimezone(meeting.zone)
    form = meeting_form(
        start_date=local_day.date().isoformat(),
        start_time=local_day.strftime("%H:%M"),
        end_time=(local_day + timedelta(hours=3)).strftime("%H:%M"),
        organisers=[organiser.id],
    )

    as_organiser.post(f"/meetings/{meeting.id}/edit", data={**form, "visibility": "open"})
    db.session.refresh(meeting)
    first = meeting.slug
    as_organiser.post(
        f"/meetings/{meeting.id}/edit",
        data={**form, "visibility": "open", "title": "Forum renommé"},
    )
    db.session.refresh(meeting)

    assert first == f"forum-des-benevoles-{local_day.date().isoformat()}"
    assert meeting.title == "Forum renommé"
    assert meeting.slug == first


def test_the_meeting_page_shows_the_public_address(app, as_organiser, organiser):
    as_organiser.set_cookie("lang", "en")
    meeting = open_meeting(organisers=[organiser])

    page = as_organiser.get(f"/meetings/{meeting.id}").text

    assert f"http://localhost/m/{meeting.slug}" in page
    assert f"/meetings/{meeting.id}/registrations" in page
    assert "awaiting approval" in page


def test_an_invitation_only_meeting_page_has_no_registration_section(app, as_organiser, organiser):
    as_organiser.set_cookie("lang", "en")
    meeting = a_meeting(organisers=[organiser])

    page = as_organiser.get(f"/meetings/{meeting.id}").text

    assert "Public registration" not in page


# Organisation suggestions


def test_suggestions_match_name_or_town_without_accents(client):
    meeting = open_meeting()
    OrganisationFactory(name="Centre social Les Grésilles", town="Dijon")
    OrganisationFactory(name="Collège Rameau", town="Chenôve")
    OrganisationFactory(name="Nouvelle asso", town="Dijon", pending_review=True)

    by_name = client.get(f"/m/{meeting.slug}/organisations?q=gresil").get_json()
    by_town = client.get(f"/m/{meeting.slug}/organisations?q=chenove").get_json()
    too_short = client.get(f"/m/{meeting.slug}/organisations?q=c").get_json()
    pending = client.get(f"/m/{meeting.slug}/organisations?q=nouvelle").get_json()

    assert [each["label"] for each in by_name["organisations"]] == [
        "Centre social Les Grésilles (Dijon)"
    ]
    assert by_town["organisations"][0]["name"] == "Collège Rameau"
    assert isinstance(by_town["organisations"][0]["id"], int)
    assert too_short == {"organisations": []}
    assert pending == {"organisations": []}  # typed by a visitor: not shown to others


def test_suggestions_are_at_most_ten(client):
    meeting = open_meeting()
    for number in range(15):
        OrganisationFactory(name=f"Centre social {number:02d}")

    found = client.get(f"/m/{meeting.slug}/organisations?q=centre").get_json()

    assert len(found["organisations"]) == 10


def test_suggestions_are_rate_limited(app, client):
    app.config["INVITEE_RATE_LIMIT"] = "3 per minute"
    meeting = open_meeting()

    statuses = [
        client.get(f"/m/{meeting.slug}/organisations?q=centre").status_code for _n in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
