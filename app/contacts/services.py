"""Contacts: the filtered list, creation, changes, deletion and the CSV export."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import contains_eager

from app.contacts.importing import EXPORT_HEADER, protect_cell
from app.contacts.labels import civility_label, kind_label
from app.contacts.normalise import FieldError, InvalidValue, normalise_email, normalise_phone
from app.extensions import db
from app.models import Civility, Contact, Organisation, OrganisationKind, User
from app.text import fold, matches_folded

DEFAULT_SORT = "name"
SORTS = ("name", "organisation", "town", "updated")


@dataclass(frozen=True)
class ContactFilters:
    query: str = ""
    kind: OrganisationKind | None = None
    town: str = ""
    organisation_id: int | None = None
    sort: str = DEFAULT_SORT

    @property
    def is_filtered(self) -> bool:
        return bool(self.query or self.kind or self.town or self.organisation_id)


@dataclass
class ContactData:
    last_name: str
    email: str
    civility: Civility | None = None
    first_name: str = ""
    phone: str = ""
    function: str = ""
    organisation_id: int | None = None
    notes: str = ""


def contact_list_query(filters: ContactFilters) -> Select:
    """Contacts with their organisation, loaded by the same query."""
    statement = (
        select(Contact)
        .outerjoin(Contact.organisation)
        .options(contains_eager(Contact.organisation))
    )
    if filters.query:
        statement = statement.where(
            matches_folded(
                filters.query, Contact.search_key, Organisation.name_key, Organisation.town_key
            )
        )
    if filters.kind:
        statement = statement.where(Organisation.kind == filters.kind)
    if filters.town:
        statement = statement.where(Organisation.town_key == fold(filters.town))
    if filters.organisation_id:
        statement = statement.where(Contact.organisation_id == filters.organisation_id)
    return statement.order_by(*_ordering(filters.sort))


def _ordering(sort: str) -> list:
    column = sort.removeprefix("-")
    descending = sort.startswith("-")

    def direction(expression):
        return expression.desc() if descending else expression.asc()

    if column == "organisation":
        return [direction(Organisation.name_key).nulls_last(), Contact.sort_key, Contact.id]
    if column == "town":
        return [direction(Organisation.town_key).nulls_last(), Contact.sort_key, Contact.id]
    if column == "updated":
        return [direction(Contact.updated_at), direction(Contact.id)]
    return [direction(Contact.sort_key), direction(Contact.id)]


def _clean(data: ContactData) -> ContactData:
    """`data` with e-mail and phone in their stored form, or FieldError for the field at fault."""
    if not data.last_name.strip():
        raise FieldError("last_name", _l("Please give a last name."))
    try:
        email = normalise_email(data.email)
    except InvalidValue as error:
        raise FieldError("email", error.message) from error
    try:
        phone = normalise_phone(data.phone)
    except InvalidValue as error:
        raise FieldError("phone", error.message) from error
    if data.organisation_id and db.session.get(Organisation, data.organisation_id) is None:
        raise FieldError("organisation_id", _l("This organisation no longer exists."))
    return ContactData(
        civility=data.civility,
        first_name=" ".join(data.first_name.split()),
        last_name=" ".join(data.last_name.split()),
        email=email,
        phone=phone,
        function=" ".join(data.function.split()),
        organisation_id=data.organisation_id or None,
        notes=data.notes.strip(),
    )


def _check_email_free(email: str, exclude_id: int | None = None) -> None:
    condition = Contact.email == email
    if exclude_id is not None:
        condition = condition & (Contact.id != exclude_id)
    if db.session.scalar(select(exists().where(condition))):
        raise FieldError("email", _l("A contact with this e-mail address already exists."))


def _apply(contact: Contact, data: ContactData, user: User | None, now: datetime) -> None:
    contact.civility = data.civility
    contact.first_name = data.first_name
    contact.last_name = data.last_name
    contact.email = data.email
    contact.phone = data.phone
    contact.function = data.function
    contact.organisation_id = data.organisation_id
    contact.notes = data.notes
    contact.updated_at = now
    contact.updated_by_id = user.id if user else None


def create_contact(data: ContactData, user: User | None, now: datetime) -> Contact:
    data = _clean(data)
    _check_email_free(data.email)
    contact = Contact(created_at=now, created_by_id=user.id if user else None)
    _apply(contact, data, user, now)
    db.session.add(contact)
    db.session.flush()
    return contact


def update_contact(contact: Contact, data: ContactData, user: User | None, now: datetime) -> None:
    data = _clean(data)
    _check_email_free(data.email, exclude_id=contact.id)
    _apply(contact, data, user, now)
    db.session.flush()
    # The relationship still points to the organisation before the change.
    db.session.expire(contact, ["organisation"])


def delete_contact(contact: Contact) -> None:
    db.session.delete(contact)
    db.session.flush()


def export_csv(filters: ContactFilters) -> str:
    """The contacts matching `filters` as the import reads them: `;`, French headers, a BOM so
    Excel opens UTF-8 correctly."""
    output = io.StringIO()
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for contact in db.session.scalars(contact_list_query(filters)):
        organisation = contact.organisation
        row = [
            civility_label(contact.civility),
            contact.first_name,
            contact.last_name,
            contact.email,
            contact.phone,
            contact.function,
            organisation.name if organisation else "",
            kind_label(organisation.kind) if organisation else "",
            organisation.town if organisation else "",
            organisation.postcode if organisation else "",
            contact.notes,
        ]
        writer.writerow([protect_cell(value) for value in row])
    return "\ufeff" + output.getvalue()
