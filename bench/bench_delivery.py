"""Benchmark of outbox delivery: 2,000 invitation-sized messages to a local SMTP sink, next to
raw smtplib sending the same messages, prebuilt, over one connection (the ceiling).

Run by `make bench` (or `.venv/bin/python bench/bench_delivery.py`); fails under 50% of the
ceiling. Delivery commits as in production: once a message, its outcome with the next one's
SENDING. The worker composes each message from its row as it sends it; the ceiling sends the
same messages composed beforehand. The sink runs in a process of its own, as a real server
would: in ours, it would compete for the GIL.

The two are measured in turns, ROUNDS times, each delivery from a fresh copy of the same queued
database; the ratio is the median of the rounds' ratios. On a shared machine the speed of the
sink drifts, slowing both sides of a round alike, and a burst of load from elsewhere slows one
round down: the median of paired rounds sees through both.
"""

import gc
import multiprocessing
import os
import shutil
import smtplib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RENCONTRES_ENV", "testing")

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.mail.delivery import deliver_due  # noqa: E402
from app.mail.mime import compose  # noqa: E402
from app.mail.outbox import RenderedEmail, queue_email  # noqa: E402
from app.models import MessageStatus, OutboxMessage  # noqa: E402
from config import TestingConfig  # noqa: E402
from tests.smtp_server import SmtpServer  # noqa: E402

MESSAGES = 2_000
ROUNDS = 7
TARGET_RATIO = 0.5
NOW = datetime(2026, 6, 5, 7, 0, tzinfo=UTC)
PROGRAMME = [
    ("9 h 00", "Accueil des participants, café"),
    ("9 h 30", "Présentation du projet « Parents et école » par la Fédération"),
    ("10 h 15", "Groupe de travail des centres sociaux, animé par la Fédération"),
    ("11 h 15", "Groupe de travail des personnels scolaires, animé par École et Famille"),
    ("12 h 15", "Synthèse et prochaines dates"),
]
ACCESS = (
    "Accès : bus 34 ou 45, arrêt « Préfecture » ; RER A, gare de Cergy-Préfecture, puis cinq "
    "minutes à pied. Parking gratuit rue de la Gare. La salle est au rez-de-chaussée et "
    "accessible aux personnes à mobilité réduite. Un café d'accueil est offert à partir de "
    "8 h 45. Si vous ne pouvez pas venir, vous pouvez vous faire représenter par une personne "
    "de votre structure : indiquez-le dans votre réponse."
)


def invitation(number: int) -> RenderedEmail:
    """About 4 KB of text and HTML, like an invitation with its programme and signature."""
    link = f"https://rencontres.example.org/r/{number:06d}Xq3vT9pLw2ZkYb8sNc4RfHj7Ud1Ae5Gm"
    items = "\n".join(f"- {clock} : {title}" for clock, title in PROGRAMME)
    text = (
        f"Bonjour Zoé Lefèvre-Nöel {number},\n\n"
        "La Fédération des centres sociaux du Val d'Oise vous invite à la première rencontre du "
        "projet « Parents et école », le mardi 5 juin 2018, de 9 h 00 à 12 h 30, à la Maison "
        "des associations, 2 rue des Corroyeurs, 95000 Cergy.\n\n"
        f"Programme :\n{items}\n\n"
        f"Merci de confirmer votre présence en suivant ce lien personnel :\n{link}\n\n"
        "Ce lien vous est propre : ne le transférez pas. Vous pourrez changer votre réponse "
        "jusqu'à la veille de la rencontre.\n\n"
        f"{ACCESS}\n\n"
        "Claire Martin\nChargée de mission « réussite éducative »\n"
        "Fédération des centres sociaux du Val d'Oise\n01 30 00 00 00\n"
    )
    rows = "".join(
        f'<tr><td style="padding:4px 8px;font-weight:600">{clock}</td>'
        f'<td style="padding:4px 8px">{title}</td></tr>'
        for clock, title in PROGRAMME
    )
    html = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,sans-serif;color:#1b1b1b;margin:0;padding:0">'
        '<table role="presentation" width="100%" style="max-width:640px;margin:0 auto">'
        f"<tr><td><p>Bonjour Zoé Lefèvre-Nöel {number},</p>"
        "<p>La Fédération des centres sociaux du Val d'Oise vous invite à la première rencontre "
        "du projet « Parents et école » :</p>"
        '<p style="font-size:18px;font-weight:600">Mardi 5 juin 2018, de 9 h 00 à 12 h 30</p>'
        "<p>Maison des associations<br>2 rue des Corroyeurs<br>95000 Cergy</p>"
        f'<h2 style="font-size:16px">Programme</h2><table role="presentation">{rows}</table>'
        f'<p><a href="{link}" style="display:inline-block;padding:12px 20px;background:#1d4f91;'
        "color:#ffffff;text-decoration:none;border-radius:4px\">Répondre à l'invitation</a></p>"
        "<p>Ce lien vous est propre : ne le transférez pas. Vous pourrez changer votre réponse "
        "jusqu'à la veille de la rencontre.</p>"
        f"<p>{ACCESS}</p>"
        '<p style="border-left:4px solid #ccc;padding-left:12px">Claire Martin<br>'
        "Chargée de mission « réussite éducative »<br>"
        "Fédération des centres sociaux du Val d'Oise</p></td></tr></table></body></html>"
    )
    return RenderedEmail(
        subject="Invitation : rencontre « Parents et école », mardi 5 juin 2018",
        text=text,
        html=html,
    )


