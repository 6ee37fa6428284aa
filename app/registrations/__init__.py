"""Open meetings: their public page and registration form, the confirmation of the address by
e-mail (routes.py), and the organisers' list and approval of registrations
(moderation_routes.py)."""

from flask import Blueprint

bp = Blueprint("registrations", __name__)

from app.registrations import moderation_routes, routes  # noqa: E402, F401
