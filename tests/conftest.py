"""Shared fixtures: a fresh database per test (in-memory SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), a client, login helpers and a SQL query counter."""

import contextlib
import os
from collections.abc import Iterator

# Before the app is imported: the module-level job queue is built from the testing settings.
os.environ["RENCONTRES_ENV"] = "testing"

import pytest
from flask import Flask, g
from sqlalchemy import event, text

from app import create_app
from app.extensions import db, mail
from app.jobs import huey
from config import TestingConfig
from tests import factories
from tests.smtp_server import SmtpServer

assert huey.immediate, "tests run jobs at once, in the test's own application context"

USING_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres")


def reset_database() -> None:
    """Empty every table: recreate the in-memory SQLite schema, or truncate PostgreSQL's."""
    if not USING_POSTGRES:
        db.create_all()
        return
    db.create_all()
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def forget_request_globals(exception=None) -> None:
    """Tests keep one app context open, which Flask reuses for every request: empty `g` after
    each request so that, as in production, the next one starts without the previous user,
    language or CSRF token."""
    for name in list(vars(g)):
        delattr(g, name)


@contextlib.contextmanager
def application(**overrides) -> Iterator[Flask]:
    """A testing app with an empty database, its context pushed; its connections closed after."""
    app = create_app(TestingConfig, **overrides)
    app.teardown_request(forget_request_globals)
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        if not USING_POSTGRES:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app():
    with application() as app:
        yield app


@pytest.fixture
def csrf_app():
    """The app with CSRF protection on, as in production."""
    with application(WTF_CSRF_ENABLED=True) as app:
        yield app


@pytest.fixture
def smtp(app):
    """A real SMTP server on a loopback port, and the app set to deliver through it."""
    server = SmtpServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    mail.init_app(app)
    yield server
    server.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def admin(app):
    return factories.UserFactory(is_admin=True, name="Alice Admin", email="alice@example.org")


@pytest.fixture
def organiser(app):
    return factories.UserFactory(name="Olivier Organisateur", email="olivier@example.org")


@pytest.fixture
def login(client):
    """log in a user in the test client by putting them in the session, as Flask-Login does."""

    def log_in(user):
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        return user

    return log_in


@pytest.fixture
def as_admin(client, login, admin):
    login(admin)
    return client


@pytest.fixture
def as_organiser(client, login, admin, organiser):
    login(organiser)
    return client


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """with count_queries() as counter: ... then counter.count is the number of SQL statements."""

    @contextlib.contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting
