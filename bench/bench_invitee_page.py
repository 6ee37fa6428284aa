"""Benchmark of the invitee's personal page: requests per second of showing it (GET) and of
recording an answer (POST), next to a bare Flask route rendering one row (the ceiling).

Each app runs under gunicorn with 2 workers on the same database: a temporary SQLite file, then
a scratch PostgreSQL database when one answers on 127.0.0.1:5432. Threads of a Python client
load them from 127.0.0.1 for a fixed time (the servers, databases and client are serving.py's).
Run by `make bench` (or `.venv/bin/python bench/bench_invitee_page.py`); it reports, and fails
only if requests fail. BENCH_SECONDS and BENCH_THREADS change the duration of each run and the
number of threads.
"""

import os
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode

# Before the app is imported: the seeding app's job queue stays in memory.
os.environ["RENCONTRES_ENV"] = "testing"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving import (  # noqa: E402
    CSRF_FIELD,
    FORM_HEADERS,
    SECONDS,
    Measure,
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

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.invitations.tokens import issue_link  # noqa: E402
from app.models import (  # noqa: E402
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    Organisation,
    ProgrammeItem,
    User,
)
from config import TestingConfig  # noqa: E402

INVITATIONS = 300
CAPACITY = 200
TARGET_RATIO = 0.5


@dataclass(frozen=True)
class Invitee:
    invitation_id: int
    token: str


# The data


def seed(url: str) -> list[Invitee]:
    """A published meeting with its programme and INVITATIONS invitees, each with a link."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        db.create_all()
        organiser = User(email="bench@example.org", name="Bench", password_hash="-")
        organisation = Organisation(name="Centre social des Grésilles", town="Dijon")
        meeting = Meeting(
            title="Coordination de la réussite éducative",
            description="Échanges de pratiques entre coordinatrices et coordinateurs.",
            status=MeetingStatus.PUBLISHED,
            starts_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=30, hours=3),
            venue_name="Maison des associations",
            venue_address="2 rue des Corroyeurs",
            venue_postcode="21000",
            venue_town="Dijon",
            capacity=CAPACITY,
            answer_deadline=now + timedelta(days=25),
            contact_name="Claire Martin",
            contact_email="claire.martin@example.org",
            organisers=[organiser],
            programme_items=[
                ProgrammeItem(position=0, starts_at=clock(9, 0), text="Accueil"),
                ProgrammeItem(position=1, starts_at=clock(9, 30), text="Ateliers"),
                ProgrammeItem(position=2, starts_at=clock(11, 30), text="Synthèse"),
            ],
        )
        invitations = [
            Invitation(
                meeting=meeting,
                contact=Contact(
                    first_name="Camille",
                    last_name=f"Invitée {number}",
                    email=f"invitee{number}@example.org",
                    organisation=organisation,
                ),
                invited_at=now,
            )
            for number in range(INVITATIONS)
        ]
        db.session.add_all([organiser, meeting, *invitations])
        tokens = [issue_link(invitation, now) for invitation in invitations]
        db.session.commit()
        invitees = [
            Invitee(invitation.id, token)
            for invitation, token in zip(invitations, tokens, strict=True)
        ]
        db.session.remove()
        db.engine.dispose()
    return invitees


# The load


def page_view(invitees: list[Invitee]):
    def make(index: int):
        def send(connection) -> int:
            return exchange(connection, "GET", f"/i/{random.choice(invitees).token}")[0].status

        return send

    return make


def answer_post(invitees: list[Invitee]):
    """Each thread answers for its own invitee: the page once for the CSRF token and the
    session cookie, then POSTs, alternating yes and no."""

    def make(index: int):
        invitee = invitees[index]
        state = {"cookie": "", "csrf": "", "coming": True}

        def send(connection) -> int:
            if not state["csrf"]:
                response, content = exchange(connection, "GET", f"/i/{invitee.token}")
                state["cookie"] = cookies_of(response)
                state["csrf"] = CSRF_FIELD.search(content.decode()).group(1)
            # The cookie of the first page is sent every time: the session then holds the CSRF
            # token and at most one flashed message.
            body = urlencode(
                {"answer": "yes" if state["coming"] else "no", "csrf_token": state["csrf"]}
            )
            state["coming"] = not state["coming"]
            headers = {**FORM_HEADERS, "Cookie": state["cookie"]}
            return exchange(connection, "POST", f"/i/{invitee.token}", body, headers)[0].status

        return send

    return make


# The report


def measure_database(name: str, url: str, folder: str) -> dict[str, Measure]:
    """The ceiling and the page in alternating rounds, then the answers."""
    invitees = seed(url)
    invitation_ids = [invitee.invitation_id for invitee in invitees]
    log = Path(folder) / "gunicorn.log"
    with (
        bare_server(url, log) as bare,
        app_server(url, folder, f"/i/{invitees[0].token}", log) as app,
    ):
        results = in_turns(
            {
                "bare": lambda seconds: load(bare, bare_row(invitation_ids), 200, seconds),
                "page": lambda seconds: load(app, page_view(invitees), 200, seconds),
            }
        )
        results["answer"] = load(app, answer_post(invitees), 302, SECONDS)
    report(name, results)
    return results


def report(name: str, results: dict[str, Measure]) -> None:
    report_header(name)
    ceiling = results["bare"]
    report_line("bare Flask route, one row (ceiling)", ceiling)
    report_line("invitee's page (GET)", results["page"], ceiling)
    report_line("recording an answer (POST)", results["answer"], ceiling)
    meets = results["page"].per_second >= TARGET_RATIO * ceiling.per_second
    verdict = "meets" if meets else "MISSES"
    print(f"  the page {verdict} the target of {TARGET_RATIO:.0%} of the ceiling")


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
