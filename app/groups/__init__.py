"""Working groups: standing groups of contacts that meet repeatedly, and their members."""

from flask import Blueprint

bp = Blueprint("groups", __name__)

from app.groups import routes  # noqa: E402, F401
