"""Partner organisations: the filtered list with contact counts, creation, changes, deletion."""

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import with_expression

from app.contacts.normalise import FieldError, InvalidValue
from app.extensions import db
from app.models import Contact, Organisation, OrganisationKind, User
from app.text import fold, matches_folded

DEFAULT_SORT = "name"
SORTS = ("name", "town", "kind", "contacts", "updated")
WEBSITE_MAX_LENGTH = 500
_HOST = re.compile(r"^[\w-]+(\.[\w-]+)+$")


@dataclass(frozen=True)
class OrganisationFilters:
    query: str = ""
    kind: OrganisationKind | None = None
    town: str = ""
    sort: str = DEFAULT_SORT
    # Only the organisations added by public registrations and not reviewed yet.
    to_review: bool = False

    @property
    def is_filtered(self) -> bool:
        return bool(self.query or self.kind or self.town or self.to_review)


@dataclass
class OrganisationData:
    name: str
    kind: OrganisationKind
    town: str = ""
    postcode: str = ""
    website: str = ""
    notes: str = ""


def normalise_website(raw: str) -> str:
    """An http(s) address; "www.example.org" becomes "https://www.example.org"; "" stays ""."""
    raw = raw.strip()
    if not raw:
        return ""
    url = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 -- raises ValueError for "javascript:alert(1)" and the like
    except ValueError as error:
        raise InvalidValue(_l("This is not a valid web address.")) from error
    if (
        parts.scheme.lower() not in ("http", "https")
        or "@" in parts.netloc
        or not _HOST.match(parts.hostname or "")
        or any(character.isspace() for character in url)
    ):
        raise InvalidValue(_l("Only web addresses starting with http:// or https:// are allowed."))
    if len(url) > WEBSITE_MAX_LENGTH:
        raise InvalidValue(
            _l("This web address is longer than %(limit)s characters.", limit=WEBSITE_MAX_LENGTH)
        )
    return url


def contact_counts():
    """Per organisation id, its number of contacts: joined once instead of counted per row."""
    return (
        select(Contact.organisation_id, func.count(Contact.id).label("total"))
        .group_by(Contact.organisation_id)
        .subquery()
    )


def organisation_list_query(filters: OrganisationFilters) -> Select:
    counts = contact_counts()
    contact_count = func.coalesce(counts.c.total, 0)
    statement = (
        select(Organisation)
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .options(with_expression(Organisation.contact_count, contact_count))
    )
    if filters.query:
        statement = statement.where(
            matches_folded(filters.query, Organisation.name_key, Organisation.town_key)
        )
    if filters.kind:
        statement = statement.where(Organisation.kind == filters.kind)
    if filters.town:
        statement = statement.where(Organisation.town_key == fold(filters.town))
    if filters.to_review:
        statement = statement.where(Organisation.pending_review.is_(True))
    return statement.order_by(*_ordering(filters.sort, contact_count))


def _ordering(sort: str, contact_count) -> list:
    column = sort.removeprefix("-")
    descending = sort.startswith("-")
    primary = {
        "name": Organisation.name_key,
        "town": Organisation.town_key,
        "kind": Organisation.kind,
        "contacts": contact_count,
        "updated": Organisation.updated_at,
    }.get(column, Organisation.name_key)
    primary = primary.desc() if descending else primary.asc()
    return [primary, Organisation.name_key, Organisation.id]


def town_choices() -> list[tuple[str, str]]:
    """(folded key, a spelling) for each town that has organisations, for the filter menus."""
    rows = db.session.execute(
        select(Organisation.town_key, func.min(Organisation.town))
        .where(Organisation.town_key != "")
        .group_by(Organisation.town_key)
        .order_by(Organisation.town_key)
    )
    return [(key, town) for key, town in rows]


def organisation_choices() -> list[tuple[str, str]]:
    """(id, "name (town)") of every organisation, for the contact form."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.town).order_by(
            Organisation.name_key, Organisation.town_key
        )
    )
    return [(str(id_), f"{name} ({town})" if town else name) for id_, name, town in rows]


def _check_unique(data: OrganisationData, exclude_id: int | None = None) -> None:
    statement = select(Organisation.id).where(
        Organisation.name_key == fold(data.name), Organisation.town_key == fold(data.town)
    )
    if exclude_id is not None:
        statement = statement.where(Organisation.id != exclude_id)
    if db.session.scalar(statement.limit(1)) is not None:
        if data.town.strip():
            message = _l(
                "An organisation with this name already exists in %(town)s.", town=data.town
            )
        else:
            message = _l("An organisation with this name and no town already exists.")
        raise FieldError("name", message)


def _apply(organisation: Organisation, data: OrganisationData, now: datetime) -> None:
    organisation.name = " ".join(data.name.split())
    organisation.kind = data.kind
    organisation.town = " ".join(data.town.split())
    organisation.postcode = data.postcode.strip()
    try:
        organisation.website = normalise_website(data.website)
    except InvalidValue as error:
        raise FieldError("website", error.message) from error
    organisation.notes = data.notes.strip()
    organisation.updated_at = now


def create_organisation(data: OrganisationData, now: datetime) -> Organisation:
    _check_unique(data)
    organisation = Organisation(created_at=now)
    _apply(organisation, data, now)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def update_organisation(organisation: Organisation, data: OrganisationData, now: datetime) -> None:
    _check_unique(data, exclude_id=organisation.id)
    _apply(organisation, data, now)
    db.session.flush()


def mark_reviewed(organisation: Organisation, now: datetime) -> None:
    """An organiser has checked an organisation added by a public registration."""
    organisation.pending_review = False
    organisation.updated_at = now
    db.session.flush()


def count_to_review() -> int:
    return db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.pending_review.is_(True))
    )


def count_contacts(organisation: Organisation) -> int:
    return db.session.scalar(
        select(func.count(Contact.id)).where(Contact.organisation_id == organisation.id)
    )


def first_contacts(organisation: Organisation, limit: int) -> list[Contact]:
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.organisation_id == organisation.id)
            .order_by(Contact.sort_key, Contact.id)
            .limit(limit)
        )
    )


def delete_organisation(
    organisation: Organisation, user: User | None, now: datetime, detach_contacts: bool
) -> int:
    """Delete `organisation`; its contacts stay in the directory without an organisation, but
    only when the organiser said so. Returns how many contacts were detached."""
    contacts = count_contacts(organisation)
    if contacts and not detach_contacts:
        raise FieldError(
            "detach_contacts", _l("This organisation has contacts: say what to do with them.")
        )
    if contacts:
        db.session.execute(
            update(Contact)
            .where(Contact.organisation_id == organisation.id)
            .values(organisation_id=None, updated_at=now, updated_by_id=user.id if user else None)
            .execution_options(synchronize_session="fetch")
        )
    db.session.delete(organisation)
    db.session.flush()
    return contacts
