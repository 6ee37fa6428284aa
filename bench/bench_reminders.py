"""Benchmark of the reminder job: one run of queue_due_reminders() with 200 published meetings
whose reminder is due at once, 50 invitees each (10,000 e-mails), then 10 each, to show that
the number of SQL statements does not grow with the number of invitees.

Each run has its own database: a temporary SQLite file, then a scratch PostgreSQL database
when one answers on 127.0.0.1:5432 (dropped afterwards). The run is timed alone, seeding
apart, and commits after each reminder as `flask reminders send-due` does. Run by
`make bench` (or `.venv/bin/python bench/bench_reminders.py`); fails when an e-mail is missing
or doubled, when the statements grow with the invitees, or over the target on SQLite.
"""

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

# Before the app is imported: the job queue stays in memory.
os.environ["RENCONTRES_ENV"] = "testing"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving import (  # noqa: E402
    BENCH_DATABASE,
    postgres_answers,
    postgres_database,
    sqlite_database,
)
from sqlalchemy import event, func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Answer,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    OutboxMessage,
    ProgrammeItem,
    Reminder,
    ReminderDelivery,
    User,
)
from config import TestingConfig  # noqa: E402

MEETINGS = 200
INVITEES = (50, 10)
TARGET_SECONDS = 5.0
NOW = datetime(2026, 6, 5, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    invitees: int
    seconds: float
    # Of this process alone: a machine busy with other work slows the wall clock only.
    cpu_seconds: float
    statements: int
    inserts: int
    emails: int
    deliveries: int

    @property
    def per_reminder(self) -> float:
        return self.statements / MEETINGS

    @property
    def others(self) -> int:
        """Reads, updates and savepoints: all but the inserts."""
        return self.statements - self.inserts


# The data


def seed(invitees: int) -> None:
    """MEETINGS published meetings starting tomorrow, each with `invitees` people coming (one
    in ten on the waiting list) and a reminder due a minute ago."""
    organiser = User(email="bench@example.org", name="Bench", password_hash="-")
    organisation = Organisation(name="Fédération des centres sociaux", town="Cergy")
    db.session.add_all([organiser, organisation])
    meetings = [
        Meeting(
            title=f"Groupe de travail des centres sociaux {number}",
            status=MeetingStatus.PUBLISHED,
            starts_at=NOW + timedelta(days=1, minutes=1),
            ends_at=NOW + timedelta(days=1, hours=3),
            venue_name="Maison des associations",
            venue_address="2 rue des Corroyeurs",
            venue_postcode="95000",
            venue_town="Cergy",
            contact_name="Claire Martin",
            contact_function="Chargée de mission",
            contact_email="claire.martin@federation.example.org",
            organisers=[organiser],
            programme_items=[
                ProgrammeItem(position=0, starts_at=clock(9, 0), text="Accueil, café"),
                ProgrammeItem(position=1, starts_at=clock(9, 30), text="Ateliers"),
                ProgrammeItem(position=2, text="Synthèse et prochaines dates"),
            ],
            reminders=[Reminder(amount=1, send_at=NOW - timedelta(minutes=1))],
        )
        for number in range(MEETINGS)
    ]
    db.session.add_all(meetings)
    db.session.flush()
    # Contacts and invitations in bulk: the ORM would insert them one by one on SQLite.
    db.session.execute(
        insert(Contact),
        [
            {
                "first_name": "Camille",
                "last_name": f"Invitée {number}",
                "email": f"invitee{number}@example.org",
                "search_key": f"camille invitee {number}",
                "sort_key": f"invitee {number} camille",
                "organisation_id": organisation.id,
            }
            for number in range(MEETINGS * invitees)
        ],
    )
    contact_ids = db.session.scalars(select(Contact.id).order_by(Contact.id)).all()
    db.session.execute(
        insert(Invitation),
        [
            {
                "meeting_id": meeting.id,
                "contact_id": contact_ids[index * invitees + number],
                "answer": Answer.WAITING if number % 10 == 9 else Answer.COMING,
                "waiting_since": NOW - timedelta(days=2) if number % 10 == 9 else None,
                "invited_at": NOW - timedelta(days=10),
            }
            for index, meeting in enumerate(meetings)
            for number in range(invitees)
        ],
    )
    db.session.commit()


def queue_once() -> tuple[float, float, int, int]:
    """Time one run of the job (wall clock and CPU); count its SQL statements, and of them
    the inserts."""
    # Imported here: the reminders package needs the app's blueprints set up first.
    from app.reminders.sending import queue_due_reminders

    statements = inserts = 0

    def count(_connection, _cursor, statement: str, *_arguments) -> None:
        nonlocal statements, inserts
        statements += 1
        inserts += statement.lstrip().upper().startswith("INSERT")

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        report = queue_due_reminders(NOW, after_each=db.session.commit)
        db.session.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert report.reminders == MEETINGS and report.failed == 0, report
    return elapsed, cpu, statements, inserts


def run(url: str, invitees: int) -> Run:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        seed(invitees)
        seconds, cpu_seconds, statements, inserts = queue_once()
        emails = db.session.scalar(select(func.count(OutboxMessage.id)))
        deliveries = db.session.scalar(
            select(func.count(func.distinct(ReminderDelivery.invitation_id)))
        )
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return Run(invitees, seconds, cpu_seconds, statements, inserts, emails, deliveries)


def measure(name: str, database) -> tuple[list[Run], list[str]]:
    """Run and report on one database; returns the runs and what failed."""
    problems = []
    runs = []
    for invitees in INVITEES:
        with tempfile.TemporaryDirectory() as folder, database(folder) as url:
            runs.append(run(url, invitees))
    print(f"{name}:")
    for result in runs:
        expected = MEETINGS * result.invitees
        print(
            f"  {MEETINGS} meetings × {result.invitees} invitees: {result.emails} e-mails in "
            f"{result.seconds:.2f} s ({result.emails / result.seconds:.0f}/s; CPU "
            f"{result.cpu_seconds:.2f} s), "
            f"{result.statements} SQL statements ({result.per_reminder:.1f} per reminder; "
            f"{result.inserts} inserts)"
        )
        if result.emails != expected or result.deliveries != expected:
            problems.append(
                f"{name}, {result.invitees} invitees: {result.emails} e-mails and "
                f"{result.deliveries} invitations recorded, {expected} expected"
            )
    if len({result.others for result in runs}) != 1:
        problems.append(f"{name}: the reads and updates grow with the number of invitees")
    if len({result.inserts for result in runs}) != 1:
        problems.append(f"{name}: the inserts grow with the number of invitees")
    return runs, problems


def main() -> int:
    runs, problems = measure("SQLite (temporary file)", sqlite_database)
    largest = runs[0]
    print(f"target: under {TARGET_SECONDS:.0f} s on SQLite for {largest.emails} e-mails")
    if largest.seconds > TARGET_SECONDS:
        problems.append(f"SQLite: {largest.seconds:.2f} s, over the target")
    if postgres_answers():
        _runs, more = measure(f"PostgreSQL (scratch database {BENCH_DATABASE})", postgres_database)
        problems += more
    else:
        print("PostgreSQL does not answer on 127.0.0.1:5432: skipped")
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
