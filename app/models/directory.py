"""The directory: partner organisations and the contacts who belong to them."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.extensions import db
from app.sqltypes import utcnow
from app.text import fold


class OrganisationKind(enum.Enum):
    SOCIAL_CENTRE = "centre_social"
    SCHOOL = "etablissement_scolaire"
    CCAS = "ccas"
    SCHOOL_FUND = "caisse_des_ecoles"
    ASSOCIATION = "association"
    FEDERATION = "federation"
    LOCAL_AUTHORITY = "collectivite"
    STATE_SERVICE = "service_etat"
    OTHER = "autre"


class Civility(enum.Enum):
    MS = "mme"
    MR = "m"


class Organisation(db.Model):
    __table_args__ = (UniqueConstraint("name_key", "town_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(default=OrganisationKind.OTHER)
    town: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Created from the free text of a public registration form: an organiser should check it
    # (a duplicate to merge, a name to correct) before it counts as a partner.
    pending_review: Mapped[bool] = mapped_column(default=False, index=True)
    # Folded copies of name and town: uniqueness per town and accent-insensitive search.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    town_key: Mapped[str] = mapped_column(String(120), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list["Contact"]] = relationship(back_populates="organisation")
    # Filled by queries that count contacts in SQL (with_expression), None otherwise.
    contact_count: Mapped[int | None] = query_expression()

    def __repr__(self) -> str:
        return f"<Organisation {self.name} ({self.town})>"


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    civility: Mapped[Civility | None]
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100))
    # Stored lower-cased, so the unique constraint compares addresses case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    function: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    # Added by the person themselves through a public registration form, not by an organiser.
    self_registered: Mapped[bool] = mapped_column(default=False)
    # Folded "first last email function" for search, and "last first" for sorting.
    search_key: Mapped[str] = mapped_column(String(700), default="")
    sort_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation | None] = relationship(back_populates="contacts")
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    updated_by: Mapped["User | None"] = relationship(foreign_keys=[updated_by_id])  # noqa: F821

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __repr__(self) -> str:
        return f"<Contact {self.email}>"


class ContactImport(db.Model):
    """An uploaded contact file waiting for its organiser to confirm the import."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    # The decoded text, so the confirmation re-reads exactly what the preview showed.
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<ContactImport {self.id} {self.filename!r}>"


@event.listens_for(Organisation, "before_insert")
@event.listens_for(Organisation, "before_update")
def _organisation_keys(mapper, connection, organisation: Organisation) -> None:
    organisation.name_key = fold(organisation.name)
    organisation.town_key = fold(organisation.town)


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _contact_keys(mapper, connection, contact: Contact) -> None:
    # Column defaults only apply in the INSERT itself: fields never set are still None here.
    first_name, function = contact.first_name or "", contact.function or ""
    contact.email = contact.email.strip().lower()
    contact.search_key = fold(" ".join([first_name, contact.last_name, contact.email, function]))
    contact.sort_key = fold(f"{contact.last_name} {first_name}")
