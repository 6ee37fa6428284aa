"""Benchmark of the check-in page's search at the door: requests per second of an organiser's
searches (GET /meetings/<id>/check-in?q=...) on a meeting of 500 invitees, next to a bare Flask
route rendering one row (the ceiling), and the SQL statements of one search.

The meeting starts today, so the page searches and offers its buttons; its 500 invitees come
from 60 organisations, most of them coming and some already checked in, and the directory
holds 100 more contacts for the walk-in candidates. Each client thread logs in once through the
login form (CSRF token, the organiser's real password) and then searches with its session:
prefixes of 2 to 4 letters of last names and organisation names, and a few that find nobody.
Logging in is only limited after failed attempts, and these succeed; the check-in page has no
rate limit. The app runs under gunicorn with 2 workers on a temporary SQLite file, then on a
scratch PostgreSQL database when one answers on 127.0.0.1:5432 (see serving.py).

Run by `make bench` (or `.venv/bin/python bench/bench_checkin.py`); it reports, and fails only
if requests fail. BENCH_SECONDS and BENCH_THREADS change the duration of each run and the
number of threads.
"""

import http.client
import os
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

# Before the app is imported: the seeding app's job queue stays in memory.
os.environ["RENCONTRES_ENV"] = "testing"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving import (  # noqa: E402
    CSRF_FIELD,
    FORM_HEADERS,
    THREADS,
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
from app.attendance.services import CHECKIN_RESULTS, checkin_search, directory_matches  # noqa: E402
from app.auth.services import create_user  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Answer,
    Attendance,
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    OrganisationKind,
)
from app.text import fold, slug  # noqa: E402
from config import TestingConfig  # noqa: E402

INVITATIONS = 500
DIRECTORY_ONLY = 100
ORGANISER_EMAIL = "claire.martin@example.org"
ORGANISER_PASSWORD = "porte d'entrée, badge et café"
# Answers: most are coming; of those already arrived, a share is checked in.
COMING, NOT_COMING = 0.8, 0.08
CHECKED_IN = 0.3
ORGANISATION_KINDS = [
    ("Centre social", OrganisationKind.SOCIAL_CENTRE),
    ("CCAS", OrganisationKind.CCAS),
    ("Caisse des écoles", OrganisationKind.SCHOOL_FUND),
    ("Collège", OrganisationKind.SCHOOL),
    ("Maison de quartier", OrganisationKind.ASSOCIATION),
    ("Médiathèque", OrganisationKind.LOCAL_AUTHORITY),
]
TOWNS = [
    "Dijon",
    "Chenôve",
    "Quetigny",
    "Talant",
    "Longvic",
    "Fontaine-lès-Dijon",
    "Chevigny-Saint-Sauveur",
    "Saint-Apollinaire",
    "Beaune",
    "Auxonne",
]
# French first and last names, a line of them at a time (the formatter would give each its own).
# fmt: off
FIRST_NAMES = [
    "Camille", "Claire", "Hélène", "Sophie", "Nathalie", "Isabelle", "Céline", "Amélie", "Léa",
    "Manon", "Chloé", "Inès", "Margaux", "Élodie", "Agnès", "Julien", "Thomas", "Nicolas",
    "Mathieu", "Sébastien", "Olivier", "Jérôme", "François", "Benoît", "Loïc", "Yannick", "Théo",
    "Hugo", "Rémi", "Karim",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier",
    "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen",
    "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Benali",
]
# fmt: on
# Typed at the door and found nowhere: no name, organisation or address holds them.
NOT_FOUND = ["xq", "zw", "qxv", "wzk", "jqy", "kxw", "vwq", "zzy", "qj", "xkz", "wqx", "yxq"]


@dataclass(frozen=True)
class Door:
    """What the benchmark needs of the seeded data."""

    meeting_id: int
    invitation_ids: list[int]
    searches: list[str]


# The data


def with_town(kind: str, town: str) -> str:
    return f"{kind} d'{town}" if town[0] in "AEIOUÉ" else f"{kind} de {town}"


