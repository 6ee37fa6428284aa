"""First run: the setup page creates the first administrator, then disappears."""

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import User

GOOD_PASSWORD = "purple elephants dance quietly"


def setup_data(**changes) -> dict[str, str]:
    data = {
        "name": "Hélène Martin",
        "email": "Helene.Martin@Example.org",
        "password": GOOD_PASSWORD,
        "password_again": GOOD_PASSWORD,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("path", ["/", "/meetings/", "/contacts/", "/login", "/account", "/users"])
def test_every_page_redirects_to_setup_before_the_first_account(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.endswith("/setup")


def test_setup_page_shows_the_form(client):
    response = client.get("/setup")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<h1>") == 1
    assert 'autocomplete="new-password"' in page
    assert 'name="password_again"' in page


def test_setup_creates_a_logged_in_administrator_and_goes_home(client):
    response = client.post("/setup", data=setup_data())

    assert response.status_code == 302
    assert response.location == "/"
    user = db.session.scalars(select(User)).one()
    assert user.name == "Hélène Martin"
    assert user.email == "helene.martin@example.org"
    assert user.is_admin and user.active
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, GOOD_PASSWORD)
    assert client.get("/account").status_code == 200


def test_setup_page_is_gone_once_an_account_exists(client, admin):
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data=setup_data()).status_code == 404
    assert db.session.scalars(select(User)).all() == [admin]


def test_setup_page_is_gone_for_a_logged_in_user_too(as_admin):
    assert as_admin.get("/setup").status_code == 404


@pytest.mark.parametrize(
    ("changes", "invalid_field"),
    [
        ({"password": "short pass", "password_again": "short pass"}, "password"),
        ({"password": "xx hélène xx yy", "password_again": "xx hélène xx yy"}, "password"),
        (
            {"password": "MARTIN is a fine pass", "password_again": "MARTIN is a fine pass"},
            "password",
        ),
        (
            {
                "password": "helene.martin@example.org",
                "password_again": "helene.martin@example.org",
            },
            "password",
        ),
        ({"password_again": "something else entirely"}, "password_again"),
        ({"email": "not an address"}, "email"),
        ({"email": "helene@localhost"}, "email"),
        ({"name": "   "}, "name"),
    ],
)
def test_setup_refuses_invalid_data(client, changes, invalid_field):
    response = client.post("/setup", data=setup_data(**changes))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'id="{invalid_field}-error"' in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalars(select(User)).all() == []


def test_setup_explains_a_short_password_in_words(client):
    client.set_cookie("lang", "en")
    response = client.post(
        "/setup", data=setup_data(password="too short", password_again="too short")
    )
    assert "Use at least 12 characters." in response.get_data(as_text=True)
