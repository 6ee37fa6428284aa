"""Stub views, replaced by the directory work."""

from app.contacts import bp


@bp.get("/")
def list_contacts():
    return "contacts"
