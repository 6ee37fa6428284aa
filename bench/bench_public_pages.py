"""Benchmark of the public pages of open meetings: requests per second of anonymous visitors
on a meeting's public page (GET /m/<slug>), on the network's agenda (GET /agenda), and of
registrations sent through the public form (POST /m/<slug>/register, each with a new address),
next to a bare Flask route rendering one row (the ceiling); then the SQL statements of each
request, counted in-process.

The agenda lists 30 open meetings over the coming months (one page of them); the meeting whose
page is read has a capacity of 300 with 200 people coming, a programme and three questions on
its registration form. Each client thread reads the form once for its session and CSRF token,
then registers again and again with addresses of its own: every registration is stored and
its confirmation e-mail queued. The app runs under gunicorn with 2 workers on a temporary
SQLite file, then on a scratch PostgreSQL database when one answers on 127.0.0.1:5432 (see
serving.py), with the rate limits lifted.

Run by `make bench` (or `.venv/bin/python bench/bench_public_pages.py`); it reports, and fails
only if requests fail. BENCH_SECONDS and BENCH_THREADS change the duration of each run and the
number of threads.
"""

import itertools
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode

# Before the app is imported: the seeding app's job queue stays in memory.
os.environ["RENCONTRES_ENV"] = "testing"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving import (  # noqa: E402
    CSRF_FIELD,
    FORM_HEADERS,
    Measure,
    RequestMaker,
    app_server,
    bare_row,
    bare_server,
    cookies_of,
    databases,
    exchange,
    in_turns,
    load,
    report_header,
    report_line,
)
from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.services import create_user  # noqa: E402
from app.extensions import db  # noqa: E402
from app.meetings.services import set_public_slug  # noqa: E402
from app.models import (  # noqa: E402
    Answer,
    Contact,
    Invitation,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    MeetingVisibility,
    ProgrammeItem,
    QuestionKind,
)
from config import TestingConfig  # noqa: E402

MEETINGS = 30
CAPACITY, COMING = 300, 200
TOWNS = ["Dijon", "Chenôve", "Quetigny", "Talant", "Beaune"]


@dataclass(frozen=True)
class Site:
    """What the benchmark needs of the seeded data."""

    slug: str
    invitation_ids: list[int]
    # The form field of the required question.
    choice_field: str


