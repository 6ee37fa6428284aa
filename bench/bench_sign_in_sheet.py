"""Benchmark of the sign-in sheet: the PDF of 300 attendees, its time and its peak memory.

Run by `make bench` (or `.venv/bin/python bench/bench_sign_in_sheet.py`); fails above the budget.
Each measurement is a fresh child process (this script run with `--child`), so the peak memory
is the honest figure: the resident set size of a process that imported the app and WeasyPrint,
loaded the rows and wrote the PDFs (getrusage's ru_maxrss). The budget applies to the PDFs a
running worker makes; the first one of a process, which also imports WeasyPrint and finds the
fonts, is reported beside it. CPU seconds are printed too: wall time grows on a busy machine.
"""

import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ATTENDEES = 300
ORGANISATIONS = 40
PROCESSES = 3
WARM_RUNS = 2
BUDGET_SECONDS = 3.0
BUDGET_MEGABYTES = 300
STARTS_AT = datetime(2026, 6, 5, 7, 0, tzinfo=UTC)


def app_for(database: str):
    from app import create_app
    from config import TestingConfig

    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")


def seed(database: str) -> None:
    """A published meeting with 300 people coming from 40 organisations, with long names."""
    from app.extensions import db
    from app.models import Answer, Contact, Invitation, Meeting, MeetingStatus, Organisation

    with app_for(database).app_context():
        db.create_all()
        organisations = [
            Organisation(name=f"Centre social et culturel Léo-Lagrange n°{number}", town="Dijon")
            for number in range(ORGANISATIONS)
        ]
        meeting = Meeting(
            title="Rencontre départementale des centres sociaux et des établissements scolaires",
            status=MeetingStatus.PUBLISHED,
            starts_at=STARTS_AT,
            ends_at=STARTS_AT + timedelta(hours=3, minutes=30),
            venue_name="Maison Pour Tous",
            venue_address="8, place de la Commune-de-Paris",
            venue_postcode="95100",
            venue_town="Argenteuil",
            contact_name="Judicaëlle Feron",
            contact_function="Chargée de missions",
            contact_organisation="Fédération des centres sociaux du Val d'Oise",
        )
        invitations = [
            Invitation(
                meeting=meeting,
                answer=Answer.COMING,
                invited_at=STARTS_AT - timedelta(days=20),
                contact=Contact(
                    first_name="Marie-Françoise" if number % 2 else "Zoé",
                    last_name=f"Lefèvre-Nöel {number}",
                    email=f"contact{number}@exemple.fr",
                    function="Coordinatrice « réussite éducative »",
                    organisation=organisations[number % ORGANISATIONS],
                ),
            )
            for number in range(ATTENDEES)
        ]
        db.session.add_all([meeting, *invitations])
        db.session.commit()


def child(database: str) -> None:
    """One fresh process: the first PDF (WeasyPrint imported and fonts found on the way), then
    WARM_RUNS more as a long-running worker makes them. Prints wall and CPU seconds of each."""
    from flask_babel import force_locale
    from sqlalchemy import select

    from app.attendance import documents
    from app.extensions import db
    from app.models import Meeting

    with app_for(database).app_context(), force_locale("fr"):
        for _run in range(1 + WARM_RUNS):
            started, started_cpu = time.perf_counter(), time.process_time()
            db.session.expire_all()
            meeting = db.session.scalars(select(Meeting)).one()
            content = documents.sign_in_sheet_pdf(meeting, "expected", STARTS_AT)
            wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            print(f"{wall:.4f} {cpu:.4f}")
    Path(database).with_suffix(".pdf").write_bytes(content)


def measure(database: str) -> tuple[list[tuple[float, float]], float]:
    """The (wall, CPU) seconds of each PDF made in a fresh process, and the process's peak
    resident memory in MiB."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", database],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # The largest child so far: each process is started the same way, so the maximum over the
    # processes is the peak of any one of them.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    timings = [tuple(float(value) for value in line.split()) for line in output.splitlines()]
    return timings, peak


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
        return 0
    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as folder:
        database = f"{folder}/bench.db"
        seed(database)
        processes = [measure(database) for _process in range(PROCESSES)]
        content = Path(database).with_suffix(".pdf").read_bytes()
        pages = len(PdfReader(io.BytesIO(content)).pages)
    cold = [timings[0] for timings, _peak in processes]
    warm = [timing for timings, _peak in processes for timing in timings[1:]]
    peak = max(peak for _timings, peak in processes)
    cold_wall = statistics.median(wall for wall, _cpu in cold)
    warm_wall = statistics.median(wall for wall, _cpu in warm)
    print(
        f"sign-in sheet: {ATTENDEES} attendees + 10 blank rows, {pages} pages, "
        f"{len(content) / 1024:.0f} KiB, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"first PDF of a fresh process (WeasyPrint import included): median {cold_wall:.2f} s "
        f"wall, {statistics.median(cpu for _wall, cpu in cold):.2f} s CPU ({PROCESSES} processes)"
    )
    print(
        f"next PDFs of a running process: median {warm_wall:.2f} s wall, "
        f"{statistics.median(cpu for _wall, cpu in warm):.2f} s CPU ({len(warm)} runs; "
        f"budget {BUDGET_SECONDS:.0f} s)"
    )
    print(
        f"peak memory: {peak:.0f} MiB resident (ru_maxrss of the fresh process; "
        f"budget {BUDGET_MEGABYTES} MB)"
    )
    if warm_wall > BUDGET_SECONDS or peak > BUDGET_MEGABYTES:
        print("FAILED: over budget")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
