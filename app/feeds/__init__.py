"""Calendar feeds: each working group's private iCalendar feed, and the management of its
secret address. (The invitee's personal feed is served with their other pages, under /i/.)"""

from flask import Blueprint

bp = Blueprint("feeds", __name__)

from app.feeds import routes  # noqa: E402, F401
