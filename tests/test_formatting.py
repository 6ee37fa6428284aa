"""Dates as French readers expect them, and the folded keys behind accent-insensitive search."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.formatting import format_clock, format_moment, format_span
from app.text import fold, like_pattern

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        yield


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_seed_invitation_date_in_french(french):
    starts, ends = datetime(2018, 6, 5, 7, 0, tzinfo=UTC), datetime(2018, 6, 5, 10, 30, tzinfo=UTC)
    assert format_span(starts, ends, PARIS) == "mardi 5 juin 2018, de 9 h 00 à 12 h 30"


def test_meeting_over_two_days_names_both_days(french):
    starts, ends = datetime(2018, 6, 5, 7, 0, tzinfo=UTC), datetime(2018, 6, 6, 10, 30, tzinfo=UTC)
    assert format_span(starts, ends, PARIS) == (
        "du mardi 5 juin 2018 à 9 h 00 au mercredi 6 juin 2018 à 12 h 30"
    )


def test_same_date_in_english(english):
    starts, ends = datetime(2018, 6, 5, 7, 0, tzinfo=UTC), datetime(2018, 6, 5, 10, 30, tzinfo=UTC)
    assert format_span(starts, ends, PARIS) == "Tuesday 5 June 2018, from 9:00 to 12:30"


def test_local_time_follows_daylight_saving(french):
    winter = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert format_clock(winter, PARIS) == "9 h 00"
    assert format_clock(summer, PARIS) == "10 h 00"
    assert format_clock(time(14, 5)) == "14 h 05"


def test_first_of_the_month_is_an_ordinal_in_french(french, app):
    moment = datetime(2027, 6, 1, 21, 59, tzinfo=UTC)
    assert format_moment(moment, PARIS) == "mardi 1er juin 2027 à 23 h 59"


def test_first_of_the_month_in_english(english):
    assert format_moment(datetime(2027, 6, 1, 8, 0, tzinfo=UTC), PARIS) == (
        "Tuesday 1 June 2027 at 10:00"
    )


def test_moment_in_another_zone(french):
    moment = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert format_moment(moment, ZoneInfo("Indian/Reunion")) == "lundi 2 mars 2026 à 10 h 00"


def test_fold_ignores_accents_case_and_spacing():
    assert fold("  Chenôve ") == fold("CHENOVE") == "chenove"
    assert fold("Cœur   de  Ville") == "coeur de ville"
    assert fold(None) == ""


def test_like_pattern_escapes_wildcards():
    assert like_pattern("50%_É") == "%50\\%\\_e%"
