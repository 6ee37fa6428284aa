"""Contact import from the CSV files people really have (UTF-8 or Windows-1252, `;` or `,`,
French or English headers): a preview of every line, then all or nothing. Shared by the import
pages and `flask contacts import`; the export writes the same format."""

import codecs
import csv
import enum
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, select

from app.contacts.labels import ChoiceReader, squash
from app.contacts.normalise import InvalidValue, normalise_email, normalise_phone
from app.extensions import db
from app.models import Contact, ContactImport, Organisation, OrganisationKind, User
from app.text import fold

# Rows fetched per IN (...) query: well under every database's limit on bound parameters.
CHUNK_SIZE = 500
# An uploaded file waits this long for its confirmation, then is forgotten.
IMPORT_LIFETIME = timedelta(days=1)

EXPORT_HEADER = (
    "civilité",
    "prénom",
    "nom",
    "courriel",
    "téléphone",
    "fonction",
    "structure",
    "type de structure",
    "commune",
    "code postal",
    "notes",
)

# Header names people use, squashed (folded, without spaces or punctuation).
HEADER_ALIASES = {
    "last_name": ("nom", "lastname", "name", "surname", "nomdefamille"),
    "first_name": ("prenom", "firstname", "givenname"),
    "email": (
        "courriel",
        "email",
        "mail",
        "adressemail",
        "adresseemail",
        "adressecourriel",
        "adresseelectronique",
        "emailaddress",
    ),
    "organisation": ("structure", "organisme", "organisation", "organization", "etablissement"),
    "function": ("fonction", "role", "function", "poste", "jobtitle"),
    "phone": ("telephone", "tel", "phone", "portable", "mobile", "numerodetelephone"),
    "town": ("commune", "ville", "town", "city"),
    "civility": ("civilite", "civility", "titre", "title"),
    "postcode": ("codepostal", "postcode", "cp", "postalcode", "zipcode"),
    "kind": ("typedestructure", "typestructure", "kind", "organisationkind", "typedorganisme"),
    "notes": ("notes", "note", "remarques", "remarque", "commentaire", "commentaires"),
}
HEADER_FIELDS = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

FIELD_LABELS = {
    "civility": _l("Civility"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "function": _l("Function"),
    "organisation": _l("Organisation"),
    "kind": _l("Type of organisation"),
    "town": _l("Town"),
    "postcode": _l("Postcode"),
    "notes": _l("Notes"),
}
# The database columns' sizes, checked here so a long cell is a rejected line, not a crash.
LENGTH_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "function": 200,
    "organisation": 200,
    "town": 120,
    "postcode": 10,
}
# Contact columns an update may overwrite, each only when the file's cell is not empty.
CONTACT_FIELDS = ("civility", "first_name", "last_name", "phone", "function", "notes")

# Spreadsheets run cells starting with these as formulas: the export defuses them with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SEPARATORS = (";", ",", "\t")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `message` tells the organiser why."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECT = "reject"


@dataclass(eq=False)
class NewOrganisation:
    """An organisation named in the file and not in the directory, created once on apply."""

    name: str
    town: str
    postcode: str = ""
    kind: OrganisationKind | None = None


@dataclass(eq=False)
class ImportLine:
    number: int
    email: str = ""
    # Cleaned values of the contact columns present in the file ("" when a cell is empty).
    values: dict = field(default_factory=dict)
    organisation_name: str = ""
    town: str = ""
    postcode: str = ""
    kind: OrganisationKind | None = None
    errors: list = field(default_factory=list)
    action: Action = Action.REJECT
    contact: Contact | None = None
    organisation: Organisation | NewOrganisation | None = None
    changed_fields: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.values.get('first_name', '')} {self.values.get('last_name', '')}".strip()

    @property
    def creates_organisation(self) -> bool:
        return isinstance(self.organisation, NewOrganisation)

    @property
    def reason(self) -> str:
        return "; ".join(str(error) for error in self.errors)

    @property
    def changes(self) -> str:
        return ", ".join(str(FIELD_LABELS[name]) for name in self.changed_fields)


@dataclass(eq=False)
class ImportPreview:
    lines: list[ImportLine]
    ignored_columns: list[str] = field(default_factory=list)
    new_organisations: list[NewOrganisation] = field(default_factory=list)
    applied: bool = False

    def _lines(self, action: Action) -> list[ImportLine]:
        return [line for line in self.lines if line.action is action]

    @cached_property
    def created(self) -> list[ImportLine]:
        return self._lines(Action.CREATE)

    @cached_property
    def updated(self) -> list[ImportLine]:
        return self._lines(Action.UPDATE)

    @cached_property
    def unchanged(self) -> list[ImportLine]:
        return self._lines(Action.UNCHANGED)

    @cached_property
    def rejected(self) -> list[ImportLine]:
        return self._lines(Action.REJECT)

    @property
    def can_apply(self) -> bool:
        return not self.rejected and bool(self.created or self.updated)

    @property
    def summary(self) -> str:
        """What an applied import did, for the message after it."""
        return _(
            "Import done: %(created)s, %(updated)s.",
            created=ngettext(
                "%(num)s contact created", "%(num)s contacts created", len(self.created)
            ),
            updated=ngettext(
                "%(num)s contact updated", "%(num)s contacts updated", len(self.updated)
            ),
        )


