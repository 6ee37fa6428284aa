"""Through a real threaded server: two people answering "coming" at the same moment for the
last place never both get it, and the server's request log never shows a token."""

import contextlib
import http.client
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, Invitation, OutboxMessage
from tests.conftest import USING_POSTGRES, application
from tests.invitee_helpers import a_meeting, invite
from tests.live_server import serving

ROUNDS = 10


@pytest.fixture
def shared_app(tmp_path) -> Iterator[Flask]:
    """An app whose database every server thread sees: PostgreSQL when the suite runs on it,
    else a SQLite file (an in-memory database is private to its connection)."""
    settings = {"INVITEE_RATE_LIMIT": "10000 per minute"}
    if not USING_POSTGRES:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'answers.db'}"
    with application(**settings) as app:
        yield app


def post_answer(base_url: str, token: str, barrier: threading.Barrier, results: dict) -> None:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.connect()
        barrier.wait(timeout=10)
        connection.request(
            "POST",
            f"/i/{token}",
            body=urlencode({"answer": "yes", "comment": ""}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        results[token] = connection.getresponse().status
    finally:
        connection.close()


def answer_together(base_url: str, tokens: list[str]) -> dict[str, int]:
    barrier = threading.Barrier(len(tokens))
    results: dict[str, int] = {}
    threads = [
        threading.Thread(target=post_answer, args=(base_url, token, barrier, results))
        for token in tokens
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_people_answering_at_once_for_the_last_place(shared_app):
    now = datetime.now(UTC)
    rounds = []
    for _round in range(ROUNDS):
        meeting = a_meeting(now, capacity=1)
        invitations = [invite(meeting, now) for _person in range(2)]
        rounds.append((meeting.id, [token for _invitation, token in invitations]))
    # The test's own session holds no transaction while the server works.
    db.session.close()

    with serving(shared_app) as base_url:
        for meeting_id, tokens in rounds:
            statuses = answer_together(base_url, tokens)
            assert sorted(statuses.values()) == [302, 302]
            answers = db.session.scalars(
                select(Invitation.answer).where(Invitation.meeting_id == meeting_id)
            ).all()
            db.session.close()
            assert sorted(answer.value for answer in answers) == ["coming", "waiting"]

    confirmations = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "confirmation")
    )
    assert confirmations == 2 * ROUNDS
    assert (
        db.session.scalar(
            select(func.count(Invitation.id)).where(Invitation.answer == Answer.WAITING)
        )
        == ROUNDS
    )


def test_the_server_request_log_shows_no_token(shared_app, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    now = datetime.now(UTC)
    _invitation, token = invite(a_meeting(now), now)
    db.session.close()

    with serving(shared_app) as base_url:
        address = urlsplit(base_url)
        with contextlib.closing(http.client.HTTPConnection(address.hostname, address.port)) as conn:
            conn.request("GET", f"/i/{token}?answer=yes")
            assert conn.getresponse().status == 200

    assert "GET /i/[redacted]?answer=yes HTTP/1.1" in caplog.text
    assert token not in caplog.text
