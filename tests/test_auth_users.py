"""Administration of accounts: list and search, creation, deactivation and reactivation."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

NEW_PASSWORD = "seven silver spoons at dawn"


def new_user_data(**changes) -> dict[str, str]:
    data = {
        "name": "Zoé Lefèvre",
        "email": "zoe.lefevre@example.org",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/users"),
        ("get", "/users/new"),
        ("post", "/users/new"),
        ("get", "/users/1"),
        ("get", "/users/1/deactivate"),
        ("post", "/users/1/deactivate"),
        ("post", "/users/1/reactivate"),
    ],
)
def test_organisers_may_not_administer_accounts(as_organiser, admin, method, path):
    response = getattr(as_organiser, method)(path, data=new_user_data())
    assert response.status_code == 403
    assert admin.active
    assert db.session.scalar(select(User).where(User.email == "zoe.lefevre@example.org")) is None


def test_accounts_menu_is_hidden_from_organisers(as_organiser):
    assert 'href="/users"' not in as_organiser.get("/account").get_data(as_text=True)


def test_accounts_menu_is_shown_to_administrators(as_admin):
    assert 'href="/users"' in as_admin.get("/account").get_data(as_text=True)


def test_account_list_shows_everyone(as_admin, organiser):
    response = as_admin.get("/users")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Alice Admin" in page
    assert "Olivier Organisateur" in page


def listed_ids(client, query: str) -> set[int]:
    page = client.get("/users", query_string={"q": query}).get_data(as_text=True)
    return {int(user_id) for user_id in re.findall(r'href="/users/(\d+)"', page)}


def test_account_list_searches_names_and_addresses(as_admin, admin):
    helene = UserFactory(name="Hélène Dupré", email="hdupre@example.org")
    bruno = UserFactory(name="Bruno Petit", email="bpetit@example.org")

    assert listed_ids(as_admin, "HÉLÈNE") == {helene.id}
    assert listed_ids(as_admin, "dupré") == {helene.id}
    assert listed_ids(as_admin, "bpetit@") == {bruno.id}
    assert listed_ids(as_admin, "example.org") == {admin.id, helene.id, bruno.id}
    assert listed_ids(as_admin, "50%") == set()
    assert listed_ids(as_admin, "_") == set()


def test_account_search_with_accents_finds_unaccented_names(as_admin):
    helene = UserFactory(name="Helene Durand")
    assert listed_ids(as_admin, "Hélène") == {helene.id}


def test_account_list_is_paginated(app, as_admin):
    app.config["PAGE_SIZE"] = 2
    UserFactory.create_batch(3)
    page = as_admin.get("/users").get_data(as_text=True)
    assert 'rel="next"' in page
    assert as_admin.get("/users?page=2").status_code == 200


def test_account_list_loads_in_a_few_queries(as_admin, count_queries):
    UserFactory.create_batch(20)
    as_admin.get("/users")
    with count_queries() as counter:
        assert as_admin.get("/users").status_code == 200
    # The logged-in user, the page's rows and their count.
    assert counter.count <= 3


def test_administrator_creates_an_account(as_admin):
    response = as_admin.post("/users/new", data=new_user_data(email="Zoe.Lefevre@Example.org"))

    user = db.session.scalar(select(User).where(User.email == "zoe.lefevre@example.org"))
    assert user is not None
    assert response.status_code == 302
    assert response.location == f"/users/{user.id}"
    assert user.name == "Zoé Lefèvre"
    assert not user.is_admin
    assert user.active
    assert as_admin.get(f"/users/{user.id}").status_code == 200


def test_administrator_creates_another_administrator(as_admin):
    as_admin.post("/users/new", data=new_user_data(is_admin="y"))
    user = db.session.scalar(select(User).where(User.email == "zoe.lefevre@example.org"))
    assert user.is_admin


def test_new_account_can_log_in(as_admin, client):
    as_admin.post("/users/new", data=new_user_data())
    as_admin.post("/logout")
    response = client.post(
        "/login", data={"email": "zoe.lefevre@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("changes", "invalid_field"),
    [
        ({"email": "OLIVIER@example.org"}, "email"),
        ({"email": "zoe@"}, "email"),
        ({"password": "lefevre zoe 2024", "password_again": "lefevre zoe 2024"}, "password"),
        ({"password": "zoe.lefevre rocks", "password_again": "zoe.lefevre rocks"}, "password"),
        ({"password": "eleven char", "password_again": "eleven char"}, "password"),
        ({"password_again": "a different phrase"}, "password_again"),
    ],
)
def test_new_account_form_refuses_invalid_data(as_admin, organiser, changes, invalid_field):
    response = as_admin.post("/users/new", data=new_user_data(**changes))

    assert response.status_code == 200
    assert f'id="{invalid_field}-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.name == "Zoé Lefèvre")) is None


def test_deactivation_asks_for_confirmation_first(as_admin, organiser):
    response = as_admin.get(f"/users/{organiser.id}/deactivate")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'action="/users/{organiser.id}/deactivate"' in page
    assert 'method="post"' in page
    db.session.refresh(organiser)
    assert organiser.active


def test_administrator_deactivates_and_reactivates_an_account(as_admin, organiser, client):
    response = as_admin.post(f"/users/{organiser.id}/deactivate")
    assert response.status_code == 302
    assert response.location == f"/users/{organiser.id}"
    db.session.refresh(organiser)
    assert not organiser.active
    page = as_admin.get(f"/users/{organiser.id}").get_data(as_text=True)
    assert f'action="/users/{organiser.id}/reactivate"' in page

    as_admin.post(f"/users/{organiser.id}/reactivate")
    db.session.refresh(organiser)
    assert organiser.active


def test_deactivated_organiser_can_no_longer_log_in(as_admin, organiser):
    as_admin.post(f"/users/{organiser.id}/deactivate")
    as_admin.post("/logout")
    response = as_admin.post(
        "/login", data={"email": organiser.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert not organiser.active


def test_administrator_cannot_deactivate_themselves(as_admin, admin):
    as_admin.set_cookie("lang", "en")
    assert f"/users/{admin.id}/deactivate" not in as_admin.get(f"/users/{admin.id}").get_data(
        as_text=True
    )

    confirmation = as_admin.get(f"/users/{admin.id}/deactivate")
    response = as_admin.post(f"/users/{admin.id}/deactivate", follow_redirects=True)

    assert confirmation.status_code == 302
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


def test_unknown_account_is_404(as_admin):
    assert as_admin.get("/users/999").status_code == 404
    assert as_admin.post("/users/999/deactivate").status_code == 404
