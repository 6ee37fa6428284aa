"""Organisation pages: permissions, list with contact counts, forms and their rules, deletion."""

import re

import pytest
from sqlalchemy import func, select

from app.contacts.normalise import InvalidValue
from app.extensions import db
from app.models import Contact, Organisation, OrganisationKind
from app.organisations.services import normalise_website
from tests.directory_helpers import add_organisations
from tests.factories import ContactFactory, OrganisationFactory


def organisation_count() -> int:
    return db.session.scalar(select(func.count(Organisation.id)))


def marked_invalid(page: str, field: str) -> bool:
    return any(
        f'id="{field}"' in tag and 'aria-invalid="true"' in tag
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    )


def valid_form(**changes) -> dict:
    form = {
        "name": "Centre social Le Tempo",
        "kind": "centre_social",
        "town": "Chenôve",
        "postcode": "21300",
        "website": "www.le-tempo.fr",
        "notes": "Partenaire depuis 2015.",
    }
    return form | changes


# Rules


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("", ""),
        ("www.example.org", "https://www.example.org"),
        ("example.org/contact", "https://example.org/contact"),
        ("http://example.org", "http://example.org"),
        ("https://exemple.fr/à-propos?x=1", "https://exemple.fr/à-propos?x=1"),
    ],
)
def test_websites_are_http_addresses(raw, stored):
    assert normalise_website(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "ftp://example.org",
        "mailto:someone@example.org",
        "https://user:secret@example.org",
        "https://exa mple.org",
        "http://localhost",
        "not a website",
        "www.example.org/" + "x" * 490,
    ],
)
def test_other_addresses_are_refused(raw):
    with pytest.raises(InvalidValue):
        normalise_website(raw)


# Permissions


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/organisations/"),
        ("get", "/organisations/new"),
        ("post", "/organisations/new"),
        ("get", "/organisations/1"),
        ("get", "/organisations/1/edit"),
        ("post", "/organisations/1/edit"),
        ("get", "/organisations/1/delete"),
        ("post", "/organisations/1/delete"),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, admin, method, url):
    OrganisationFactory()
    response = getattr(client, method)(url, data=valid_form())
    assert response.status_code == 302
    assert "/login" in response.location
    assert organisation_count() == 1


def test_an_unknown_organisation_is_a_404(as_organiser):
    for url in ("/organisations/9", "/organisations/9/edit", "/organisations/9/delete"):
        assert as_organiser.get(url).status_code == 404


# List


def test_list_shows_each_organisation_with_its_number_of_contacts(as_organiser):
    busy = OrganisationFactory(name="Busy", kind=OrganisationKind.CCAS)
    OrganisationFactory(name="Quiet")
    ContactFactory.create_batch(3, organisation=busy)
    page = as_organiser.get("/organisations/").get_data(as_text=True)
    assert f'<a href="/contacts/?organisation={busy.id}">3</a>' in page
    assert '<td class="numeric">0</td>' in page
    assert page.count("<h1>") == 1


@pytest.mark.parametrize("query", ["Chenove", "CHENÔVE", "chenôve"])
def test_search_ignores_accents_and_case(as_organiser, query):
    OrganisationFactory(name="Mairie", town="Chenôve")
    OrganisationFactory(name="Centre social de CHENÔVE", town="Dijon")
    OrganisationFactory(name="Préfecture", town="Dijon")
    page = as_organiser.get("/organisations/", query_string={"q": query}).get_data(as_text=True)
    assert "Mairie" in page
    assert "Centre social de CHENÔVE" in page
    assert "Préfecture" not in page


def test_filters_by_kind_and_town(as_organiser):
    OrganisationFactory(name="Collège Rameau", kind=OrganisationKind.SCHOOL, town="Talant")
    OrganisationFactory(name="Centre Nord", kind=OrganisationKind.SOCIAL_CENTRE, town="Dijon")
    page = as_organiser.get("/organisations/?kind=etablissement_scolaire").get_data(as_text=True)
    assert "Collège Rameau" in page and "Centre Nord" not in page
    page = as_organiser.get("/organisations/?town=dijon").get_data(as_text=True)
    assert "Centre Nord" in page and "Collège Rameau" not in page


def test_sort_by_number_of_contacts(as_organiser):
    few = OrganisationFactory(name="Few")
    many = OrganisationFactory(name="Many")
    ContactFactory(organisation=few)
    ContactFactory.create_batch(2, organisation=many)
    page = as_organiser.get("/organisations/?sort=-contacts").get_data(as_text=True)
    assert page.index("Many") < page.index("Few")
    page = as_organiser.get("/organisations/?sort=contacts").get_data(as_text=True)
    assert page.index("Few") < page.index("Many")


def test_organisation_list_costs_the_same_queries_for_10_or_1000(as_organiser, count_queries):
    add_organisations(10)
    as_organiser.get("/organisations/")
    with count_queries() as few:
        assert as_organiser.get("/organisations/").status_code == 200
    add_organisations(990, start=10)
    # Committing expired the logged-in user: reload it, as the first request did.
    as_organiser.get("/organisations/")
    with count_queries() as many:
        page = as_organiser.get("/organisations/?sort=-contacts").get_data(as_text=True)
    assert many.count == few.count
    assert few.count <= 5
    assert page.count('">2</a></td>') == 50


# Detail