def queue_messages() -> int:
    """Queue the messages; returns the size of one message's text and HTML, in bytes."""
    for number in range(MESSAGES):
        queue_email(
            "invitation",
            f"invitee{number}@example.org",
            invitation(number),
            NOW,
            to_name=f"Zoé Lefèvre-Nöel {number}",
            reply_to=("claire.martin@federation.example.org", "Claire Martin"),
        )
    db.session.commit()
    sample = invitation(0)
    return len(sample.text.encode()) + len(sample.html.encode())


def prebuilt_messages(sender: str) -> list[tuple[str, list[str], bytes]]:
    """The same messages, composed as the worker composes them, for raw smtplib."""
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [(sender, [row.to_address], compose(row, sender, NOW)) for row in rows]


def send_raw(port: int, messages: list[tuple[str, list[str], bytes]]) -> float:
    gc.collect()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for sender, recipients, content in messages:
            connection.sendmail(sender, recipients, content)
    return time.perf_counter() - started


def run_sink(pipe) -> None:
    """The SMTP sink's process: sends its port, then answers "received" with how many messages
    arrived and how many distinct Message-IDs they had (and forgets them), until "stop"."""
    sink = SmtpServer()
    sink.start()
    pipe.send(sink.port)
    parser = BytesHeaderParser()
    while pipe.recv() == "received":
        envelopes = list(sink.recorder.envelopes)
        sink.recorder.envelopes.clear()
        ids = {parser.parsebytes(envelope.original_content)["Message-ID"] for envelope in envelopes}
        pipe.send((len(envelopes), len(ids)))
    sink.stop()


def queued_database(folder: str) -> tuple[Path, int, list]:
    """A SQLite file with the messages queued, copied for each round; returns its path, the
    size of one message's text and HTML, and the same messages prebuilt."""
    path = Path(folder) / "queued.db"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        size = queue_messages()
        messages = prebuilt_messages(app.config["MAIL_DEFAULT_SENDER"])
        db.session.remove()
        db.engine.dispose()
    return path, size, messages


def deliver_through(port: int, queued: Path) -> tuple[float, int]:
    """Time the delivery of a fresh copy of the queued messages; returns the time and the
    messages marked sent."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        shutil.copyfile(queued, database)
        app = create_app(
            TestingConfig,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=port,
        )
        with app.app_context():
            gc.collect()
            started = time.perf_counter()
            deliver_due(NOW)
            elapsed = time.perf_counter() - started
            sent = db.session.scalar(
                select(func.count()).where(OutboxMessage.status == MessageStatus.SENT)
            )
            db.session.remove()
            db.engine.dispose()
    return elapsed, sent


def received(pipe) -> tuple[int, int]:
    """How many messages the sink got since last asked, and how many distinct Message-IDs."""
    pipe.send("received")
    return pipe.recv()


def main() -> int:
    pipe, child_pipe = multiprocessing.Pipe()
    sink = multiprocessing.get_context("spawn").Process(target=run_sink, args=(child_pipe,))
    sink.start()
    delivery_times, raw_times, counts = [], [], []
    try:
        port = pipe.recv()
        with tempfile.TemporaryDirectory() as folder:
            queued, size, messages = queued_database(folder)
            for round_number in range(ROUNDS):
                # Each goes first in turn: neither always runs on the other's heels.
                if round_number % 2:
                    raw_times.append(send_raw(port, messages))
                    raw_received, _ = received(pipe)
                elapsed, sent = deliver_through(port, queued)
                delivery_times.append(elapsed)
                delivered, distinct = received(pipe)
                if not round_number % 2:
                    raw_times.append(send_raw(port, messages))
                    raw_received, _ = received(pipe)
                counts.append((sent, delivered, distinct, raw_received))
    finally:
        pipe.send("stop")
        sink.join(timeout=10)

    ratio = statistics.median(
        raw / delivery for raw, delivery in zip(raw_times, delivery_times, strict=True)
    )
    print(
        f"messages: {MESSAGES}, {size / 1024:.1f} KiB of text and HTML each, "
        f"{len(messages[0][2]) / 1024:.1f} KiB as sent; SQLite file; {ROUNDS} rounds"
    )
    print(
        f"outbox delivery: {MESSAGES / min(delivery_times):.0f} messages/s at best, one commit "
        f"per message (rounds: {', '.join(f'{time:.2f} s' for time in delivery_times)})"
    )
    print(
        f"raw smtplib, one connection, prebuilt: {MESSAGES / min(raw_times):.0f} messages/s at "
        f"best (rounds: {', '.join(f'{time:.2f} s' for time in raw_times)})"
    )
    print(f"ratio: {ratio:.0%} of the ceiling, median of the rounds (target {TARGET_RATIO:.0%})")
    expected = (MESSAGES, MESSAGES, MESSAGES, MESSAGES)
    if any(count != expected for count in counts):
        print(f"FAILED: not every message was delivered exactly once: {counts}")
        return 1
    if ratio < TARGET_RATIO:
        print("FAILED: under the target")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
