"""Recurring series: the meetings a recurring rhythm creates, and changes to the following ones."""

from flask import Blueprint

bp = Blueprint("series", __name__)

from app.series import routes  # noqa: E402, F401
