"""Helpers for the directory's tests: CSV files as people send them, uploads, bulk data."""

import csv
import io

from app.extensions import db
from app.models import Contact, Organisation, OrganisationKind


def csv_file(rows: list[list[str]], separator: str = ";", encoding: str = "utf-8") -> bytes:
    """`rows` written as a spreadsheet would (quotes where needed, CRLF line ends)."""
    output = io.StringIO()
    csv.writer(output, delimiter=separator, lineterminator="\r\n").writerows(rows)
    return output.getvalue().encode(encoding)


def upload(client, data: bytes, filename: str = "contacts.csv"):
    return client.post(
        "/contacts/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def add_contacts(count: int, organisations: int = 5, start: int = 0) -> list[Contact]:
    """`count` contacts spread over a few organisations, committed at once (factories commit
    each row, too slow for a thousand)."""
    homes = [
        Organisation(name=f"Structure {start}-{index}", town=f"Ville {index}", kind=kind)
        for index, kind in zip(range(organisations), list(OrganisationKind) * 10, strict=False)
    ]
    contacts = [
        Contact(
            first_name=f"Prénom{number}",
            last_name=f"Nom{number:05d}",
            email=f"person{number}@example.org",
            function="Animatrice",
            organisation=homes[number % organisations],
        )
        for number in range(start, start + count)
    ]
    db.session.add_all(homes + contacts)
    db.session.commit()
    return contacts


def add_organisations(count: int, start: int = 0) -> list[Organisation]:
    """`count` organisations, each with two contacts, committed at once."""
    organisations = [
        Organisation(name=f"Association {number}", town="Dijon", kind=OrganisationKind.ASSOCIATION)
        for number in range(start, start + count)
    ]
    contacts = [
        Contact(last_name=f"Nom{number}-{index}", email=f"member{number}-{index}@example.org")
        for number in range(start, start + count)
        for index in range(2)
    ]
    for position, contact in enumerate(contacts):
        contact.organisation = organisations[position // 2]
    db.session.add_all(organisations + contacts)
    db.session.commit()
    return organisations
