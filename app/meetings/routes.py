"""Stub views, replaced by the meetings work."""

from app.meetings import bp


@bp.get("/")
def list_meetings():
    return "meetings"
