"""Invitations: one contact invited to one meeting, their answer, and their personal links."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.attendance import Attendance
from app.sqltypes import utcnow


class Answer(enum.Enum):
    NONE = "none"
    COMING = "coming"
    NOT_COMING = "not_coming"
    # Answered "coming" while the meeting was full; promoted in order of `waiting_since`.
    WAITING = "waiting"


class Invitation(db.Model):
    __table_args__ = (UniqueConstraint("meeting_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[Answer] = mapped_column(default=Answer.NONE, index=True)
    answered_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    waiting_since: Mapped[datetime | None]
    # Set when an organiser recorded the answer for the invitee (a phone call, say).
    answer_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # When the invitation e-mail was first queued; None while the invitee is only on the list.
    invited_at: Mapped[datetime | None]
    # The attendance record (app/attendance): None until marked, then present, excused or
    # absent; walk-ins came without an invitation and were added on the day.
    attendance: Mapped[Attendance | None]
    arrived_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    walk_in: Mapped[bool] = mapped_column(default=False)
    # A colleague sent in this invitee's place ("remplacée par"): the substitute's invitation
    # points to the one it replaces.
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), index=True
    )

    meeting: Mapped["Meeting"] = relationship(back_populates="invitations")  # noqa: F821
    contact: Mapped["Contact"] = relationship()  # noqa: F821
    links: Mapped[list["InvitationLink"]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )
    replaces: Mapped["Invitation | None"] = relationship(
        remote_side=[id], back_populates="replaced_by"
    )
    replaced_by: Mapped[list["Invitation"]] = relationship(back_populates="replaces")

    def __repr__(self) -> str:
        return f"<Invitation meeting={self.meeting_id} contact={self.contact_id} {self.answer}>"


class InvitationLink(db.Model):
    """A personal link sent in one e-mail. Only the SHA-256 of its random token is kept; every
    link of an invitation stays valid until the organiser revokes them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    invitation: Mapped[Invitation] = relationship(back_populates="links")
