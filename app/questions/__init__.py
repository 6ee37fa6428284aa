"""Questions per meeting: the organiser's pages to ask invitees and registrants more (dietary
needs, accessibility, a workshop), and the services the answer forms and exports use."""

from flask import Blueprint

bp = Blueprint("questions", __name__)

from app.questions import routes  # noqa: E402, F401
