"""With CSRF protection on, as in production, a form sent without its token changes nothing."""

import re

from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, UserFactory


def test_post_without_token_is_refused_and_changes_nothing(csrf_app):
    admin = UserFactory(is_admin=True)
    organiser = UserFactory()
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)

    response = client.post(f"/users/{organiser.id}/deactivate")

    assert response.status_code == 400
    db.session.refresh(organiser)
    assert organiser.active


def test_login_without_token_is_refused(csrf_app):
    user = UserFactory()
    client = csrf_app.test_client()

    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_login_with_the_token_of_the_form_works(csrf_app):
    user = UserFactory()
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
