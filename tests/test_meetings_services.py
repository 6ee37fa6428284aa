"""Meeting services: programme parsing, local times, the meeting rules and the state changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.extensions import db
from app.meetings import services
from app.meetings.services import MeetingData, ProgrammeLine
from app.models import Meeting, MeetingStatus, ProgrammeItem
from tests.factories import MeetingFactory, UserFactory

NOW = datetime(2018, 5, 1, 8, 0, tzinfo=UTC)


def seed_data(**changes) -> MeetingData:
    """The seed invitation: Tuesday 5 June 2018, 9:00 to 12:30, Maison Pour Tous, Argenteuil."""
    values = {
        "title": "Liens École et centres sociaux",
        "start_date": date(2018, 6, 5),
        "start_time": time(9, 0),
        "end_time": time(12, 30),
        "venue_name": "Maison Pour Tous",
        "venue_address": "8, place de la commune de Paris",
        "venue_postcode": "95100",
        "venue_town": "Argenteuil",
        "contact_name": "Judicaëlle Feron",
        "contact_function": "Chargée de missions",
        "contact_organisation": "Fédération des Centres Sociaux du Val d'Oise",
    }
    values.update(changes)
    return MeetingData(**values)


# Programme parsing


def test_programme_accepts_the_usual_ways_of_writing_a_time():
    text = (
        "9:00 Accueil\n9 h 30 – Ateliers\n14h Synthèse\n09.15 Café\n10H45: Pause\n12 h 00 - Repas"
    )
    assert services.parse_programme(text) == [
        ProgrammeLine(time(9, 0), "Accueil"),
        ProgrammeLine(time(9, 30), "Ateliers"),
        ProgrammeLine(time(14, 0), "Synthèse"),
        ProgrammeLine(time(9, 15), "Café"),
        ProgrammeLine(time(10, 45), "Pause"),
        ProgrammeLine(time(12, 0), "Repas"),
    ]


def test_programme_keeps_lines_without_time_in_order_and_ignores_blank_lines():
    text = "Tour d'horizon\n\n   \n14h Synthèse\n3 ateliers en parallèle\n"
    assert services.parse_programme(text) == [
        ProgrammeLine(None, "Tour d'horizon"),
        ProgrammeLine(time(14, 0), "Synthèse"),
        ProgrammeLine(None, "3 ateliers en parallèle"),
    ]


def test_programme_numbers_and_percentages_are_not_times():
    text = "12.5 % des familles\n2018 : bilan\n1.5 heure d'échanges\n12. 50 personnes\n3 heures"
    assert [line.starts_at for line in services.parse_programme(text)] == [None] * 5


def test_programme_drops_a_leading_bullet():
    assert services.parse_programme("· Des enquêtes\n- 9:00 Accueil") == [
        ProgrammeLine(None, "Des enquêtes"),
        ProgrammeLine(time(9, 0), "Accueil"),
    ]


def test_programme_line_with_an_impossible_time_is_an_error_naming_the_line():
    with pytest.raises(services.ProgrammeError) as caught:
        services.parse_programme("9:00 Accueil\n\n25:00 Clôture")
    assert caught.value.number == 3
    assert caught.value.line == "25:00 Clôture"


def test_programme_minutes_above_59_are_an_error():
    with pytest.raises(services.ProgrammeError):
        services.parse_programme("9 h 75 Café")


def test_programme_is_written_back_as_the_form_text():
    lines = services.parse_programme("09.15 Café\nTour d'horizon\n14h Synthèse")
    text = services.format_programme(lines)
    assert text == "9:15 Café\nTour d'horizon\n14:00 Synthèse"
    assert services.parse_programme(text) == lines


# Local times and time zones


def test_paris_summer_time_is_two_hours_ahead_of_utc():
    moment = services.local_to_utc(date(2018, 6, 5), time(9, 0), "Europe/Paris")
    assert moment == datetime(2018, 6, 5, 7, 0, tzinfo=UTC)


def test_reunion_is_four_hours_ahead_of_utc_all_year():
    moment = services.local_to_utc(date(2018, 12, 5), time(9, 0), "Indian/Reunion")
    assert moment == datetime(2018, 12, 5, 5, 0, tzinfo=UTC)


def test_a_time_in_the_spring_gap_does_not_exist():
    with pytest.raises(services.NonexistentLocalTime):
        services.local_to_utc(date(2026, 3, 29), time(2, 30), "Europe/Paris")


def test_an_ambiguous_autumn_time_takes_its_first_occurrence():
    moment = services.local_to_utc(date(2026, 10, 25), time(2, 30), "Europe/Paris")
    assert moment == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# The meeting rules, one each


def test_seed_meeting_follows_every_rule():
    assert services.meeting_problems(seed_data()) == {}


def test_rule_end_after_start():
    problems = services.meeting_problems(seed_data(end_time=time(9, 0)))
    assert set(problems) == {"end_time"}


def test_rule_end_date_not_before_start_date():
    problems = services.meeting_problems(seed_data(end_date=date(2018, 6, 4)))
    assert set(problems) == {"end_date"}


def test_rule_a_meeting_may_run_over_several_days():
    data = seed_data(end_date=date(2018, 6, 6), end_time=time(8, 0))
    assert services.meeting_problems(data) == {}


def test_rule_deadline_before_start():
    problems = services.meeting_problems(seed_data(deadline_date=date(2018, 6, 5)))
    assert set(problems) == {"deadline_date"}


def test_rule_deadline_time_needs_a_date():
    problems = services.meeting_problems(seed_data(deadline_time=time(12, 0)))
    assert set(problems) == {"deadline_date"}


def test_rule_capacity_positive():
    assert set(services.meeting_problems(seed_data(capacity=0))) == {"capacity"}
    assert set(services.meeting_problems(seed_data(capacity=-3))) == {"capacity"}


@pytest.mark.parametrize(
    "url",
    [
        "visio.example.org",
        "ftp://example.org/x",
        "javascript:alert(1)",
        "https://",
        "http://a b",
        "https://visio.example.org:port/x",
    ],
)
def test_rule_online_link_is_an_http_url(url):
    assert set(services.meeting_problems(seed_data(online_url=url))) == {"online_url"}


def test_rule_venue_or_link():
    no_place = seed_data(venue_name="", venue_address="", venue_postcode="", venue_town="")
    assert set(services.meeting_problems(no_place)) == {"venue_name"}
    no_place.online_url = "https://visio.example.org/liens-ecole"
    assert services.meeting_problems(no_place) == {}


def test_rule_start_in_the_spring_gap():
    data = seed_data(start_date=date(2026, 3, 29), start_time=time(2, 30), end_time=time(4, 0))
    assert set(services.meeting_problems(data)) == {"start_time"}


# Creating, editing and changing state


def test_create_meeting_stores_utc_times_programme_and_author_as_organiser(app):
    author = UserFactory()
    data = seed_data(programme=services.parse_programme("9:00 Accueil\nTour d'horizon"))
    meeting = services.create_meeting(author, data, NOW)
    db.session.commit()

    assert meeting.status is MeetingStatus.DRAFT
    assert meeting.starts_at == datetime(2018, 6, 5, 7, 0, tzinfo=UTC)
    assert meeting.ends_at == datetime(2018, 6, 5, 10, 30, tzinfo=UTC)
    assert meeting.organisers == [author]
    assert meeting.created_by_id == author.id
    assert [(item.position, item.starts_at, item.text) for item in meeting.programme_items] == [
        (0, time(9, 0), "Accueil"),
        (1, None, "Tour d'horizon"),
    ]


def test_deadline_given_as_a_date_runs_to_2359_local_time(app):
    meeting = services.create_meeting(UserFactory(), seed_data(deadline_date=date(2018, 6, 1)), NOW)
    assert meeting.answer_deadline == datetime(2018, 6, 1, 21, 59, tzinfo=UTC)


def test_create_meeting_refuses_data_breaking_a_rule(app):
    with pytest.raises(services.InvalidMeetingData) as caught:
        services.create_meeting(UserFactory(), seed_data(capacity=0), NOW)
    assert set(caught.value.problems) == {"capacity"}


def test_update_rewrites_the_programme_and_keeps_the_creator(app):
    author, other = UserFactory(), UserFactory()
    data = seed_data(programme=services.parse_programme("9:00 A\n10:00 B\n11:00 C"))
    meeting = services.create_meeting(author, data, NOW)
    db.session.commit()

    changed = seed_data(programme=services.parse_programme("9:30 C\n10:30 A"), organisers=[other])
    services.update_meeting(meeting, changed, other, NOW)
    db.session.commit()

    items = db.session.scalars(db.select(ProgrammeItem).order_by(ProgrammeItem.position)).all()
    assert [(item.starts_at, item.text) for item in items] == [
        (time(9, 30), "C"),
        (time(10, 30), "A"),
    ]
    assert {user.id for user in meeting.organisers} == {author.id, other.id}


def test_publish_sets_published_at_and_only_from_draft(app):
    meeting = MeetingFactory(status=MeetingStatus.DRAFT)
    services.publish_meeting(meeting, NOW)
    assert meeting.status is MeetingStatus.PUBLISHED
    assert meeting.published_at == NOW
    with pytest.raises(services.MeetingStateError):
        services.publish_meeting(meeting, NOW)


def test_a_published_meeting_is_held_once_it_has_ended(app):
    meeting = MeetingFactory(status=MeetingStatus.PUBLISHED)
    assert meeting.status_at(meeting.ends_at - timedelta(minutes=1)) is MeetingStatus.PUBLISHED
    assert meeting.status_at(meeting.ends_at) is MeetingStatus.HELD
    draft = MeetingFactory(status=MeetingStatus.DRAFT)
    assert draft.status_at(draft.ends_at + timedelta(days=1)) is MeetingStatus.DRAFT


def test_cancel_needs_a_reason(app):
    meeting = MeetingFactory()
    with pytest.raises(services.InvalidMeetingData):
        services.cancel_meeting(meeting, "   ", NOW)
    assert meeting.status is MeetingStatus.PUBLISHED


def test_cancel_records_reason_and_time(app):
    meeting = MeetingFactory(status=MeetingStatus.DRAFT)
    services.cancel_meeting(meeting, " Salle indisponible ", NOW)
    assert meeting.status is MeetingStatus.CANCELLED
    assert meeting.cancellation_reason == "Salle indisponible"
    assert meeting.cancelled_at == NOW


def test_a_held_meeting_cannot_be_cancelled(app):
    meeting = MeetingFactory()
    with pytest.raises(services.MeetingStateError):
        services.cancel_meeting(meeting, "Trop tard", meeting.ends_at + timedelta(hours=1))


def test_a_cancelled_meeting_is_read_only(app):
    meeting = MeetingFactory(status=MeetingStatus.CANCELLED, cancellation_reason="Grève")
    with pytest.raises(services.MeetingStateError):
        services.update_meeting(meeting, seed_data(), UserFactory(), NOW)
    with pytest.raises(services.MeetingStateError):
        services.publish_meeting(meeting, NOW)
    with pytest.raises(services.MeetingStateError):
        services.cancel_meeting(meeting, "Encore", NOW)


def test_only_drafts_can_be_deleted(app):
    draft, published = MeetingFactory(status=MeetingStatus.DRAFT), MeetingFactory()
    with pytest.raises(services.MeetingStateError):
        services.delete_draft(published)
    services.delete_draft(draft)
    db.session.commit()
    assert db.session.scalars(db.select(Meeting.id)).all() == [published.id]


def test_can_manage_is_for_organisers_and_administrators(app):
    owner, other, admin = UserFactory(), UserFactory(), UserFactory(is_admin=True)
    meeting = MeetingFactory(organisers=[owner])
    assert services.can_manage(owner, meeting)
    assert services.can_manage(admin, meeting)
    assert not services.can_manage(other, meeting)


def test_allowed_actions_follow_the_state_and_the_user(app):
    owner, other = UserFactory(), UserFactory()
    draft = MeetingFactory(organisers=[owner], status=MeetingStatus.DRAFT)
    published = MeetingFactory(organisers=[owner])
    cancelled = MeetingFactory(organisers=[owner], status=MeetingStatus.CANCELLED)
    assert services.allowed_actions(owner, draft, NOW) == {"edit", "publish", "cancel", "delete"}
    assert services.allowed_actions(owner, published, NOW) == {"edit", "cancel"}
    assert services.allowed_actions(owner, published, published.ends_at) == {"edit"}
    assert services.allowed_actions(owner, cancelled, NOW) == set()
    assert services.allowed_actions(other, draft, NOW) == set()
