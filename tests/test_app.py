"""The application shell: setup redirect, login requirement, error pages, security headers."""

import pytest

from app import create_app
from config import ProductionConfig, database_url
from tests.conftest import application
from tests.factories import UserFactory


def test_every_page_leads_to_setup_while_no_account_exists(client):
    response = client.get("/meetings/")
    assert response.status_code == 302
    assert response.location.endswith("/setup")


def test_anonymous_visitor_is_sent_to_login(client, admin):
    response = client.get("/meetings/")
    assert response.status_code == 302
    assert "/login" in response.location


def test_unknown_page_shows_friendly_french_404(client, admin):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Traceback" not in page


def test_security_headers_are_sent(client, admin):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_production_refuses_the_default_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig, SECRET_KEY="dev-only-insecure-secret-key")


def test_production_starts_with_a_real_secret_key():
    app = create_app(ProductionConfig, SECRET_KEY="x" * 64, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_language_switch_sets_a_cookie_and_english_is_spoken(client, admin):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 302
    assert response.location.endswith("/login")
    page = client.get("/no-such-page").get_data(as_text=True)
    assert '<html lang="en">' in page


def test_language_switch_refuses_to_redirect_elsewhere(client, admin):
    response = client.post("/language", data={"language": "en", "next": "https://evil.example/"})
    assert response.location.endswith("/")
    assert "evil" not in response.location


def test_unexpected_error_shows_a_friendly_page_without_traceback():
    with application(PROPAGATE_EXCEPTIONS=False) as app:

        @app.get("/boom")
        def boom():
            raise RuntimeError("secret internals")

        user = UserFactory()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
        response = client.get("/boom")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page
    assert "Traceback" not in page
    assert page.count("<h1>") == 1


def test_plain_postgresql_urls_use_psycopg_3():
    assert database_url("postgresql://u@h/db", "") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db", "") == "postgresql+psycopg://u@h/db"
    assert database_url("", "sqlite://") == "sqlite://"
    assert database_url("postgresql+psycopg://u@h/db", "") == "postgresql+psycopg://u@h/db"
