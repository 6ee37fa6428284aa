"""The account page: an organiser changes their own name, e-mail address and password."""

from werkzeug.security import check_password_hash

from app.extensions import db
from tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "a quiet walk by the canal"


def test_account_page_shows_the_profile(as_organiser):
    response = as_organiser.get("/account")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="Olivier Organisateur"' in page
    assert 'value="olivier@example.org"' in page
    assert 'href="/account/password"' in page


def test_anonymous_visitor_cannot_see_the_account_page(client, admin):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_organiser_changes_name_and_email(as_organiser, organiser):
    response = as_organiser.post(
        "/account", data={"name": "Olivier Durand", "email": " Olivier.Durand@Example.org "}
    )

    assert response.status_code == 302
    assert response.location == "/account"
    db.session.refresh(organiser)
    assert organiser.name == "Olivier Durand"
    assert organiser.email == "olivier.durand@example.org"


def test_organiser_may_keep_their_own_address_in_another_case(as_organiser, organiser):
    response = as_organiser.post(
        "/account", data={"name": "Olivier O.", "email": "OLIVIER@example.org"}
    )
    assert response.status_code == 302
    db.session.refresh(organiser)
    assert organiser.email == "olivier@example.org"


def test_address_of_another_account_is_refused(as_organiser, organiser):
    as_organiser.set_cookie("lang", "en")
    response = as_organiser.post("/account", data={"name": "Olivier", "email": "ALICE@example.org"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page
    assert "Another account already uses this e-mail address." in page
    db.session.refresh(organiser)
    assert organiser.email == "olivier@example.org"
    assert organiser.name == "Olivier Organisateur"


def test_invalid_address_is_refused(as_organiser, organiser):
    response = as_organiser.post("/account", data={"name": "Olivier", "email": "olivier@"})
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.refresh(organiser)
    assert organiser.email == "olivier@example.org"


def test_password_change_needs_the_current_password(as_organiser, organiser):
    response = as_organiser.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert 'id="current_password-error"' in response.get_data(as_text=True)
    db.session.refresh(organiser)
    assert check_password_hash(organiser.password_hash, DEFAULT_PASSWORD)


def test_organiser_changes_their_password(as_organiser, organiser, client):
    response = as_organiser.post(
        "/account/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.location == "/account"
    db.session.refresh(organiser)
    assert check_password_hash(organiser.password_hash, NEW_PASSWORD)
    assert organiser.password_hash.startswith("scrypt:")


def test_new_password_follows_the_policy(as_organiser, organiser):
    for weak in ["short one", "organisateur olivier", "olivier@example.org!!"]:
        response = as_organiser.post(
            "/account/password",
            data={"current_password": DEFAULT_PASSWORD, "password": weak, "password_again": weak},
        )
        assert 'id="password-error"' in response.get_data(as_text=True)
    db.session.refresh(organiser)
    assert check_password_hash(organiser.password_hash, DEFAULT_PASSWORD)


def test_new_password_must_be_typed_twice_alike(as_organiser, organiser):
    response = as_organiser.post(
        "/account/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD + "!",
        },
    )
    assert 'id="password_again-error"' in response.get_data(as_text=True)


def test_password_page_uses_password_manager_hints(as_organiser):
    page = as_organiser.get("/account/password").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page
    assert page.count('autocomplete="new-password"') == 2