def test_detail_shows_the_organisation_and_some_of_its_contacts(as_organiser):
    home = OrganisationFactory(name="Maison des familles", website="https://mdf.example.org")
    ContactFactory.create_batch(22, organisation=home)
    page = as_organiser.get(f"/organisations/{home.id}").get_data(as_text=True)
    assert "Maison des familles" in page
    assert 'href="https://mdf.example.org"' in page
    assert page.count('href="/contacts/') - page.count('href="/contacts/new') >= 20
    assert f'href="/contacts/?organisation={home.id}"' in page
    assert f'href="/contacts/new?organisation={home.id}"' in page


# Create and edit


def test_new_organisation_is_created(as_organiser):
    response = as_organiser.post("/organisations/new", data=valid_form())
    organisation = db.session.scalar(select(Organisation))
    assert response.status_code == 302
    assert response.location.endswith(f"/organisations/{organisation.id}")
    assert organisation.kind is OrganisationKind.SOCIAL_CENTRE
    assert organisation.website == "https://www.le-tempo.fr"
    assert (organisation.name_key, organisation.town_key) == ("centre social le tempo", "chenove")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("kind", "club"),
        ("town", "x" * 121),
        ("postcode", "21 300 000 00"),
        ("postcode", "<b>"),
        ("website", "javascript:alert(1)"),
        ("website", "ftp://example.org"),
    ],
)
def test_each_invalid_field_is_shown_and_nothing_is_saved(as_organiser, field, value):
    response = as_organiser.post("/organisations/new", data=valid_form(**{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert marked_invalid(page, field)
    assert organisation_count() == 0


@pytest.mark.parametrize(
    ("name", "town"),
    [
        ("Centre social Le Tempo", "Chenôve"),
        ("CENTRE SOCIAL LE TEMPO", "chenove"),
        ("centre  social le  tempo", "CHENÔVE"),
    ],
)
def test_an_organisation_name_is_unique_in_its_town(client, login, organiser, name, town):
    client.set_cookie("lang", "en")
    login(organiser)
    OrganisationFactory(name="Centre social Le Tempo", town="Chenôve")
    response = client.post("/organisations/new", data=valid_form(name=name, town=town))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "An organisation with this name already exists in" in page
    assert marked_invalid(page, "name")
    assert f'value="{name}"' in page
    assert organisation_count() == 1


def test_the_same_name_in_another_town_is_fine(as_organiser):
    OrganisationFactory(name="Mairie", town="Dijon")
    response = as_organiser.post(
        "/organisations/new", data=valid_form(name="Mairie", town="Talant")
    )
    assert response.status_code == 302
    assert organisation_count() == 2


def test_edit_keeps_its_own_name_and_refuses_another(as_organiser):
    OrganisationFactory(name="Mairie", town="Dijon")
    mine = OrganisationFactory(name="Mairie annexe", town="Dijon")
    response = as_organiser.post(
        f"/organisations/{mine.id}/edit", data=valid_form(name="Mairie annexe", town="Dijon")
    )
    assert response.status_code == 302
    db.session.refresh(mine)
    assert mine.kind is OrganisationKind.SOCIAL_CENTRE
    response = as_organiser.post(
        f"/organisations/{mine.id}/edit", data=valid_form(name="MAIRIE", town="dijon")
    )
    assert marked_invalid(response.get_data(as_text=True), "name")
    db.session.refresh(mine)
    assert mine.name == "Mairie annexe"


def test_edit_form_shows_the_current_values(as_organiser):
    organisation = OrganisationFactory(kind=OrganisationKind.FEDERATION, website="https://f.org")
    page = as_organiser.get(f"/organisations/{organisation.id}/edit").get_data(as_text=True)
    assert '<option selected value="federation">' in page
    assert 'value="https://f.org"' in page


# Delete


def test_delete_without_contacts_asks_then_deletes(as_organiser):
    organisation = OrganisationFactory()
    page = as_organiser.get(f"/organisations/{organisation.id}/delete").get_data(as_text=True)
    assert '<form method="post"' in page
    assert organisation_count() == 1
    response = as_organiser.post(f"/organisations/{organisation.id}/delete")
    assert response.location.endswith("/organisations/")
    assert organisation_count() == 0


def test_delete_with_contacts_says_how_many_and_offers_to_detach_them(client, login, organiser):
    client.set_cookie("lang", "en")
    login(organiser)
    organisation = OrganisationFactory(name="Centre Nord")
    ContactFactory.create_batch(3, organisation=organisation)
    page = client.get(f"/organisations/{organisation.id}/delete").get_data(as_text=True)
    assert "Centre Nord has 3 contacts in the directory." in page
    assert "Delete the organisation and detach its 3 contacts (they stay in the directory)" in page
    assert f'href="/organisations/{organisation.id}">Cancel</a>' in page
    assert organisation_count() == 1


def test_delete_with_contacts_needs_the_detach_answer(as_organiser):
    organisation = OrganisationFactory()
    ContactFactory(organisation=organisation)
    response = as_organiser.post(f"/organisations/{organisation.id}/delete")
    assert response.status_code == 200
    assert organisation_count() == 1


def test_delete_detaching_contacts_keeps_them_in_the_directory(as_organiser, organiser):
    organisation = OrganisationFactory()
    contacts = ContactFactory.create_batch(2, organisation=organisation)
    kept = ContactFactory()
    response = as_organiser.post(
        f"/organisations/{organisation.id}/delete", data={"detach_contacts": "y"}
    )
    assert response.status_code == 302
    assert db.session.get(Organisation, organisation.id) is None
    for contact in contacts:
        db.session.refresh(contact)
        assert contact.organisation_id is None
        assert contact.updated_by_id == organiser.id
    assert db.session.scalar(select(func.count(Contact.id))) == 3
    db.session.refresh(kept)
    assert kept.organisation is not None
