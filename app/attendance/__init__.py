"""Attendance: the record of who was there (routes.py), sign-in on the day (check-in), and the
documents and exports made from the record (documents.py, exports)."""

from flask import Blueprint

bp = Blueprint("attendance", __name__)

from app.attendance import (  # noqa: E402, F401
    document_routes,
    proxy_routes,
    routes,
    statistics_routes,
)
