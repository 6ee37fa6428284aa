"""`flask users create`: the password from standard input, the same rules as the web pages."""

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import User

PASSWORD = "lanterns over the river"


@pytest.fixture
def english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def create(runner, *options, password=PASSWORD):
    return runner.invoke(args=["users", "create", *options], input=f"{password}\n")


def account_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_creates_an_organiser_with_the_password_from_stdin(runner):
    result = create(runner, "--email", "Nadia@Example.org", "--name", "Nadia Benali")

    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert (user.email, user.name, user.is_admin, user.active) == (
        "nadia@example.org",
        "Nadia Benali",
        False,
        True,
    )
    assert check_password_hash(user.password_hash, PASSWORD)
    assert "nadia@example.org" in result.output


def test_creates_an_administrator(runner):
    result = create(runner, "--email", "nadia@example.org", "--name", "Nadia", "--admin")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User)).one().is_admin


def test_created_account_ends_the_setup(runner, client):
    create(runner, "--email", "nadia@example.org", "--name", "Nadia", "--admin")
    assert client.get("/setup").status_code == 404


def test_duplicate_email_is_refused(runner, english, organiser):
    result = create(runner, "--email", "OLIVIER@example.org", "--name", "Another Olivier")

    assert result.exit_code == 1
    assert "Another account already uses this e-mail address." in result.stderr
    assert account_count() == 1


def test_weak_password_is_refused(runner, english):
    result = create(runner, "--email", "nadia@example.org", "--name", "Nadia", password="nadia123")

    assert result.exit_code == 1
    assert "Use at least 12 characters." in result.stderr
    assert "must not contain" in result.stderr
    assert account_count() == 0


def test_empty_input_is_refused(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "nadia@example.org", "--name", "Nadia"], input=""
    )
    assert result.exit_code == 1
    assert account_count() == 0


def test_invalid_email_is_refused(runner, english):
    result = create(runner, "--email", "nadia at example", "--name", "Nadia")

    assert result.exit_code == 1
    assert "Enter a valid e-mail address" in result.stderr
    assert account_count() == 0


def test_missing_option_is_a_usage_error(runner):
    result = create(runner, "--email", "nadia@example.org")
    assert result.exit_code == 2
    assert account_count() == 0
