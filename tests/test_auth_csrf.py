"""With CSRF protection on, as in production, a form sent without its token changes nothing."""

import re

import pytest

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.conftest import USING_POSTGRES, reset_database
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def protected_app():
    app = create_app(TestingConfig, WTF_CSRF_ENABLED=True)
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        if not USING_POSTGRES:
            db.drop_all()
        db.engine.dispose()


def test_post_without_token_is_refused_and_changes_nothing(protected_app):
    admin = UserFactory(is_admin=True)
    organiser = UserFactory()
    client = protected_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)

    response = client.post(f"/users/{organiser.id}/deactivate")

    assert response.status_code == 400
    db.session.refresh(organiser)
    assert organiser.active


def test_login_without_token_is_refused(protected_app):
    user = UserFactory()
    client = protected_app.test_client()

    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_login_with_the_token_of_the_form_works(protected_app):
    user = UserFactory()
    client = protected_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