def organisations() -> list[Organisation]:
    return [
        Organisation(name=with_town(name, town), kind=kind, town=town)
        for name, kind in ORGANISATION_KINDS
        for town in TOWNS
    ]


def contact(number: int, choose: random.Random, organisation: Organisation) -> Contact:
    first_name, last_name = choose.choice(FIRST_NAMES), choose.choice(LAST_NAMES)
    return Contact(
        first_name=first_name,
        last_name=last_name,
        email=f"{slug(first_name)}.{slug(last_name)}.{number}@example.org",
        organisation=organisation,
    )


def invitation(meeting: Meeting, person: Contact, choose: random.Random, now: datetime):
    """Invited three weeks ago; answered coming, not coming or not at all; some of those
    coming checked in during the last half hour."""
    draw = choose.random()
    answer = Answer.NONE
    if draw < COMING:
        answer = Answer.COMING
    elif draw < COMING + NOT_COMING:
        answer = Answer.NOT_COMING
    checked_in = answer is Answer.COMING and choose.random() < CHECKED_IN
    return Invitation(
        meeting=meeting,
        contact=person,
        invited_at=now - timedelta(days=21),
        answer=answer,
        answered_at=None if answer is Answer.NONE else now - timedelta(days=choose.randint(1, 20)),
        attendance=Attendance.PRESENT if checked_in else None,
        arrived_at=now - timedelta(minutes=choose.randint(1, 30)) if checked_in else None,
    )


def searches(choose: random.Random, organisations: list[Organisation]) -> list[str]:
    """What people type at the door: the first 2 to 4 letters of a last name or of a word of an
    organisation's name, as typed (without accents, sometimes capitalised); and NOT_FOUND."""
    words = [fold(name) for name in LAST_NAMES]
    words += [word for found in organisations for word in fold(found.name).split() if len(word) > 3]
    typed = []
    for word in words:
        prefix = word[: choose.randint(2, 4)]
        typed.append(prefix.capitalize() if choose.random() < 0.3 else prefix)
    return typed + NOT_FOUND


def seed(url: str) -> Door:
    """A meeting starting now with INVITATIONS invitees from 60 organisations, DIRECTORY_ONLY
    contacts not invited, and its organiser's account with ORGANISER_PASSWORD."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    choose = random.Random(5)
    with app.app_context():
        db.create_all()
        organiser = create_user(
            name="Claire Martin",
            email=ORGANISER_EMAIL,
            password=ORGANISER_PASSWORD,
            is_admin=False,
            now=now - timedelta(days=60),
        )
        meeting = Meeting(
            title="Rencontre des acteurs de la réussite éducative",
            status=MeetingStatus.PUBLISHED,
            published_at=now - timedelta(days=21),
            starts_at=now,
            ends_at=now + timedelta(hours=3),
            venue_name="Salle des fêtes",
            venue_address="1 place de la Mairie",
            venue_postcode="21300",
            venue_town="Chenôve",
            answer_deadline=now - timedelta(days=2),
            contact_name="Claire Martin",
            contact_email=ORGANISER_EMAIL,
            organisers=[organiser],
        )
        places = organisations()
        people = [
            contact(number, choose, choose.choice(places))
            for number in range(INVITATIONS + DIRECTORY_ONLY)
        ]
        invitations = [invitation(meeting, person, choose, now) for person in people[:INVITATIONS]]
        db.session.add_all([meeting, *people, *invitations])
        db.session.commit()
        door = Door(meeting.id, [found.id for found in invitations], searches(choose, places))
        db.session.remove()
        db.engine.dispose()
    return door


# The SQL statements of one search


@dataclass(frozen=True)
class Counted:
    """One search: the people it finds, and the SQL statements of the whole request."""

    text: str
    invitees: int
    candidates: int
    statements: int


def people_found(app, door: Door) -> dict[str, tuple[int, int]]:
    """Invitees and directory contacts each search finds, as the page's services find them."""
    with app.app_context():
        meeting = db.session.get(Meeting, door.meeting_id)
        return {
            text: (len(checkin_search(meeting, text)), len(directory_matches(meeting, text)))
            for text in door.searches
        }