def seed(url: str) -> Site:
    """MEETINGS open published meetings, the first with COMING people coming, a programme and
    three questions."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with app.app_context():
        db.create_all()
        organiser = create_user(
            name="Claire Martin",
            email="claire.martin@example.org",
            password="une phrase de passe assez longue",
            is_admin=False,
            now=now,
        )
        meetings = []
        for number in range(MEETINGS):
            starts_at = now + timedelta(days=14 + 3 * number, hours=2)
            meeting = Meeting(
                title=f"Forum des bénévoles de l'accompagnement scolaire n° {number + 1}",
                description="Rencontre ouverte aux bénévoles des écoles et des centres sociaux.",
                status=MeetingStatus.PUBLISHED,
                visibility=MeetingVisibility.OPEN,
                published_at=now,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=3),
                answer_deadline=starts_at - timedelta(days=2),
                capacity=CAPACITY,
                venue_name="Centre social du Lac",
                venue_address="12 rue du Lac",
                venue_postcode="21000",
                venue_town=TOWNS[number % len(TOWNS)],
                contact_name="Claire Martin",
                contact_email="claire.martin@example.org",
                organisers=[organiser],
            )
            meetings.append(meeting)
            db.session.add(meeting)
            db.session.flush()
            set_public_slug(meeting)
        featured = meetings[0]
        featured.programme_items = [
            ProgrammeItem(position=0, starts_at=time(14, 0), text="Accueil"),
            ProgrammeItem(position=1, starts_at=time(14, 30), text="Ateliers"),
            ProgrammeItem(position=2, text="Synthèse"),
        ]
        featured.questions = [
            MeetingQuestion(position=0, kind=QuestionKind.SHORT_TEXT, label="Régime alimentaire ?"),
            MeetingQuestion(
                position=1,
                kind=QuestionKind.SINGLE_CHOICE,
                label="Atelier de l'après-midi",
                choices="Lecture\nMathématiques\nParentalité",
                required=True,
            ),
            MeetingQuestion(position=2, kind=QuestionKind.YES_NO, label="Besoin d'un accès PMR ?"),
        ]
        people = [
            Contact(
                first_name="Camille",
                last_name=f"Martin {number}",
                email=f"camille.martin.{number}@example.org",
            )
            for number in range(COMING)
        ]
        invitations = [
            Invitation(
                meeting=featured,
                contact=person,
                invited_at=now,
                answer=Answer.COMING,
                answered_at=now,
            )
            for person in people
        ]
        db.session.add_all([*people, *invitations])
        db.session.commit()
        site = Site(
            featured.slug,
            [invitation.id for invitation in invitations],
            f"question_{featured.questions[1].id}",
        )
        db.session.remove()
        db.engine.dispose()
    return site


def registration(site: Site, thread: int, number: int, token: str) -> str:
    return urlencode(
        {
            "csrf_token": token,
            "civility": "mme",
            "first_name": "Zoé",
            "last_name": "Lambert",
            "email": f"zoe.lambert.{thread}.{number}@example.net",
            "organisation": "École Jean Jaurès",
            "function": "Bénévole",
            site.choice_field: "Lecture",
            "consent": "y",
        }
    )


# The load


def reads(path: str) -> RequestMaker:
    def make(_index: int):
        def send(connection) -> int:
            return exchange(connection, "GET", path)[0].status

        return send

    return make


def registrations(site: Site) -> RequestMaker:
    """Each thread reads the form once, then sends registration after registration."""

    def make(index: int):
        numbers = itertools.count()
        session: dict[str, str] = {}

        def send(connection) -> int:
            if not session:
                response, content = exchange(connection, "GET", f"/m/{site.slug}")
                session["cookie"] = cookies_of(response)
                session["token"] = CSRF_FIELD.search(content.decode()).group(1)
            body = registration(site, index, next(numbers), session["token"])
            headers = {**FORM_HEADERS, "Cookie": session["cookie"]}
            path = f"/m/{site.slug}/register"
            return exchange(connection, "POST", path, body, headers)[0].status

        return send

    return make


# The SQL statements of each request


def statements(url: str, site: Site) -> dict[str, int]:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    counted: dict[str, int] = {}

    def count(label: str, send) -> None:
        send()  # the first request of a process also reads what it then caches
        seen = []

        def listen(_connection, _cursor, statement: str, *_arguments) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", listen)
        try:
            send()
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        counted[label] = len(seen)

    numbers = itertools.count()
    count("public page", lambda: client.get(f"/m/{site.slug}"))
    count("agenda", lambda: client.get("/agenda"))
    count(
        "registration",
        lambda: client.post(
            f"/m/{site.slug}/register",
            data=registration(site, 99, next(numbers), ""),
            content_type=FORM_HEADERS["Content-Type"],
        ),
    )
    engine.dispose()
    return counted


# The report


def measure_database(name: str, url: str, folder: str) -> dict[str, Measure]:
    site = seed(url)
    log = Path(folder) / "gunicorn.log"
    with bare_server(url, log) as bare, app_server(url, folder, "/agenda", log) as app:
        results = in_turns(
            {
                "bare": lambda seconds: load(bare, bare_row(site.invitation_ids), 200, seconds),
                "page": lambda seconds: load(app, reads(f"/m/{site.slug}"), 200, seconds),
                "agenda": lambda seconds: load(app, reads("/agenda"), 200, seconds),
                "register": lambda seconds: load(app, registrations(site), 302, seconds),
            }
        )
    counted = statements(url, site)
    report_header(name)
    report_line("bare Flask route, one row (ceiling)", results["bare"])
    report_line("public page of a meeting (GET)", results["page"], results["bare"])
    report_line(f"agenda, {MEETINGS} open meetings (GET)", results["agenda"], results["bare"])
    report_line("registration through the form (POST)", results["register"], results["bare"])
    print("  SQL statements of one request, in-process:")
    for label, number in counted.items():
        print(f"    {label:<14} {number}")
    return results


def main() -> int:
    failures = 0
    for name, database in databases():
        with tempfile.TemporaryDirectory() as folder, database(folder) as url:
            results = measure_database(name, url, folder)
            failures += sum(result.failures for result in results.values())
    if failures:
        print(f"FAILED: {failures} requests did not get the expected answer")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
