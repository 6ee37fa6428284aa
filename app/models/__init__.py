"""All models, importable from one place: `from app.models import Contact`."""

from app.models.directory import (
    Civility,
    Contact,
    ContactImport,
    Organisation,
    OrganisationKind,
)
from app.models.meetings import Meeting, MeetingStatus, ProgrammeItem, meeting_organiser
from app.models.users import LoginFailure, User

__all__ = [
    "Civility",
    "Contact",
    "ContactImport",
    "LoginFailure",
    "Meeting",
    "MeetingStatus",
    "Organisation",
    "OrganisationKind",
    "ProgrammeItem",
    "User",
    "meeting_organiser",
]
