"""Benchmark of the contact import: a 5,000-line Windows-1252 file, half of it already known.

Run by `make bench` (or `.venv/bin/python bench/bench_import.py`); fails above the budget.
"""

import csv
import io
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_babel import force_locale  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.contacts import importing  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Contact, Organisation, OrganisationKind, User  # noqa: E402
from config import TestingConfig  # noqa: E402

LINES = 5_000
ORGANISATIONS = 200
BUDGET_SECONDS = 10.0
TOWNS = ["Chenôve", "Dijon", "Besançon", "Saint-Apollinaire", "Talant", "Quetigny"]


def build_file() -> bytes:
    """What French Excel saves: `;`, CRLF, Windows-1252, quotes around awkward cells."""
    output = io.StringIO()
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["Civilité", "Nom", "Prénom", "Courriel", "Téléphone", "Fonction", "Structure", "Commune"]
        + ["Remarques"]
    )
    for number in range(LINES):
        writer.writerow(
            [
                "Mme" if number % 2 else "M.",
                f"Lefèvre-Nöel {number}",
                "Zoé" if number % 3 else "François",
                f"contact{number}@exemple.fr",
                f"03 80 {number % 100:02d} {number // 100 % 100:02d} 12",
                "Coordinatrice « réussite éducative »; référente",
                f"Centre social Léo-Lagrange n°{number % ORGANISATIONS}",
                TOWNS[number % ORGANISATIONS % len(TOWNS)],
                f'Vu le {number % 28 + 1} juin;\nnote "importante"' if number % 10 == 0 else "",
            ]
        )
    return output.getvalue().encode("cp1252")


def seed_directory() -> User:
    """An organiser, and half of the file's contacts already in the directory."""
    user = User(email="bench@example.org", name="Bench", password_hash="-")
    organisations = [
        Organisation(
            name=f"Centre social Léo-Lagrange n°{number}",
            town=TOWNS[number % len(TOWNS)],
            kind=OrganisationKind.SOCIAL_CENTRE,
        )
        for number in range(0, ORGANISATIONS, 2)
    ]
    contacts = [
        Contact(
            first_name="Ancien",
            last_name=f"Lefèvre-Nöel {number}",
            email=f"contact{number}@exemple.fr",
            function="Animatrice",
        )
        for number in range(0, LINES, 2)
    ]
    db.session.add_all([user, *organisations, *contacts])
    db.session.commit()
    return user


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *arguments) -> None:
        self.count += 1


def main() -> int:
    data = build_file()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db")
        with app.app_context(), force_locale("en"):
            db.create_all()
            user = seed_directory()
            counter = QueryCounter()
            event.listen(db.engine, "before_cursor_execute", counter)

            started = time.perf_counter()
            preview = importing.preview_import(importing.decode_upload(data))
            previewed = time.perf_counter()
            preview_queries = counter.count
            importing.apply_import(preview, user, datetime.now(UTC))
            db.session.commit()
            finished = time.perf_counter()

            event.remove(db.engine, "before_cursor_execute", counter)
            total = db.session.scalar(select(func.count(Contact.id)))
            db.session.remove()
            db.engine.dispose()

    elapsed = finished - started
    print(f"file: {LINES} lines, {len(data) / 1024:.0f} KiB, Windows-1252, ';'")
    print(
        f"preview: {previewed - started:.2f} s, {preview_queries} queries "
        f"({len(preview.created)} to create, {len(preview.updated)} to update, "
        f"{len(preview.rejected)} rejected, {len(preview.new_organisations)} new organisations)"
    )
    print(
        f"apply + commit: {finished - previewed:.2f} s, {counter.count - preview_queries} queries"
    )
    print(f"total: {elapsed:.2f} s for {LINES} lines (budget {BUDGET_SECONDS:.0f} s)")
    if preview.rejected or total != LINES:
        print(f"FAILED: {len(preview.rejected)} lines rejected, {total} contacts in the directory")
        return 1
    if elapsed > BUDGET_SECONDS:
        print("FAILED: over budget")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
