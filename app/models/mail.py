"""The outbox: every outgoing e-mail, written with the action that caused it, then delivered."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.sqltypes import utcnow


class MessageStatus(enum.Enum):
    QUEUED = "queued"
    # Taken by a worker for its batch, not yet handed to the SMTP server: safe to re-queue.
    CLAIMED = "claimed"
    # Being handed to the SMTP server: if the worker dies now, the outcome is unknown and the
    # message is marked failed rather than sent a second time.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[MessageStatus] = mapped_column(default=MessageStatus.QUEUED)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to_address: Mapped[str] = mapped_column(String(254), default="")
    reply_to_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # An iCalendar attachment (RFC 5545) and its METHOD (REQUEST, CANCEL, PUBLISH), if any.
    calendar: Mapped[str | None] = mapped_column(Text)
    calendar_method: Mapped[str] = mapped_column(String(16), default="")
    # Fixed when queued, so a retried message keeps its identity.
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claim_token: Mapped[str | None] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), index=True
    )
    # Set on the e-mails of a message an organiser wrote to a segment of invitees.
    meeting_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_message.id", ondelete="SET NULL"), index=True
    )

    invitation: Mapped["Invitation | None"] = relationship()  # noqa: F821
    meeting: Mapped["Meeting | None"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} to {self.to_address} {self.status}>"


class OutboxMessageInvitation(db.Model):
    """An invitation an e-mail is about, when it is about several: the e-mail inviting to a
    whole series covers one invitation per date, and its delivery shows on each date's pages."""

    __tablename__ = "outbox_message_invitation"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True
    )
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), primary_key=True, index=True
    )
