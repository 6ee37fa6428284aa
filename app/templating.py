"""Filters and globals every template can use."""

from urllib.parse import urlencode

from flask import Flask, request, url_for
from flask_babel import get_locale

from app import formatting


def page_url(page: int, **changes) -> str:
    """The current page's URL with its query string kept, but for `page` and `changes`."""
    arguments = request.args.to_dict(flat=False)
    arguments.update({key: value for key, value in changes.items()})
    arguments["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **arguments)


def map_url(meeting) -> str:
    """A map search for the meeting's venue (OpenStreetMap); empty when it has no address."""
    parts = [meeting.venue_address, f"{meeting.venue_postcode} {meeting.venue_town}".strip()]
    address = ", ".join(part for part in parts if part)
    if not address:
        return ""
    return "https://www.openstreetmap.org/search?" + urlencode({"query": address})


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "fr"


def register(app: Flask) -> None:
    app.jinja_env.filters["day"] = formatting.format_day
    app.jinja_env.filters["short_day"] = formatting.format_short_day
    app.jinja_env.filters["clock"] = formatting.format_clock
    app.jinja_env.filters["moment"] = formatting.format_moment
    app.jinja_env.filters["number"] = formatting.format_number
    app.jinja_env.globals["format_span"] = formatting.format_span
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["map_url"] = map_url
