"""Reminders and messages to invitees: each meeting's reminder schedule and the periodic job
that queues due reminders exactly once (sending.py), the organiser's pages (routes.py), and
messages written to a segment of invitees (messages.py)."""

from flask import Blueprint

bp = Blueprint("reminders", __name__)

from app.reminders import message_routes, routes  # noqa: E402, F401
