"""Dates, times and numbers as French (or English) readers expect them, in a given time zone.

"mardi 5 juin 2018, de 9 h 00 à 12 h 30" is the house style for a meeting's date.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

TIME_PATTERNS = {"fr": "H 'h' mm"}
DEFAULT_TIME_PATTERN = "H:mm"


def default_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _locale():
    return get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]


def _localise(moment: datetime, zone: ZoneInfo | None) -> datetime:
    return moment.astimezone(zone or default_zone())


def format_day(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """The day of `moment` in `zone`: "mardi 5 juin 2018"; French writes "1er juin"."""
    day = _localise(moment, zone).date()
    locale = _locale()
    pattern = "EEEE d MMMM y"
    if day.day == 1 and str(locale).startswith("fr"):
        pattern = "EEEE d'er' MMMM y"
    return babel_format_date(day, pattern, locale=locale)


def format_short_day(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """The day of `moment` in `zone` in a few characters: "05/06/2018" in French."""
    return babel_format_date(_localise(moment, zone).date(), "short", locale=_locale())


def format_clock(value: datetime | time, zone: ZoneInfo | None = None) -> str:
    """A time of day: "9 h 00" in French, "9:00" in English."""
    if isinstance(value, datetime):
        value = _localise(value, zone).time()
    locale = _locale()
    pattern = TIME_PATTERNS.get(str(locale).split("_")[0], DEFAULT_TIME_PATTERN)
    return babel_format_time(value, pattern, locale=locale)


def format_moment(moment: datetime | None, zone: ZoneInfo | None = None) -> str:
    """A moment in `zone`: "mardi 5 juin 2018 à 9 h 00"."""
    if moment is None:
        return ""
    return _("%(day)s at %(time)s", day=format_day(moment, zone), time=format_clock(moment, zone))


def spreadsheet_moment(moment: datetime | None, zone: ZoneInfo | None = None) -> str:
    """A local time a spreadsheet sorts and reads in any language: "2018-06-01 14:05"."""
    if moment is None:
        return ""
    return _localise(moment, zone).strftime("%Y-%m-%d %H:%M")


def format_span(starts_at: datetime, ends_at: datetime, zone: ZoneInfo | None = None) -> str:
    """A time span: "mardi 5 juin 2018, de 9 h 00 à 12 h 30", or both days over several days."""
    start_day, end_day = format_day(starts_at, zone), format_day(ends_at, zone)
    start, end = format_clock(starts_at, zone), format_clock(ends_at, zone)
    if start_day == end_day:
        return _("%(day)s, from %(start)s to %(end)s", day=start_day, start=start, end=end)
    return _(
        "from %(start_day)s at %(start)s to %(end_day)s at %(end)s",
        start_day=start_day,
        start=start,
        end_day=end_day,
        end=end,
    )


def format_number(value: int | float) -> str:
    return format_decimal(value, locale=_locale())
