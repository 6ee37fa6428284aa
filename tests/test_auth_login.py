"""Logging in and out: generic failures, deactivated accounts, remember-me and the rate limit."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.auth.services import purge_login_failures
from app.extensions import db
from app.models import LoginFailure
from tests.factories import DEFAULT_PASSWORD, UserFactory

WRONG_PASSWORD = "not the right password at all"


def log_in(client, email, password, address="127.0.0.1", **extra):
    return client.post(
        "/login",
        data={"email": email, "password": password, **extra},
        environ_base={"REMOTE_ADDR": address},
    )


def failure_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginFailure))


def add_failures(count, *, email, address="127.0.0.1", age=timedelta(minutes=1)):
    moment = datetime.now(UTC) - age
    db.session.add_all(
        LoginFailure(email=email, ip_address=address, created_at=moment) for _ in range(count)
    )
    db.session.commit()


def is_logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_login_page_is_public(client, admin):
    response = client.get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'autocomplete="current-password"' in page
    assert 'autocomplete="username"' in page


def test_anonymous_visitor_is_sent_to_login_with_next(client, admin):
    response = client.get("/users?q=x")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_login_logs_in_and_records_the_time(client, organiser):
    response = log_in(client, "olivier@example.org", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response.location == "/"
    assert is_logged_in(client)
    db.session.refresh(organiser)
    assert organiser.last_login_at is not None
    assert datetime.now(UTC) - organiser.last_login_at < timedelta(minutes=1)


def test_login_ignores_case_and_spaces_in_the_address(client, organiser):
    response = log_in(client, "  Olivier@EXAMPLE.org ", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_login_follows_a_local_next_page(client, organiser):
    response = client.post(
        "/login?next=/contacts/?q=dupont",
        data={"email": organiser.email, "password": DEFAULT_PASSWORD},
    )
    assert response.location == "/contacts/?q=dupont"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_ignores_a_next_page_elsewhere(client, organiser, target):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": organiser.email, "password": DEFAULT_PASSWORD},
    )
    assert response.location == "/"


def test_logged_in_user_visiting_login_goes_home(as_organiser):
    response = as_organiser.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


def test_session_cookie_is_httponly_and_lax(client, organiser):
    response = log_in(client, organiser.email, DEFAULT_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_remember_me_sets_a_lasting_cookie(client, organiser):
    response = log_in(client, organiser.email, DEFAULT_PASSWORD, remember="y")
    remember = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token")]
    assert len(remember) == 1
    assert "HttpOnly" in remember[0]
    assert "Expires=" in remember[0]


def test_without_remember_me_there_is_no_lasting_cookie(client, organiser):
    log_in(client, organiser.email, DEFAULT_PASSWORD)
    assert client.get_cookie("remember_token") is None


def without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_failures_say_the_same_for_unknown_address_and_wrong_password(client, organiser):
    client.set_cookie("lang", "en")
    unknown = log_in(client, "nobody@example.org", DEFAULT_PASSWORD).get_data(as_text=True)
    wrong = log_in(client, organiser.email, WRONG_PASSWORD).get_data(as_text=True)

    assert "Incorrect e-mail or password." in unknown
    assert "Incorrect e-mail or password." in wrong
    # CSRF tokens carry a timestamp: two pages a second apart differ only there.
    assert without_tokens(unknown.replace("nobody@example.org", "")) == without_tokens(
        wrong.replace(organiser.email, "")
    )
    assert not is_logged_in(client)
    assert failure_count() == 2


def test_deactivated_account_cannot_log_in(client, admin):
    UserFactory(email="gone@example.org", active=False)
    client.set_cookie("lang", "en")

    response = log_in(client, "gone@example.org", DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert "Incorrect e-mail or password." in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_deactivated_account_loses_its_open_session(client, login, admin, organiser):
    login(organiser)
    organiser.active = False
    db.session.commit()
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.location


def test_eleventh_attempt_is_refused_even_with_the_right_password(client, organiser):
    client.set_cookie("lang", "en")
    for _ in range(10):
        assert log_in(client, organiser.email, WRONG_PASSWORD).status_code == 200
    assert failure_count() == 10

    response = log_in(client, organiser.email, DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert "Too many failed login attempts" in response.get_data(as_text=True)
    assert not is_logged_in(client)
    # A refused attempt is not a failure: the account is free again when the window ends.
    assert failure_count() == 10


def test_failures_for_an_address_count_across_every_email(client, organiser):
    add_failures(10, email="someone@example.org", address="203.0.113.9")
    # Another device can still log in to the same account...
    assert (
        log_in(client, organiser.email, DEFAULT_PASSWORD, address="198.51.100.1").status_code == 302
    )
    client.post("/logout")
    # ...while the guessing address is refused whichever account it tries.
    response = log_in(client, organiser.email, DEFAULT_PASSWORD, address="203.0.113.9")
    assert response.status_code == 429


def test_failures_by_address_from_several_emails_add_up(client, organiser):
    for number in range(10):
        log_in(client, f"guess{number}@example.org", WRONG_PASSWORD, address="203.0.113.9")

    response = log_in(client, organiser.email, DEFAULT_PASSWORD, address="203.0.113.9")

    assert response.status_code == 429


def test_failures_for_an_email_count_from_every_address(client, organiser):
    add_failures(10, email=organiser.email, address="203.0.113.9")
    response = log_in(client, organiser.email.upper(), DEFAULT_PASSWORD, address="198.51.100.1")
    assert response.status_code == 429


def test_failures_older_than_the_window_no_longer_count(client, organiser):
    add_failures(10, email=organiser.email, age=timedelta(minutes=16))
    assert log_in(client, organiser.email, DEFAULT_PASSWORD).status_code == 302


def test_nine_failures_still_leave_one_try(client, organiser):
    add_failures(9, email=organiser.email)
    assert log_in(client, organiser.email, DEFAULT_PASSWORD).status_code == 302


def test_success_forgets_the_earlier_failures_of_that_email(client, organiser):
    add_failures(3, email=organiser.email)
    add_failures(2, email="other@example.org")
    log_in(client, organiser.email, DEFAULT_PASSWORD)
    assert failure_count() == 2


def test_purge_forgets_failures_older_than_the_window(app):
    now = datetime.now(UTC)
    add_failures(2, email="a@example.org", age=timedelta(minutes=20))
    add_failures(1, email="a@example.org", age=timedelta(minutes=5))

    removed = purge_login_failures(now)
    db.session.commit()

    assert removed == 2
    assert failure_count() == 1


def test_logout_is_post_only(as_organiser):
    assert as_organiser.get("/logout").status_code == 405
    assert is_logged_in(as_organiser)


def test_logout_logs_out(as_organiser):
    response = as_organiser.post("/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    assert not is_logged_in(as_organiser)
