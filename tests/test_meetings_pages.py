"""Meeting pages: the form and its rules, the detail page, and the publish/cancel/delete flows."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Meeting, MeetingStatus, ProgrammeItem
from tests.factories import MeetingFactory, UserFactory

SEED_DAY = "mardi 5 juin 2018, de 9 h 00 à 12 h 30"


def seed_form(**changes) -> dict:
    """The seed invitation as an organiser would type it into the form."""
    values = {
        "title": "Liens École et centres sociaux",
        "description": "Tour d'horizon des liens entre école et centres sociaux.",
        "programme": "9:00 Accueil\n9 h 30 – Tour d'horizon\n\n12h Synthèse",
        "start_date": "2018-06-05",
        "start_time": "09:00",
        "end_time": "12:30",
        "timezone": "Europe/Paris",
        "venue_name": "Maison Pour Tous",
        "venue_address": "8, place de la commune de Paris",
        "venue_postcode": "95100",
        "venue_town": "Argenteuil",
        "venue_access_notes": "Bus 272, arrêt Collège Jean Jaurès",
        "contact_name": "Judicaëlle Feron",
        "contact_function": "Chargée de missions",
        "contact_organisation": "Fédération des Centres Sociaux du Val d'Oise",
        "contact_email": "j.feron@example.org",
        "contact_phone": "01 34 00 00 00",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def invalid_fields(page: str) -> set[str]:
    """The ids of the form controls marked aria-invalid="true"."""
    tags = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    return {re.search(r'\bid="([^"]+)"', tag)[1] for tag in tags if 'aria-invalid="true"' in tag}


def meeting_count() -> int:
    return db.session.scalar(select(func.count(Meeting.id)))


def seed_meeting(**changes) -> Meeting:
    values = {
        "title": "Liens École et centres sociaux",
        "starts_at": datetime(2018, 6, 5, 7, 0, tzinfo=UTC),
        "ends_at": datetime(2018, 6, 5, 10, 30, tzinfo=UTC),
        "venue_name": "Maison Pour Tous",
        "venue_address": "8, place de la commune de Paris",
        "venue_postcode": "95100",
        "venue_town": "Argenteuil",
    }
    values.update(changes)
    return MeetingFactory(**values)


# Creating and the form


def test_new_meeting_form_prefills_the_contact_and_the_organiser(as_organiser, organiser):
    page = as_organiser.get("/meetings/new").get_data(as_text=True)
    assert 'value="Olivier Organisateur"' in page
    assert re.search(
        rf'<input checked id="organisers-\d+" name="organisers" '
        rf'type="checkbox" value="{organiser.id}">',
        page,
    )


def test_create_meeting_saves_a_draft_in_utc(as_organiser, organiser):
    response = as_organiser.post("/meetings/new", data=seed_form())

    meeting = db.session.scalars(select(Meeting)).one()
    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{meeting.id}")
    assert meeting.status is MeetingStatus.DRAFT
    assert meeting.starts_at == datetime(2018, 6, 5, 7, 0, tzinfo=UTC)
    assert meeting.ends_at == datetime(2018, 6, 5, 10, 30, tzinfo=UTC)
    assert meeting.timezone == "Europe/Paris"
    assert meeting.organisers == [organiser]
    assert meeting.contact_function == "Chargée de missions"
    assert [(item.starts_at, item.text) for item in meeting.programme_items] == [
        (time(9, 0), "Accueil"),
        (time(9, 30), "Tour d'horizon"),
        (time(12, 0), "Synthèse"),
    ]


def test_create_meeting_in_reunion_time(as_organiser):
    as_organiser.post("/meetings/new", data=seed_form(timezone="Indian/Reunion"))
    meeting = db.session.scalars(select(Meeting)).one()
    assert meeting.timezone == "Indian/Reunion"
    assert meeting.starts_at == datetime(2018, 6, 5, 5, 0, tzinfo=UTC)
    assert meeting.ends_at == datetime(2018, 6, 5, 8, 30, tzinfo=UTC)


def test_create_online_meeting_over_two_days_with_deadline_and_capacity(as_organiser):
    form = seed_form(
        venue_name="",
        venue_address="",
        venue_postcode="",
        venue_town="",
        online_url="https://visio.example.org/liens",
        end_date="2018-06-06",
        end_time="12:00",
        capacity="40",
        deadline_date="2018-06-01",
    )
    as_organiser.post("/meetings/new", data=form)
    meeting = db.session.scalars(select(Meeting)).one()
    assert meeting.ends_at == datetime(2018, 6, 6, 10, 0, tzinfo=UTC)
    assert meeting.capacity == 40
    assert meeting.online_url == "https://visio.example.org/liens"
    assert meeting.answer_deadline == datetime(2018, 6, 1, 21, 59, tzinfo=UTC)


def test_creator_can_add_another_organiser(as_organiser, organiser):
    colleague = UserFactory(name="Claire Collègue")
    as_organiser.post("/meetings/new", data=seed_form(organisers=[str(colleague.id)]))
    meeting = db.session.scalars(select(Meeting)).one()
    assert {user.id for user in meeting.organisers} == {organiser.id, colleague.id}


def test_an_ambiguous_autumn_time_is_saved_as_its_first_occurrence(as_organiser):
    form = seed_form(start_date="2026-10-25", start_time="02:30", end_time="04:00")
    as_organiser.post("/meetings/new", data=form)
    meeting = db.session.scalars(select(Meeting)).one()
    assert meeting.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# Each validation rule, shown next to its field; nothing is saved


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"start_date": ""}, "start_date"),
        ({"end_time": "09:00"}, "end_time"),
        ({"end_time": "08:00"}, "end_time"),
        ({"end_date": "2018-06-04"}, "end_date"),
        ({"deadline_date": "2018-06-05", "deadline_time": "10:00"}, "deadline_date"),
        ({"deadline_date": "2018-06-07"}, "deadline_date"),
        ({"deadline_time": "18:00"}, "deadline_date"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "-5"}, "capacity"),
        ({"online_url": "visio.example.org/liens"}, "online_url"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"start_date": "2026-03-29", "start_time": "02:30", "end_time": "04:00"}, "start_time"),
        ({"start_date": "2026-03-29", "start_time": "01:00", "end_time": "02:15"}, "end_time"),
        ({"programme": "9:00 Accueil\n25:00 Clôture"}, "programme"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"contact_email": "not an address"}, "contact_email"),
    ],
)
def test_each_rule_is_shown_on_its_field(as_organiser, changes, field):
    response = as_organiser.post("/meetings/new", data=seed_form(**changes))
    assert response.status_code == 200
    assert invalid_fields(response.get_data(as_text=True)) == {field}
    assert meeting_count() == 0


def test_a_meeting_needs_a_venue_or_a_link(as_organiser):
    no_place = seed_form(venue_name="", venue_address="", venue_postcode="", venue_town="")
    response = as_organiser.post("/meetings/new", data=no_place)
    assert invalid_fields(response.get_data(as_text=True)) == {"venue_name"}
    assert meeting_count() == 0

    as_organiser.post("/meetings/new", data={**no_place, "online_url": "https://visio.example"})
    assert meeting_count() == 1


def test_a_venue_address_alone_is_enough(as_organiser):
    as_organiser.post("/meetings/new", data=seed_form(venue_name=""))
    assert meeting_count() == 1


def test_error_messages_name_the_problem(client, login, organiser):
    login(organiser)
    client.set_cookie("lang", "en")
    form = seed_form(end_time="08:00", programme="9:00 Accueil\n\n25:00 Clôture")
    page = client.post("/meetings/new", data=form).get_data(as_text=True)
    assert "The meeting must end after it starts." in page
    assert "Line 3 (“25:00 Clôture”)" in page
    form = seed_form(start_date="2026-03-29", start_time="02:30", end_time="04:00")
    page = client.post("/meetings/new", data=form).get_data(as_text=True)
    assert "the clocks go forward" in page


def test_a_bad_input_loses_nothing_typed(as_organiser):
    form = seed_form(start_time="9h", capacity="quarante", end_time="08:00")
    page = as_organiser.post("/meetings/new", data=form).get_data(as_text=True)
    assert invalid_fields(page) == {"start_time", "capacity"}
    assert 'value="9h"' in page
    assert 'value="quarante"' in page
    assert 'value="Maison Pour Tous"' in page
    assert "Tour d&#39;horizon" in page
    assert 'value="Chargée de missions"' in page


def test_several_rules_are_reported_at_once(as_organiser):
    form = seed_form(title="", start_time="", capacity="0", online_url="ftp://x")
    page = as_organiser.post("/meetings/new", data=form).get_data(as_text=True)
    assert invalid_fields(page) == {"title", "start_time", "capacity", "online_url"}


# Editing


def test_edit_form_shows_local_times_and_the_programme_as_text(as_organiser, organiser):
    meeting = seed_meeting(organisers=[organiser], timezone="Europe/Paris")
    meeting.programme_items = [
        ProgrammeItem(position=0, starts_at=time(9, 0), text="Accueil"),
        ProgrammeItem(position=1, starts_at=None, text="Tour d'horizon"),
    ]
    db.session.commit()
    page = as_organiser.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert 'value="2018-06-05"' in page
    assert 'value="09:00"' in page
    assert 'value="12:30"' in page
    assert "9:00 Accueil\nTour d&#39;horizon</textarea>" in page


def test_a_published_meeting_can_be_edited(as_organiser, organiser):
    meeting = seed_meeting(organisers=[organiser], status=MeetingStatus.PUBLISHED)
    form = seed_form(title="Liens École et centres sociaux (salle changée)", end_time="13:00")
    response = as_organiser.post(f"/meetings/{meeting.id}/edit", data=form)
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.title == "Liens École et centres sociaux (salle changée)"
    assert meeting.ends_at == datetime(2018, 6, 5, 11, 0, tzinfo=UTC)
    assert meeting.status is MeetingStatus.PUBLISHED


def test_editing_replaces_the_programme(as_organiser, organiser):
    as_organiser.post("/meetings/new", data=seed_form())
    meeting = db.session.scalars(select(Meeting)).one()
    form = seed_form(programme="14h Synthèse\n9:00 Accueil", organisers=[str(organiser.id)])
    as_organiser.post(f"/meetings/{meeting.id}/edit", data=form)
    db.session.expire_all()
    assert [(item.starts_at, item.text) for item in meeting.programme_items] == [
        (time(14, 0), "Synthèse"),
        (time(9, 0), "Accueil"),
    ]


def test_an_organiser_who_edits_stays_an_organiser(as_organiser, organiser):
    colleague = UserFactory()
    meeting = seed_meeting(organisers=[organiser, colleague], created_by_id=colleague.id)
    as_organiser.post(f"/meetings/{meeting.id}/edit", data=seed_form(organisers=[]))
    db.session.expire_all()
    assert {user.id for user in meeting.organisers} == {organiser.id, colleague.id}


def test_an_invalid_edit_changes_nothing(as_organiser, organiser):
    meeting = seed_meeting(organisers=[organiser])
    response = as_organiser.post(f"/meetings/{meeting.id}/edit", data=seed_form(end_time="08:00"))
    assert invalid_fields(response.get_data(as_text=True)) == {"end_time"}
    db.session.expire_all()
    assert meeting.ends_at == datetime(2018, 6, 5, 10, 30, tzinfo=UTC)


# Detail page


def test_detail_page_shows_the_seed_meeting_as_french_readers_expect(as_organiser, organiser):
    meeting = seed_meeting(
        organisers=[organiser],
        venue_access_notes="Bus 272",
        capacity=40,
        contact_name="Judicaëlle Feron",
        contact_function="Chargée de missions",
        contact_organisation="Fédération des Centres Sociaux du Val d'Oise",
        contact_email="j.feron@example.org",
        description="Ce qui favorise les coopérations.",
    )
    meeting.programme_items = [ProgrammeItem(position=0, starts_at=time(9, 0), text="Accueil")]
    db.session.commit()

    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert page.count("<h1>") == 1
    assert SEED_DAY in page
    assert '<span class="time">9 h 00</span>Accueil' in page
    assert "8, place de la commune de Paris" in page
    assert "95100 Argenteuil" in page
    assert "Bus 272" in page
    assert "Judicaëlle Feron" in page
    assert "Chargée de missions" in page
    assert "Fédération des Centres Sociaux du Val d&#39;Oise" in page
    assert 'href="mailto:j.feron@example.org"' in page
    assert "Olivier Organisateur" in page
    assert 'class="status status-held"' in page
    assert "Ce qui favorise les coopérations." in page


def test_detail_page_speaks_english_with_the_language_cookie(client, login, organiser):
    meeting = seed_meeting(organisers=[organiser])
    login(organiser)
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Tuesday 5 June 2018, from 9:00 to 12:30" in page


def test_detail_page_shows_the_time_zone_when_not_paris(client, login, organiser):
    meeting = seed_meeting(timezone="Indian/Reunion", answer_deadline=None)
    login(organiser)
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Tuesday 5 June 2018, from 11:00 to 14:30" in page
    assert "Reunion (Saint-Denis)" in page


def test_detail_page_shows_the_answer_deadline_in_the_meetings_zone(as_organiser):
    meeting = seed_meeting(answer_deadline=datetime(2018, 6, 1, 21, 59, tzinfo=UTC))
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "vendredi 1er juin 2018 à 23 h 59" in page


def test_unknown_meeting_is_404(as_organiser):
    assert as_organiser.get("/meetings/999").status_code == 404


# Publishing, held, cancelling, deleting


def test_draft_is_published_then_held_after_its_end(as_organiser, organiser):
    as_organiser.post("/meetings/new", data=seed_form(start_date="2099-06-02"))
    meeting = db.session.scalars(select(Meeting)).one()
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'class="status status-draft"' in page
    assert f'action="/meetings/{meeting.id}/publish"' in page

    response = as_organiser.post(f"/meetings/{meeting.id}/publish")
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.PUBLISHED
    assert meeting.published_at is not None
    assert meeting.status_at(meeting.ends_at + timedelta(minutes=1)) is MeetingStatus.HELD
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'class="status status-published"' in page
    assert f'action="/meetings/{meeting.id}/publish"' not in page


def test_a_past_published_meeting_is_shown_as_held(as_organiser, organiser):
    meeting = seed_meeting(organisers=[organiser])
    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'class="status status-held"' in page
    assert f"/meetings/{meeting.id}/cancel" not in page


def test_publishing_twice_is_refused(client, login, organiser):
    meeting = MeetingFactory(organisers=[organiser], status=MeetingStatus.PUBLISHED)
    published_at = meeting.published_at
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.post(f"/meetings/{meeting.id}/publish", follow_redirects=True)
    assert "Only a draft meeting can be published." in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.published_at == published_at


def test_cancel_page_asks_for_a_reason(as_organiser, organiser):
    meeting = MeetingFactory(organisers=[organiser])
    response = as_organiser.get(f"/meetings/{meeting.id}/cancel")
    assert response.status_code == 200
    assert 'name="reason"' in response.get_data(as_text=True)


def test_cancelling_needs_a_reason(as_organiser, organiser):
    meeting = MeetingFactory(organisers=[organiser])
    response = as_organiser.post(f"/meetings/{meeting.id}/cancel", data={"reason": "  "})
    assert response.status_code == 200
    assert invalid_fields(response.get_data(as_text=True)) == {"reason"}
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.PUBLISHED


def test_cancelled_meeting_shows_its_reason_and_is_read_only(as_organiser, organiser):
    meeting = MeetingFactory(organisers=[organiser], title="Groupe de réflexion")
    response = as_organiser.post(
        f"/meetings/{meeting.id}/cancel", data={"reason": "La salle n'est plus disponible."}
    )
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.CANCELLED
    assert meeting.cancelled_at is not None

    page = as_organiser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'class="status status-cancelled"' in page
    assert "La salle n&#39;est plus disponible." in page
    assert f"/meetings/{meeting.id}/edit" not in page

    response = as_organiser.get(f"/meetings/{meeting.id}/edit")
    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{meeting.id}")
    as_organiser.post(f"/meetings/{meeting.id}/edit", data=seed_form(title="Changé"))
    as_organiser.post(f"/meetings/{meeting.id}/publish")
    as_organiser.post(f"/meetings/{meeting.id}/cancel", data={"reason": "Autre"})
    as_organiser.post(f"/meetings/{meeting.id}/delete")
    db.session.expire_all()
    assert meeting.title == "Groupe de réflexion"
    assert meeting.status is MeetingStatus.CANCELLED
    assert meeting.cancellation_reason == "La salle n'est plus disponible."


def test_a_held_meeting_cannot_be_cancelled(client, login, organiser):
    meeting = seed_meeting(organisers=[organiser])
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.post(f"/meetings/{meeting.id}/cancel", data={"reason": "Trop tard"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Only a draft or a meeting still to come can be cancelled." in page
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.PUBLISHED


def test_a_draft_is_deleted_after_confirmation(as_organiser, organiser):
    meeting = MeetingFactory(organisers=[organiser], status=MeetingStatus.DRAFT)
    meeting_id = meeting.id
    page = as_organiser.get(f"/meetings/{meeting_id}/delete").get_data(as_text=True)
    assert f'action="/meetings/{meeting_id}/delete"' in page
    assert meeting_count() == 1

    response = as_organiser.post(f"/meetings/{meeting_id}/delete")
    assert response.status_code == 302
    assert response.location.endswith("/meetings/")
    assert meeting_count() == 0


def test_a_published_meeting_cannot_be_deleted(as_organiser, organiser):
    meeting = MeetingFactory(organisers=[organiser])
    response = as_organiser.post(f"/meetings/{meeting.id}/delete")
    assert response.status_code == 302
    assert meeting_count() == 1
