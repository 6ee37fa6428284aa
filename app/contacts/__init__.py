"""The contact directory: people, their import from CSV and their export."""

from flask import Blueprint

bp = Blueprint("contacts", __name__)

from app.contacts import routes  # noqa: E402, F401
