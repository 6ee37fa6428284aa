"""All models, importable from one place: `from app.models import Contact`."""

from app.models.attendance import Attendance, AttendanceChange, Proxy, ProxyStatus
from app.models.directory import (
    Civility,
    Contact,
    ContactImport,
    Organisation,
    OrganisationKind,
)
from app.models.groups import (
    Group,
    GroupMembership,
    GroupRole,
    Series,
    SeriesFrequency,
    SeriesSkippedDate,
    group_lead_organisation,
    group_organiser,
    meeting_group,
)
from app.models.invitations import Answer, Invitation, InvitationLink
from app.models.mail import MessageStatus, OutboxMessage, OutboxMessageInvitation
from app.models.meetings import (
    Meeting,
    MeetingStatus,
    MeetingVisibility,
    ProgrammeItem,
    meeting_organiser,
)
from app.models.registrations import (
    MeetingQuestion,
    QuestionAnswer,
    QuestionKind,
    Registration,
    RegistrationStatus,
    SiteSettings,
)
from app.models.reminders import (
    DeliveryStatus,
    MeetingMessage,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderUnit,
    Segment,
)
from app.models.users import LoginFailure, User

__all__ = [
    "Group",
    "GroupMembership",
    "GroupRole",
    "Series",
    "SeriesFrequency",
    "SeriesSkippedDate",
    "group_lead_organisation",
    "group_organiser",
    "meeting_group",
    "Answer",
    "Attendance",
    "AttendanceChange",
    "Proxy",
    "ProxyStatus",
    "DeliveryStatus",
    "MeetingMessage",
    "Reminder",
    "ReminderAnchor",
    "ReminderAudience",
    "ReminderDelivery",
    "ReminderUnit",
    "Segment",
    "Invitation",
    "InvitationLink",
    "MessageStatus",
    "OutboxMessage",
    "OutboxMessageInvitation",
    "Civility",
    "Contact",
    "ContactImport",
    "LoginFailure",
    "Meeting",
    "MeetingStatus",
    "MeetingVisibility",
    "MeetingQuestion",
    "QuestionAnswer",
    "QuestionKind",
    "Registration",
    "RegistrationStatus",
    "SiteSettings",
    "Organisation",
    "OrganisationKind",
    "ProgrammeItem",
    "User",
    "meeting_organiser",
]
