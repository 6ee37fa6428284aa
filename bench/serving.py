"""What the benchmarks of pages share: the databases they run on (a temporary SQLite file, then a
scratch PostgreSQL database when one answers on 127.0.0.1:5432), gunicorn serving the app or
the bare Flask ceiling (bare_app.py) on a free loopback port, and a threaded Python client
counting requests per second, with the report's lines.

BENCH_SECONDS and BENCH_THREADS change the duration of each measurement and the number of
client threads. Imported by the bench/bench_*.py scripts, whose folder is first on sys.path.
"""

import contextlib
import http.client
import os
import random
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
WORKERS = 2
# The ceiling and the page are measured in turns, SECONDS / ROUNDS at a time.
ROUNDS = 5
POSTGRES = ("127.0.0.1", 5432)
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# One per run: a second run at the same time would otherwise drop the database under this one.
BENCH_DATABASE = f"rencontres_bench_{os.getpid()}"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}

# A function of a client thread's index returning what the thread sends, over and over: a
# function of its connection returning the HTTP status it got.
RequestMaker = Callable[[int], Callable[[http.client.HTTPConnection], int]]


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


# The databases


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
        # The driver named, as config.database_url() does: bare_app.py uses the URL as it is.
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
    finally:
        run(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def postgres_answers() -> bool:
    try:
        socket.create_connection(POSTGRES, timeout=2).close()
    except OSError:
        return False
    return True


def databases() -> list[tuple[str, Callable]]:
    """(name, context manager of a URL given a scratch folder) of each database to run on."""
    found = [("SQLite (temporary file)", sqlite_database)]
    if postgres_answers():
        found.append((f"PostgreSQL (scratch database {BENCH_DATABASE})", postgres_database))
    else:
        print("PostgreSQL does not answer on 127.0.0.1:5432: its run is skipped")
    return found


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
def gunicorn(
    app_module: str, environment: dict[str, str], probe_path: str, log: Path, *options
) -> Iterator[int]:
    """Serve `app_module` with WORKERS gunicorn workers on a free loopback port; yields the
    port once `probe_path` gets an answer (any status)."""
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
    """The app as in production, on `url`, with its job queue in `folder`, no mail server and
    rate limit on the invitees' pages or the public registration form worth the name."""
    return {
        "RENCONTRES_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": "b" * 64,
        "SESSION_COOKIE_SECURE": "false",
        "INVITEE_RATE_LIMIT": "100000000 per minute",
        "REGISTRATION_RATE_LIMIT": "100000000 per minute",
        "HUEY_SQLITE_PATH": f"{folder}/huey.db",
        "REDIS_URL": "",
        "MAIL_SERVER": "",
        "BASE_URL": "http://127.0.0.1",
    }


def app_server(url: str, folder: str, probe_path: str, log: Path):
    """The app (wsgi:app) served as in production: see app_environment()."""
    return gunicorn("wsgi:app", app_environment(url, folder), probe_path, log)


def bare_server(url: str, log: Path):
    """The ceiling: bare_app.py on the same database, served the same way. Its probe reads the
    invitation of id 1, so the database must have one."""
    bench = str(ROOT / "bench")
    return gunicorn("bare_app:app", {"DATABASE_URL": url}, "/row/1", log, "--chdir", bench)


# The load


def load(port: int, make_request: RequestMaker, expected: int, seconds: float) -> Measure:
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


def in_turns(loads: dict[str, Callable[[float], Measure]]) -> dict[str, Measure]:
    """Each load for SECONDS in all, in ROUNDS alternating turns, so that a burst of work from
    anything else on the machine weighs on all of them alike."""
    results = dict.fromkeys(loads, Measure())
    for _round in range(ROUNDS):
        for key, run in loads.items():
            results[key] += run(SECONDS / ROUNDS)
    return results


def exchange(connection, method: str, path: str, body: str = "", headers=None):
    """One request on a keep-alive connection; http.client reopens it when the server closed it
    (gunicorn's sync workers answer "Connection: close")."""
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    content = response.read()
    return response, content


def cookies_of(response: http.client.HTTPResponse) -> str:
    """The cookies a response sets, as a Cookie header sends them back ("name=value; ...")."""
    headers = response.headers.get_all("Set-Cookie") or []
    return "; ".join(header.split(";")[0] for header in headers)


def bare_row(invitation_ids: list[int]) -> RequestMaker:
    """The ceiling's request: the bare route showing one of these invitations."""

    def make(index: int):
        def send(connection) -> int:
            invitation_id = random.choice(invitation_ids)
            return exchange(connection, "GET", f"/row/{invitation_id}")[0].status

        return send

    return make


# The report


def report_header(name: str) -> None:
    print(f"{name}: gunicorn {WORKERS} workers, {THREADS} client threads, {SECONDS:.0f} s each")


def report_line(label: str, result: Measure, ceiling: Measure | None = None) -> None:
    """One measure, with its share of the ceiling unless it is the ceiling, and its failures."""
    ratio = f"{result.per_second / ceiling.per_second:5.0%} of the ceiling" if ceiling else ""
    failed = f", {result.failures} failed" if result.failures else ""
    print(f"  {label:<38} {result.per_second:8.0f} req/s {ratio}{failed}")