def statements_of(client, engine, path: str) -> int:
    client.get(path)  # the first request of a process also reads what it then caches
    statements = []

    def count(_connection, _cursor, statement: str, *_arguments) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.status_code
    return len(statements)


def statements_per_search(url: str, door: Door) -> tuple[dict[str, tuple[int, int]], list[Counted]]:
    """What every search finds; and the statements of three searches, in-process: one finding
    nobody, the one finding fewest people, one finding as many invitees as the page shows."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    found = people_found(app, door)
    by_count = sorted(found, key=lambda text: sum(found[text]))
    nobody, fewest, most = (
        by_count[0],
        next(text for text in by_count if sum(found[text])),
        next(text for text in by_count if found[text][0] == CHECKIN_RESULTS),
    )
    assert not sum(found[nobody]), "every search finds someone"
    with app.app_context():
        engine = db.engine
    # No app context kept open: each request then has its own, as under gunicorn, and reads
    # the logged-in user again.
    client = app.test_client()
    login = client.post("/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert login.status_code == 302, "the organiser could not log in"
    counted = [
        Counted(text, *found[text], statements_of(client, engine, check_in_path(door, text)))
        for text in (nobody, fewest, most)
    ]
    engine.dispose()
    return found, counted


# The load


def check_in_path(door: Door, text: str) -> str:
    return f"/meetings/{door.meeting_id}/check-in?q={quote(text)}"


def logged_in_cookies(port: int) -> str:
    """The session cookie of the organiser logged in through the login form."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    response, content = exchange(connection, "GET", "/login")
    form = {
        "csrf_token": CSRF_FIELD.search(content.decode()).group(1),
        "email": ORGANISER_EMAIL,
        "password": ORGANISER_PASSWORD,
    }
    headers = {**FORM_HEADERS, "Cookie": cookies_of(response)}
    response, _content = exchange(connection, "POST", "/login", urlencode(form), headers)
    connection.close()
    if response.status != 302:
        raise RuntimeError(f"logging in got {response.status}, not a redirection")
    return cookies_of(response)


def check_in_searches(door: Door, sessions: list[str]) -> RequestMaker:
    """Each thread searches with its own session, a search drawn at random each time."""

    def make(index: int):
        headers = {"Cookie": sessions[index]}

        def send(connection) -> int:
            path = check_in_path(door, random.choice(door.searches))
            return exchange(connection, "GET", path, headers=headers)[0].status

        return send

    return make


# The report


def measure_database(name: str, url: str, folder: str) -> dict[str, Measure]:
    """The ceiling and the check-in searches in alternating rounds; then the statements."""
    door = seed(url)
    log = Path(folder) / "gunicorn.log"
    with bare_server(url, log) as bare, app_server(url, folder, "/login", log) as app:
        # One login per client thread, kept for every round: as at the door, a login and then
        # search after search.
        sessions = [logged_in_cookies(app) for _thread in range(THREADS)]
        results = in_turns(
            {
                "bare": lambda seconds: load(bare, bare_row(door.invitation_ids), 200, seconds),
                "search": lambda seconds: load(
                    app, check_in_searches(door, sessions), 200, seconds
                ),
            }
        )
    report(name, results, *statements_per_search(url, door))
    return results


def report(name: str, results: dict[str, Measure], found: dict, counted: list[Counted]) -> None:
    report_header(name)
    report_line("bare Flask route, one row (ceiling)", results["bare"])
    report_line("check-in search (GET, logged in)", results["search"], results["bare"])
    nobody = sum(1 for people in found.values() if not sum(people))
    print(f"  {len(found)} different searches drawn at random, {nobody} of them finding nobody")
    print("  SQL statements of one search request, in-process:")
    for search in counted:
        people = f"{search.invitees} invitees, {search.candidates} other contacts found"
        print(f"    q={search.text!r:<8} {people:<38} {search.statements} statements")


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
