"""Invitations: organisers invite contacts and follow answers (routes.py); invitees answer
through their personal link, without an account (public_routes.py)."""

from flask import Blueprint

bp = Blueprint("invitations", __name__)

from app.invitations import public_routes, routes  # noqa: E402, F401
