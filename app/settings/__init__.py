"""Site-wide settings an administrator edits: the network's name, the consent sentence of the
public registration form, and the sites allowed to frame the public agenda."""

from flask import Blueprint

bp = Blueprint("settings", __name__)

from app.settings import routes  # noqa: E402, F401
