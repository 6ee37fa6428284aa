"""Organiser accounts: first-run setup, login, logout, own profile, administration of accounts."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402, F401
