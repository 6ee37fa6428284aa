"""Open meetings: registrations through the public form, the questions a meeting asks on its
registration and answer forms, and the site-wide settings of the public pages."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.directory import Civility
from app.sqltypes import utcnow


class RegistrationStatus(enum.Enum):
    # Waiting for the person to confirm their address through the e-mailed link; holds no
    # place, and expires.
    UNCONFIRMED = "unconfirmed"
    # Confirmed, waiting for an organiser's approval (moderated meetings); holds no place.
    AWAITING_APPROVAL = "awaiting_approval"
    # Became an invitation (`invitation_id`): from then on the person is an invitee.
    ACCEPTED = "accepted"
    # Refused by an organiser (moderated meetings), with an optional reason.
    REFUSED = "refused"
    # Not confirmed in time.
    EXPIRED = "expired"


class Registration(db.Model):
    """What someone typed in the public form of an open meeting, kept apart from the directory
    until they confirm their address: an unconfirmed registration creates no contact."""

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RegistrationStatus] = mapped_column(
        default=RegistrationStatus.UNCONFIRMED, index=True
    )
    civility: Mapped[Civility | None]
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100))
    # Lower-cased, as in the directory.
    email: Mapped[str] = mapped_column(String(254), index=True)
    function: Mapped[str] = mapped_column(String(200), default="")
    # An organisation chosen from the directory's suggestions, or the name typed freely.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    # The answers to the meeting's questions, as JSON {question id: [values]}, copied to
    # QuestionAnswer rows when the registration becomes an invitation.
    answers: Mapped[str] = mapped_column(Text, default="{}")
    # The consent sentence shown when they registered, kept as they read it.
    consent_text: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 of the confirmation link's token; the token itself is only in the e-mail.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), index=True
    )

    meeting: Mapped["Meeting"] = relationship()  # noqa: F821
    organisation: Mapped["Organisation | None"] = relationship()  # noqa: F821
    invitation: Mapped["Invitation | None"] = relationship()  # noqa: F821
    decided_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class QuestionKind(enum.Enum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"


class MeetingQuestion(db.Model):
    """A question of a meeting's registration and answer forms ("dietary needs?")."""

    __tablename__ = "meeting_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind]
    label: Mapped[str] = mapped_column(String(300))
    help_text: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    # The choices of a single or multiple choice question, one per line.
    choices: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Removed from the forms; kept while answers to it exist, so they stay readable.
    removed_at: Mapped[datetime | None]

    meeting: Mapped["Meeting"] = relationship(back_populates="questions")  # noqa: F821
    answers: Mapped[list["QuestionAnswer"]] = relationship(
        back_populates="question", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class QuestionAnswer(db.Model):
    """An invitee's answer to a question, stored as the text they chose or typed, so changing
    the question later (a choice renamed or removed) leaves it readable."""

    __tablename__ = "question_answer"
    __table_args__ = (UniqueConstraint("question_id", "invitation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_question.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    # A JSON list of strings: one for text, single choice and yes/no ("yes" or "no"), any
    # number for multiple choice.
    value: Mapped[str] = mapped_column(Text, default="[]")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    question: Mapped[MeetingQuestion] = relationship(back_populates="answers")
    invitation: Mapped["Invitation"] = relationship()  # noqa: F821


class SiteSettings(db.Model):
    """Settings an administrator changes from the application, not the environment: one row
    (id 1), created with its defaults when first read."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown on the public pages and the agenda ("Réseau des centres sociaux de …").
    network_name: Mapped[str] = mapped_column(String(200), default="")
    # The consent sentence under every public registration form: what the data is used for
    # and how long it is kept. Empty: a default sentence.
    registration_consent: Mapped[str] = mapped_column(Text, default="")
    # The sites allowed to frame the embeddable agenda, one origin per line
    # (https://www.example.org); no other page may be framed.
    embed_origins: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
