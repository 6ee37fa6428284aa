"""Attendance: who was there, the proxies members give each other, and the history of changes
made to a closed record. An invitation's own attendance columns live on Invitation."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.sqltypes import utcnow


class Attendance(enum.Enum):
    """What the record says of one invitation. Only the last three are stored (in
    Invitation.attendance); EXPECTED and the default of an unmarked invitation are derived
    from the answer (app/attendance/status.py)."""

    EXPECTED = "expected"
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"


class ProxyStatus(enum.Enum):
    ACTIVE = "active"
    # The holder declined it (told by e-mail, they answer through their personal page).
    REFUSED = "refused"
    # The giver or an organiser took it back.
    WITHDRAWN = "withdrawn"


class Proxy(db.Model):
    """A member who cannot come gives their vote to another invitee of the same meeting
    ("pouvoir"). One proxy per giver at a time."""

    __table_args__ = (
        UniqueConstraint("giver_id"),
        CheckConstraint("giver_id <> holder_id", name="not_to_oneself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    giver_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ProxyStatus] = mapped_column(default=ProxyStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The organiser who recorded it; None when the giver did, on their personal page.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    ended_at: Mapped[datetime | None]

    giver: Mapped["Invitation"] = relationship(foreign_keys=[giver_id])  # noqa: F821
    holder: Mapped["Invitation"] = relationship(foreign_keys=[holder_id])  # noqa: F821


class AttendanceChange(db.Model):
    """One change made to an attendance record after it was closed: who, when, what."""

    __tablename__ = "attendance_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What changed ("attendance", "arrived_at", "proxy", "reopened"…) and its values as text.
    field: Mapped[str] = mapped_column(String(40))
    before: Mapped[str] = mapped_column(String(300), default="")
    after: Mapped[str] = mapped_column(String(300), default="")

    invitation: Mapped["Invitation | None"] = relationship()  # noqa: F821
    user: Mapped["User | None"] = relationship()  # noqa: F821
