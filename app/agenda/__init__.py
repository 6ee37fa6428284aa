"""The network's public agenda: the open meetings still to come, as a page, as a list other
sites may frame, and as an iCalendar feed. Open to all, without logging in."""

from flask import Blueprint

bp = Blueprint("agenda", __name__)

from app.agenda import routes  # noqa: E402, F401
