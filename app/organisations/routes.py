"""Stub views, replaced by the directory work."""

from app.organisations import bp


@bp.get("/")
def list_organisations():
    return "organisations"