# Reading the file


def decode_upload(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252 as French Excel writes;
    UTF-16 when it says so (Excel's "Unicode text"). Anything binary is refused."""
    not_csv = ImportFileError(
        _l(
            "This file is not a CSV file. In your spreadsheet, use “Save as” and choose "
            "“CSV (semicolon separated)”, then send that file."
        )
    )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise not_csv from error
    elif b"\x00" in data:
        raise not_csv
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as error:
                raise not_csv from error
    if _CONTROL_CHARACTERS.search(text):
        raise not_csv
    return text


def detect_separator(line: str) -> str:
    """The separator used most often outside quotes in the header line (`,` when none)."""
    counts = dict.fromkeys(_SEPARATORS, 0)
    in_quotes = False
    for character in line:
        if character == '"':
            in_quotes = not in_quotes
        elif not in_quotes and character in counts:
            counts[character] += 1
    best = max(_SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else ","


def read_records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the (line number, cells) of each non-blank record. Line numbers are those
    a spreadsheet shows, the header being line 1, even when quoted cells span several lines."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ImportFileError(_l("The file is empty."))
    first_line = next(line for line in text.splitlines() if line.strip())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_separator(first_line))
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    while True:
        number = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportFileError(
                _l("Line %(line)s cannot be read: %(error)s.", line=number, error=str(error))
            ) from error
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = cells
        else:
            records.append((number, cells))
    if header is None:
        raise ImportFileError(_l("The file is empty."))
    if not records:
        raise ImportFileError(_l("The file has a header line but no contacts."))
    return header, records


def map_columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Which column holds which field, and the names of the columns that will be ignored."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        field_name = HEADER_FIELDS.get(squash(name.removeprefix("\ufeff")))
        if field_name is None or field_name in columns:
            if name.strip():
                ignored.append(name.strip())
            continue
        columns[field_name] = index
    if "email" not in columns:
        raise ImportFileError(
            _l(
                "This is not a contact CSV file: no e-mail column. The first line must name "
                "the columns, with one called “courriel”, “e-mail” or “mail”."
            )
        )
    if "last_name" not in columns:
        raise ImportFileError(
            _l(
                "This is not a contact CSV file: no last name column. The first line must name "
                "the columns, with one called “nom” or “last name”."
            )
        )
    return columns, ignored


# Checking each line, on its own


def protect_cell(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _unprotect_cell(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _cells(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    raw = {}
    for name, index in columns.items():
        value = _unprotect_cell(cells[index].strip()) if index < len(cells) else ""
        if name == "notes":
            raw[name] = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        else:
            raw[name] = " ".join(value.split())
    return raw


def clean_line(
    number: int, cells: list[str], columns: dict[str, int], width: int, choices: ChoiceReader
) -> ImportLine:
    line = ImportLine(number)
    raw = _cells(cells, columns)
    errors = line.errors
    if any(cell.strip() for cell in cells[width:]):
        errors.append(
            _l(
                "this line has %(cells)s cells but the header has %(columns)s (is there a "
                "separator in a value without quotes?)",
                cells=len(cells),
                columns=width,
            )
        )
    for name, limit in LENGTH_LIMITS.items():
        if len(raw.get(name, "")) > limit:
            errors.append(
                _l(
                    "%(field)s is longer than %(limit)s characters",
                    field=FIELD_LABELS[name],
                    limit=limit,
                )
            )
    if not raw["email"]:
        errors.append(_l("missing e-mail address"))
    else:
        try:
            line.email = normalise_email(raw["email"])
        except InvalidValue:
            errors.append(_l("invalid e-mail address “%(value)s”", value=raw["email"]))
    if not raw["last_name"]:
        errors.append(_l("missing last name"))
    _clean_contact_values(line, raw, choices)
    _clean_organisation(line, raw, choices)
    return line


def _clean_contact_values(line: ImportLine, raw: dict[str, str], choices: ChoiceReader) -> None:
    for name in ("first_name", "last_name", "function", "notes"):
        if name in raw:
            line.values[name] = raw[name]
    if raw.get("civility"):
        line.values["civility"] = choices.civility(raw["civility"])
        if line.values["civility"] is None:
            line.errors.append(
                _l("unknown civility “%(value)s” (use Mme or M.)", value=raw["civility"])
            )
    if raw.get("phone"):
        try:
            line.values["phone"] = normalise_phone(raw["phone"])
        except InvalidValue:
            line.errors.append(_l("invalid phone number “%(value)s”", value=raw["phone"]))


def _clean_organisation(line: ImportLine, raw: dict[str, str], choices: ChoiceReader) -> None:
    line.organisation_name = raw.get("organisation", "")
    line.town = raw.get("town", "")
    line.postcode = raw.get("postcode", "")
    if raw.get("kind"):
        line.kind = choices.kind(raw["kind"])
        if line.kind is None:
            line.errors.append(_l("unknown type of organisation “%(value)s”", value=raw["kind"]))


def mark_duplicate_emails(lines: Iterable[ImportLine]) -> None:
    first_lines: dict[str, int] = {}
    for line in lines:
        if not line.email:
            continue
        if line.email in first_lines:
            line.errors.append(
                _l(
                    "e-mail address already on line %(line)s of the file",
                    line=first_lines[line.email],
                )
            )
        else:
            first_lines[line.email] = line.number


# Comparing with the directory


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK_SIZE):
        yield values[start : start + CHUNK_SIZE]


def existing_contacts(emails: Iterable[str]) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for chunk in _chunks(sorted(set(emails))):
        for contact in db.session.scalars(select(Contact).where(Contact.email.in_(chunk))):
            found[contact.email] = contact
    return found


class OrganisationMatcher:
    """Finds the organisation a line names (folded name, and folded town when the line has one)
    among those in the directory, else plans its creation, once for all the lines naming it."""

    def __init__(self, names: Iterable[str]) -> None:
        self.existing: dict[str, list[Organisation]] = defaultdict(list)
        for chunk in _chunks(sorted({fold(name) for name in names if name})):
            statement = select(Organisation).where(Organisation.name_key.in_(chunk))
            for organisation in db.session.scalars(statement):
                self.existing[organisation.name_key].append(organisation)
        self.planned: dict[str, list[NewOrganisation]] = defaultdict(list)

    @property
    def new_organisations(self) -> list[NewOrganisation]:
        return [planned for group in self.planned.values() for planned in group]

    def match(self, line: ImportLine) -> Organisation | NewOrganisation | None:
        if not line.organisation_name:
            return None
        name_key, town_key = fold(line.organisation_name), fold(line.town)
        candidates = self.existing.get(name_key, [])
        planned = self.planned.get(name_key, [])
        if town_key:
            for organisation in [*candidates, *planned]:
                if fold(organisation.town) == town_key:
                    return self._complete(organisation, line)
            return self._plan(line, name_key)
        without_town = [
            organisation for organisation in [*candidates, *planned] if not organisation.town
        ]
        if without_town:
            return self._complete(without_town[0], line)
        if len(candidates) + len(planned) == 1:
            return self._complete([*candidates, *planned][0], line)
        if not candidates and not planned:
            return self._plan(line, name_key)
        line.errors.append(
            _l(
                "several organisations are named “%(name)s”: add a town column to say which",
                name=line.organisation_name,
            )
        )
        return None

    def _plan(self, line: ImportLine, name_key: str) -> NewOrganisation:
        planned = NewOrganisation(line.organisation_name, line.town, line.postcode, line.kind)
        self.planned[name_key].append(planned)
        return planned

    @staticmethod
    def _complete(organisation, line: ImportLine):
        # A new organisation takes the postcode and kind of the first line that gives them.
        if isinstance(organisation, NewOrganisation):
            organisation.postcode = organisation.postcode or line.postcode
            organisation.kind = organisation.kind or line.kind
        return organisation


def classify(line: ImportLine, contact: Contact | None) -> None:
    if contact is None:
        line.action = Action.CREATE
        return
    line.contact = contact
    line.changed_fields = [
        name
        for name in CONTACT_FIELDS
        if line.values.get(name) not in (None, "") and getattr(contact, name) != line.values[name]
    ]
    target = line.organisation
    if target is not None and (
        isinstance(target, NewOrganisation) or target.id != contact.organisation_id
    ):
        line.changed_fields.append("organisation")
    line.action = Action.UPDATE if line.changed_fields else Action.UNCHANGED


def preview_import(text: str) -> ImportPreview:
    """What importing `text` would do, line by line; writes nothing."""
    header, records = read_records(text)
    columns, ignored = map_columns(header)
    choices = ChoiceReader()
    lines = [clean_line(number, cells, columns, len(header), choices) for number, cells in records]
    mark_duplicate_emails(lines)
    valid = [line for line in lines if not line.errors]
    contacts = existing_contacts(line.email for line in valid)
    organisations = OrganisationMatcher(line.organisation_name for line in valid)
    for line in valid:
        line.organisation = organisations.match(line)
        if not line.errors:
            classify(line, contacts.get(line.email))
    return ImportPreview(lines, ignored, organisations.new_organisations)


# Writing


def apply_import(preview: ImportPreview, user: User | None, now: datetime) -> None:
    """Create and update the contacts of a preview without rejected lines, in the caller's
    transaction (flushed, not committed)."""
    if preview.rejected:
        raise ValueError("an import with rejected lines is never applied")
    user_id = user.id if user else None
    created = {
        id(planned): Organisation(
            name=planned.name,
            town=planned.town,
            postcode=planned.postcode,
            kind=planned.kind or OrganisationKind.OTHER,
            created_at=now,
            updated_at=now,
        )
        for planned in preview.new_organisations
    }
    db.session.add_all(created.values())

    def organisation_of(line: ImportLine) -> Organisation | None:
        target = line.organisation
        return created[id(target)] if isinstance(target, NewOrganisation) else target

    for line in preview.created:
        values = line.values
        contact = Contact(
            email=line.email,
            civility=values.get("civility"),
            first_name=values.get("first_name", ""),
            last_name=values["last_name"],
            phone=values.get("phone", ""),
            function=values.get("function", ""),
            notes=values.get("notes", ""),
            organisation=organisation_of(line),
            created_at=now,
            updated_at=now,
            created_by_id=user_id,
            updated_by_id=user_id,
        )
        db.session.add(contact)
    for line in preview.updated:
        contact = line.contact
        for name in line.changed_fields:
            if name == "organisation":
                contact.organisation = organisation_of(line)
            else:
                setattr(contact, name, line.values[name])
        contact.updated_at = now
        contact.updated_by_id = user_id
    db.session.flush()
    preview.applied = True


def import_file(data: bytes, user: User | None, now: datetime, dry_run: bool) -> ImportPreview:
    """Read, check and (unless `dry_run` or a line is rejected) apply a file: the CLI's way."""
    preview = preview_import(decode_upload(data))
    if not dry_run and preview.can_apply:
        apply_import(preview, user, now)
    return preview


def report(preview: ImportPreview) -> list[str]:
    """The preview as lines of text: counts, then each rejected line with its reason."""
    lines = [
        _("To create: %(count)s", count=len(preview.created)),
        _("To update: %(count)s", count=len(preview.updated)),
        _("Unchanged: %(count)s", count=len(preview.unchanged)),
        _("Rejected: %(count)s", count=len(preview.rejected)),
    ]
    if preview.new_organisations:
        lines.append(_("New organisations: %(count)s", count=len(preview.new_organisations)))
    if preview.ignored_columns:
        lines.append(_("Ignored columns: %(columns)s", columns=", ".join(preview.ignored_columns)))
    lines.extend(
        _("Line %(line)s: %(reason)s", line=line.number, reason=line.reason)
        for line in preview.rejected
    )
    return lines


# The upload waiting for its confirmation


def purge_expired_imports(now: datetime) -> None:
    db.session.execute(
        delete(ContactImport).where(ContactImport.created_at < now - IMPORT_LIFETIME)
    )


def start_import(
    data: bytes, filename: str, user: User, now: datetime
) -> tuple[ImportPreview, ContactImport | None]:
    """The preview of an uploaded file, and the stored copy its confirmation will import (None
    when there is nothing to confirm)."""
    text = decode_upload(data)
    preview = preview_import(text)
    if not preview.can_apply:
        return preview, None
    return preview, store_upload(text, filename, user, now)


def store_upload(text: str, filename: str, user: User, now: datetime) -> ContactImport:
    """Keep a decoded upload until its confirmation, forgetting the expired ones."""
    purge_expired_imports(now)
    pending = ContactImport(
        created_by_id=user.id, filename=filename[:255], content=text, created_at=now
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def pending_import(import_id: int, user: User, now: datetime) -> ContactImport | None:
    """The user's own upload waiting for confirmation; None when it is someone else's, was
    already imported or has expired."""
    pending = db.session.get(ContactImport, import_id)
    if pending is None or pending.created_by_id != user.id:
        return None
    if pending.created_at < now - IMPORT_LIFETIME:
        return None
    return pending


def confirm_import(pending: ContactImport, user: User, now: datetime) -> ImportPreview:
    """Import a stored upload, checked again against the directory as it is now, and forget the
    upload. Nothing is written when a line is now rejected (`preview.applied` stays False)."""
    preview = preview_import(pending.content)
    if preview.can_apply:
        apply_import(preview, user, now)
    db.session.delete(pending)
    db.session.flush()
    return preview
