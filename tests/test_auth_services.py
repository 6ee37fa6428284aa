"""Account rules, tested on the services the views, the CLI and the jobs share."""

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.auth.services import (
    AccountError,
    LoginBlocked,
    LoginFailed,
    authenticate,
    create_user,
    deactivate_user,
    password_problems,
    update_profile,
)
from app.extensions import db
from app.models import LoginFailure
from tests.factories import DEFAULT_PASSWORD, UserFactory

NAME = "Marie-Thérèse Da Silva"
EMAIL = "mt.dasilva@example.org"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def english(app):
    with force_locale("en"):
        yield


@pytest.mark.parametrize(
    "password",
    [
        "a long enough passphrase",
        "da vinci code at night",  # "da" is too short to count as a part of the name
    ],
)
def test_acceptable_passwords(english, password):
    assert password_problems(password, NAME, EMAIL) == []


@pytest.mark.parametrize(
    "password",
    [
        "hello THERESE my old friend",  # a part of the name, whatever its accents and case
        "marie-therese da silva",  # the name itself
        "silva silva silva",
        "mt.dasilva@example.org",  # the address itself
        "call MT.DASILVA at home",  # its local part
        "my mail is mt.dasilva@example.org",
    ],
)
def test_passwords_made_of_the_name_or_address_are_refused(english, password):
    assert password_problems(password, NAME, EMAIL) == [
        "The password must not contain the account's name or e-mail address."
    ]


def test_short_password_is_refused(english):
    assert password_problems("eleven char", NAME, EMAIL) == ["Use at least 12 characters."]
    assert password_problems("twelve chars", NAME, EMAIL) == []


def test_huge_password_is_refused(english):
    assert password_problems("x" * 201, NAME, EMAIL) == ["Use at most 200 characters."]


def test_a_short_local_part_does_not_forbid_its_letters(english):
    assert password_problems("a long enough passphrase", "Li Wu", "al@example.org") == []


def test_create_user_checks_everything_and_lowercases_the_address(english):
    user = create_user(
        name="  Zoé  ",
        email="Zoe@Example.ORG",
        password="fresh morning tea",
        is_admin=False,
        now=NOW,
    )
    assert (user.name, user.email, user.created_at) == ("Zoé", "zoe@example.org", NOW)

    for arguments in [
        {"email": "ZOE@example.org"},
        {"email": "zoe@@example.org"},
        {"name": " "},
        {"password": "zoe is here 1234"},
    ]:
        values = {"name": "Zoé Bis", "email": "zoe2@example.org", "password": "fresh morning tea"}
        with pytest.raises(AccountError):
            create_user(**{**values, **arguments}, is_admin=False, now=NOW)


def test_update_profile_refuses_without_changing_anything(english, admin, organiser):
    with pytest.raises(AccountError):
        update_profile(organiser, name="New Name", email=admin.email)
    assert organiser.name == "Olivier Organisateur"


def test_deactivate_refuses_oneself_and_an_inactive_account(english, admin):
    gone = UserFactory(active=False)
    with pytest.raises(AccountError):
        deactivate_user(admin, admin)
    with pytest.raises(AccountError):
        deactivate_user(gone, admin)


def test_authenticate_counts_failures_before_checking_the_password(app, organiser):
    for _ in range(10):
        with pytest.raises(LoginFailed):
            authenticate(organiser.email, "wrong password!!", "10.0.0.1", NOW)
    with pytest.raises(LoginBlocked):
        authenticate(organiser.email, DEFAULT_PASSWORD, "10.0.0.2", NOW)
    failures = db.session.scalars(select(LoginFailure)).all()
    assert {(f.email, f.ip_address) for f in failures} == {(organiser.email, "10.0.0.1")}


def test_blocking_follows_the_configured_limit(app, organiser):
    app.config["LOGIN_MAX_FAILURES"] = 2
    for _ in range(2):
        with pytest.raises(LoginFailed):
            authenticate(organiser.email, "wrong password!!", "10.0.0.1", NOW)
    with pytest.raises(LoginBlocked):
        authenticate(organiser.email, DEFAULT_PASSWORD, "10.0.0.1", NOW)
