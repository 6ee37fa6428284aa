"""Benchmark of the invitee's personal page: requests per second of showing it (GET) and of
recording an answer (POST), next to a bare Flask route rendering one row (the ceiling).

Each app runs under gunicorn with 2 workers on the same database: a temporary SQLite file, then
a scratch PostgreSQL database when one answers on 127.0.0.1:5432. Threads of a Python client
load them from 127.0.0.1 for a fixed time. Run by `make bench` (or
`.venv/bin/python bench/bench_invitee_page.py`); it reports, and fails only if requests fail.
BENCH_SECONDS and BENCH_THREADS change the duration of each run and the number of threads.
"""

import contextlib
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode

# Before the app is imported: the seeding app's job queue stays in memory.
os.environ["RENCONTRES_ENV"] = "testing"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
from config import TestingConfig, database_url  # noqa: E402

INVITATIONS = 300
CAPACITY = 200
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
WORKERS = 2
# The ceiling and the page are measured in turns, SECONDS / ROUNDS at a time.
ROUNDS = 5
TARGET_RATIO = 0.5
POSTGRES = ("127.0.0.1", 5432)
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# One per run: a second run at the same time would otherwise drop the database under this one.
BENCH_DATABASE = f"rencontres_bench_{os.getpid()}"
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Invitee:
    invitation_id: int
    token: str


@dataclass(frozen=True)
class Measure:
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def __add__(self, other: "Measure") -> "Measure":
        return Measure(
            self.requests + other.requests,
            self.failures + other.failures,
            self.seconds + other.seconds,
        )


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


@contextlib.contextmanager
def sqlite_database(folder: str) -> Iterator[str]:
    yield f"sqlite:///{folder}/bench.db"


@contextlib.contextmanager
def postgres_database(folder: str) -> Iterator[str]:
    """A scratch database, dropped afterwards."""
    import psycopg

    def run(statement: str) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(statement)

    run(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    run(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield database_url(f"postgresql://postgres@127.0.0.1:5432/{BENCH_DATABASE}", "")
    finally:
        run(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def postgres_answers() -> bool:
    try:
        socket.create_connection(POSTGRES, timeout=2).close()
    except OSError:
        return False
    return True


# The servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(port: int, path: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with code {process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 30 s")


@contextlib.contextmanager
def gunicorn(app_module: str, environment: dict[str, str], probe_path: str, log: Path, *options):
    """Serve `app_module` with WORKERS gunicorn workers on a free loopback port."""
    port = free_port()
    # No control socket: two servers at once would share its default path in the home folder.
    command = [GUNICORN, "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--no-control-socket"]
    command += [*options, app_module]
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(port, probe_path, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def app_environment(url: str, folder: str) -> dict[str, str]:
    return {
        "RENCONTRES_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": "b" * 64,
        "SESSION_COOKIE_SECURE": "false",
        "INVITEE_RATE_LIMIT": "100000000 per minute",
        "HUEY_SQLITE_PATH": f"{folder}/huey.db",
        "REDIS_URL": "",
        "MAIL_SERVER": "",
        "BASE_URL": "http://127.0.0.1",
    }


# The load


def load(
    port: int, make_request: Callable[[int], Callable], expected: int, seconds: float
) -> Measure:
    """THREADS threads, each with its own connection, for `seconds` after a short warm-up."""
    counts, failures = [0] * THREADS, [0] * THREADS
    barrier = threading.Barrier(THREADS + 1)
    stop = threading.Event()
    measuring = threading.Event()

    def run(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        send = make_request(index)
        barrier.wait()
        while not stop.is_set():
            status = send(connection)
            if not measuring.is_set():
                continue
            if status == expected:
                counts[index] += 1
            else:
                failures[index] += 1
        connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    time.sleep(0.5)  # warm-up: templates compiled, connections opened
    measuring.set()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    return Measure(sum(counts), sum(failures), elapsed)


def exchange(connection, method: str, path: str, body: str = "", headers=None):
    """One request on a keep-alive connection; http.client reopens it when the server closed it
    (gunicorn's sync workers answer "Connection: close")."""
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    content = response.read()
    return response, content


def bare_row(invitees: list[Invitee]):
    def make(index: int):
        def send(connection) -> int:
            invitee = random.choice(invitees)
            return exchange(connection, "GET", f"/row/{invitee.invitation_id}")[0].status

        return send

    return make


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
                state["cookie"] = response.getheader("Set-Cookie", "").split(";")[0]
                state["csrf"] = CSRF_FIELD.search(content.decode()).group(1)
            # The cookie of the first page is sent every time: the session then holds the CSRF
            # token and at most one flashed message.
            body = urlencode(
                {"answer": "yes" if state["coming"] else "no", "csrf_token": state["csrf"]}
            )
            state["coming"] = not state["coming"]
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": state["cookie"],
            }
            return exchange(connection, "POST", f"/i/{invitee.token}", body, headers)[0].status

        return send

    return make


# The report


def measure_database(name: str, url: str, folder: str) -> dict[str, Measure]:
    """The ceiling and the page in alternating rounds, so that a burst of load from anything
    else on the machine weighs on both alike; then the answers."""
    invitees = seed(url)
    log = Path(folder) / "gunicorn.log"
    bare_options = ("--chdir", str(ROOT / "bench"))
    results = {"bare": Measure(), "page": Measure()}
    with (
        gunicorn("bare_app:app", {"DATABASE_URL": url}, "/row/1", log, *bare_options) as bare,
        gunicorn("wsgi:app", app_environment(url, folder), f"/i/{invitees[0].token}", log) as app,
    ):
        for _round in range(ROUNDS):
            results["bare"] += load(bare, bare_row(invitees), 200, SECONDS / ROUNDS)
            results["page"] += load(app, page_view(invitees), 200, SECONDS / ROUNDS)
        results["answer"] = load(app, answer_post(invitees), 302, SECONDS)
    report(name, results)
    return results


def report(name: str, results: dict[str, Measure]) -> None:
    print(f"{name}: gunicorn {WORKERS} workers, {THREADS} client threads, {SECONDS:.0f} s each")
    ceiling = results["bare"].per_second
    labels = {
        "bare": "bare Flask route, one row (ceiling)",
        "page": "invitee's page (GET)",
        "answer": "recording an answer (POST)",
    }
    for key, label in labels.items():
        result = results[key]
        ratio = f"{result.per_second / ceiling:5.0%} of the ceiling" if key != "bare" else ""
        failed = f", {result.failures} failed" if result.failures else ""
        print(f"  {label:<38} {result.per_second:8.0f} req/s {ratio}{failed}")
    verdict = "meets" if results["page"].per_second >= TARGET_RATIO * ceiling else "MISSES"
    print(f"  the page {verdict} the target of {TARGET_RATIO:.0%} of the ceiling")


def main() -> int:
    databases = [("SQLite (temporary file)", sqlite_database)]
    if postgres_answers():
        databases.append((f"PostgreSQL (scratch database {BENCH_DATABASE})", postgres_database))
    else:
        print("PostgreSQL does not answer on 127.0.0.1:5432: its run is skipped")
    failures = 0
    for name, database in databases:
        with tempfile.TemporaryDirectory() as folder, database(folder) as url:
            results = measure_database(name, url, folder)
            failures += sum(result.failures for result in results.values())
    if failures:
        print(f"FAILED: {failures} requests did not get the expected answer")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
