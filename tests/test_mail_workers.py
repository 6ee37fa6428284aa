"""Two workers delivering one outbox at the same time: every message leaves exactly once."""

import threading
from collections import Counter
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.mail.delivery import DeliveryReport, deliver_due
from app.mail.outbox import RenderedEmail, queue_email
from app.models import MessageStatus, OutboxMessage
from config import TestingConfig
from tests.conftest import USING_POSTGRES, application
from tests.smtp_server import SmtpServer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MESSAGES = 200


def run_worker(app: Flask, barrier: threading.Barrier, reports: list, errors: list) -> None:
    """A worker as on another machine: its own application, engine and connections. The
    application is made before the threads start: Python 3.11 can fail ("AST constructor
    recursion depth mismatch") when two threads compile the URL rules at the same time."""
    try:
        with app.app_context():
            barrier.wait(timeout=10)
            reports.append(deliver_due(NOW, batch_size=10))
            db.session.remove()
            db.engine.dispose()
    except Exception as error:  # reported to the test's thread, which asserts there is none
        errors.append(error)


def test_two_workers_at_once_send_each_message_exactly_once(tmp_path):
    server = SmtpServer()
    server.start()
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port}
    if not USING_POSTGRES:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/outbox.db"
    try:
        with application(**settings):
            email = RenderedEmail(subject="Invitation", text="Bonjour", html="<p>Bonjour</p>")
            queued = [
                queue_email("invitation", f"invitee{number}@example.org", email, NOW)
                for number in range(MESSAGES)
            ]
            db.session.commit()
            expected = Counter({message.message_id: 1 for message in queued})

            barrier = threading.Barrier(2)
            reports: list[DeliveryReport] = []
            errors: list[Exception] = []
            workers = [
                threading.Thread(
                    target=run_worker,
                    args=(create_app(TestingConfig, **settings), barrier, reports, errors),
                )
                for _ in range(2)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=60)

            assert errors == []
            assert Counter(message["Message-ID"] for message in server.messages) == expected
            assert sorted(report.sent for report in reports)[0] > 0, "both workers took part"
            assert sum(report.sent for report in reports) == MESSAGES
            counts = db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
            assert counts == [(MessageStatus.SENT, MESSAGES)]
    finally:
        server.stop()
