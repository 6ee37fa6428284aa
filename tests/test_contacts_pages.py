"""Contact pages: who may see them, the list, the forms, deletion and the CSV export."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Civility, Contact, OrganisationKind
from tests.directory_helpers import add_contacts
from tests.factories import ContactFactory, OrganisationFactory


def contact_count() -> int:
    return db.session.scalar(select(func.count(Contact.id)))


def marked_invalid(page: str, field: str) -> bool:
    """Whether the input, select or textarea `field` carries aria-invalid="true"."""
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        if f'id="{field}"' in tag and 'aria-invalid="true"' in tag:
            return True
    return False


def valid_form(**changes) -> dict:
    form = {
        "civility": "mme",
        "first_name": "Zoé",
        "last_name": "Lefèvre",
        "email": "Zoe.Lefevre@Example.org",
        "phone": "01.23.45.67.89",
        "function": "Coordinatrice",
        "organisation_id": "",
        "notes": "Préfère le téléphone.",
    }
    return form | changes


# Permissions


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/contacts/"),
        ("get", "/contacts/new"),
        ("post", "/contacts/new"),
        ("get", "/contacts/1"),
        ("get", "/contacts/1/edit"),
        ("post", "/contacts/1/edit"),
        ("get", "/contacts/1/delete"),
        ("post", "/contacts/1/delete"),
        ("get", "/contacts/import"),
        ("post", "/contacts/import"),
        ("post", "/contacts/import/1"),
        ("get", "/contacts/export.csv"),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, admin, method, url):
    ContactFactory()
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/login" in response.location
    assert contact_count() == 1


def test_any_organiser_may_manage_the_directory(as_organiser):
    contact = ContactFactory()
    for url in ("/contacts/", f"/contacts/{contact.id}", f"/contacts/{contact.id}/edit"):
        assert as_organiser.get(url).status_code == 200


def test_an_unknown_contact_is_a_404(as_organiser):
    assert as_organiser.get("/contacts/999").status_code == 404
    assert as_organiser.get("/contacts/999/edit").status_code == 404
    assert as_organiser.post("/contacts/999/delete").status_code == 404


# The list


def test_list_shows_contacts_with_their_organisation(as_organiser):
    home = OrganisationFactory(name="Centre social du Lac", town="Chenôve")
    ContactFactory(first_name="Zoé", last_name="Lefèvre", organisation=home)
    page = as_organiser.get("/contacts/").get_data(as_text=True)
    assert "Lefèvre Zoé" in page
    assert "Centre social du Lac" in page
    assert "Chenôve" in page
    assert page.count("<h1>") == 1


@pytest.mark.parametrize("query", ["Chenove", "chenôve", "CHENÔVE", "CHENOVE"])
def test_search_finds_towns_whatever_their_accents_and_case(as_organiser, query):
    ContactFactory(last_name="Accent", organisation=OrganisationFactory(town="Chenôve"))
    ContactFactory(last_name="Upper", organisation=OrganisationFactory(town="CHENÔVE"))
    ContactFactory(last_name="Elsewhere", organisation=OrganisationFactory(town="Dijon"))
    page = as_organiser.get("/contacts/", query_string={"q": query}).get_data(as_text=True)
    assert "Accent" in page
    assert "Upper" in page
    assert "Elsewhere" not in page


def test_search_by_email_and_organisation_name(as_organiser):
    ContactFactory(last_name="Mail", email="unique.address@fede.org")
    ContactFactory(last_name="Member", organisation=OrganisationFactory(name="École Jean Macé"))
    page = as_organiser.get("/contacts/?q=unique.address").get_data(as_text=True)
    assert "Mail" in page and "Member" not in page
    page = as_organiser.get("/contacts/?q=ecole+jean+mace").get_data(as_text=True)
    assert "Member" in page and "Mail" not in page


def test_filters_by_kind_town_and_organisation(as_organiser):
    school = OrganisationFactory(name="Collège Rameau", kind=OrganisationKind.SCHOOL, town="Talant")
    centre = OrganisationFactory(kind=OrganisationKind.SOCIAL_CENTRE, town="Dijon")
    ContactFactory(last_name="Teacher", organisation=school)
    ContactFactory(last_name="Animator", organisation=centre)

    def names(**arguments) -> set[str]:
        page = as_organiser.get("/contacts/", query_string=arguments).get_data(as_text=True)
        return {name for name in ("Teacher", "Animator") if name in page}

    assert names(kind="etablissement_scolaire") == {"Teacher"}
    assert names(town="talant") == {"Teacher"}
    assert names(organisation=centre.id) == {"Animator"}
    assert names(kind="no-such-kind", town="", sort="bogus") == {"Teacher", "Animator"}


def test_organisation_filter_names_the_organisation(as_organiser):
    school = OrganisationFactory(name="Collège Rameau")
    page = as_organiser.get(f"/contacts/?organisation={school.id}").get_data(as_text=True)
    assert "Collège Rameau" in page
    assert f'name="organisation" type="hidden" value="{school.id}"' in page


def test_sorting_reverses_and_marks_the_column(as_organiser):
    ContactFactory(last_name="Alpha")
    ContactFactory(last_name="Omega")
    page = as_organiser.get("/contacts/?sort=-name").get_data(as_text=True)
    assert page.index("Omega") < page.index("Alpha")
    assert 'href="/contacts/?sort=name&amp;page=1" aria-current="true"' in page
    page = as_organiser.get("/contacts/?sort=name").get_data(as_text=True)
    assert page.index("Alpha") < page.index("Omega")


def test_list_is_paginated(app, as_organiser):
    app.config["PAGE_SIZE"] = 5
    add_contacts(12)
    first = as_organiser.get("/contacts/").get_data(as_text=True)
    third = as_organiser.get("/contacts/?page=3").get_data(as_text=True)
    assert "Nom00000" in first and "Nom00005" not in first
    assert "Nom00010" in third and "Nom00011" in third and "Nom00009" not in third
    assert 'rel="next"' in first


def test_contact_list_costs_the_same_queries_for_10_or_1000_contacts(as_organiser, count_queries):
    add_contacts(10)
    as_organiser.get("/contacts/")
    with count_queries() as few:
        assert as_organiser.get("/contacts/").status_code == 200
    add_contacts(990, start=10)
    # Committing expired the logged-in user: reload it, as the first request did.
    as_organiser.get("/contacts/")
    with count_queries() as many:
        page = as_organiser.get("/contacts/?sort=organisation")
    assert page.status_code == 200
    assert "Structure" in page.get_data(as_text=True)
    assert many.count == few.count
    assert few.count <= 5


def test_searching_costs_no_more_queries(as_organiser, count_queries):
    add_contacts(10)
    as_organiser.get("/contacts/")
    with count_queries() as plain:
        as_organiser.get("/contacts/")
    add_contacts(300, start=10)
    as_organiser.get("/contacts/")
    with count_queries() as searched:
        as_organiser.get("/contacts/?q=ville&kind=centre_social&town=ville+0&sort=-town")
    assert searched.count == plain.count


# Creating and editing


def test_new_contact_is_created_normalised_and_attributed(as_organiser, organiser):
    home = OrganisationFactory()
    response = as_organiser.post("/contacts/new", data=valid_form(organisation_id=str(home.id)))
    contact = db.session.scalar(select(Contact))
    assert response.status_code == 302
    assert response.location.endswith(f"/contacts/{contact.id}")
    assert contact.email == "zoe.lefevre@example.org"
    assert contact.phone == "01 23 45 67 89"
    assert contact.civility is Civility.MS
    assert contact.organisation_id == home.id
    assert contact.created_by_id == organiser.id
    page = as_organiser.get(response.location).get_data(as_text=True)
    assert "Zoé Lefèvre" in page
    assert "Olivier Organisateur" in page


def test_new_contact_form_can_start_with_an_organisation(as_organiser):
    home = OrganisationFactory(name="Maison des familles")
    page = as_organiser.get(f"/contacts/new?organisation={home.id}").get_data(as_text=True)
    assert f'<option selected value="{home.id}">Maison des familles (Dijon)</option>' in page


def test_new_contact_without_civility_or_organisation(as_organiser):
    as_organiser.post("/contacts/new", data=valid_form(civility="", phone=""))
    contact = db.session.scalar(select(Contact))
    assert contact.civility is None
    assert contact.organisation is None
    assert contact.phone == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("last_name", ""),
        ("last_name", "   "),
        ("email", ""),
        ("email", "zoe.example.org"),
        ("email", "zoe@"),
        ("phone", "12 34"),
        ("phone", "not a number"),
        ("civility", "dr"),
        ("organisation_id", "999"),
        ("first_name", "x" * 101),
        ("function", "x" * 201),
    ],
)
def test_each_invalid_field_is_shown_next_to_it_and_nothing_is_saved(as_organiser, field, value):
    response = as_organiser.post("/contacts/new", data=valid_form(**{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert marked_invalid(page, field)
    assert contact_count() == 0


def test_bad_input_loses_nothing_that_was_typed(as_organiser):
    page = as_organiser.post("/contacts/new", data=valid_form(phone="12")).get_data(as_text=True)
    for typed in ("Zoé", "Lefèvre", "Zoe.Lefevre@Example.org", "Coordinatrice", "Préfère le"):
        assert typed in page
    assert 'value="12"' in page


def test_an_email_already_used_in_another_case_is_refused(client, login, organiser):
    client.set_cookie("lang", "en")
    login(organiser)
    ContactFactory(email="zoe.lefevre@example.org")
    response = client.post("/contacts/new", data=valid_form(email="ZOE.Lefevre@example.ORG"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A contact with this e-mail address already exists." in page
    assert marked_invalid(page, "email")
    assert contact_count() == 1


def test_invalid_messages_are_explained(client, login, organiser):
    client.set_cookie("lang", "en")
    login(organiser)
    page = client.post("/contacts/new", data=valid_form(email="bad", phone="12")).get_data(
        as_text=True
    )
    assert "This is not a valid e-mail address." in page
    assert "This is not a valid phone number." in page


def test_edit_contact_changes_it_and_records_who(as_organiser, organiser):
    contact = ContactFactory(email="zoe@example.org", phone="")
    response = as_organiser.post(
        f"/contacts/{contact.id}/edit",
        data=valid_form(email="ZOE@example.org", phone="+44 20 7946 0958", last_name="Durand"),
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert contact.last_name == "Durand"
    assert contact.email == "zoe@example.org"
    assert contact.phone == "+44 20 7946 0958"
    assert contact.updated_by_id == organiser.id
    assert contact.organisation is None


def test_edit_form_shows_the_current_values(as_organiser):
    home = OrganisationFactory(name="Centre Nord")
    contact = ContactFactory(civility=Civility.MR, organisation=home, phone="01 23 45 67 89")
    page = as_organiser.get(f"/contacts/{contact.id}/edit").get_data(as_text=True)
    assert '<option selected value="m">' in page
    assert f'<option selected value="{home.id}">' in page
    assert 'value="01 23 45 67 89"' in page


def test_edit_cannot_take_another_contacts_email(as_organiser):
    ContactFactory(email="taken@example.org")
    contact = ContactFactory(email="mine@example.org")
    response = as_organiser.post(
        f"/contacts/{contact.id}/edit", data=valid_form(email="Taken@example.org")
    )
    assert marked_invalid(response.get_data(as_text=True), "email")
    db.session.refresh(contact)
    assert contact.email == "mine@example.org"


# Deleting


def test_delete_asks_first_and_a_get_changes_nothing(as_organiser):
    contact = ContactFactory()
    page = as_organiser.get(f"/contacts/{contact.id}/delete")
    assert page.status_code == 200
    assert '<form method="post"' in page.get_data(as_text=True)
    assert contact_count() == 1


def test_delete_removes_the_contact(as_organiser):
    contact = ContactFactory()
    response = as_organiser.post(f"/contacts/{contact.id}/delete")
    assert response.status_code == 302
    assert response.location.endswith("/contacts/")
    assert contact_count() == 0


# Export


def exported_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_export_writes_the_format_the_import_reads(as_organiser):
    home = OrganisationFactory(
        name="Centre social", kind=OrganisationKind.SOCIAL_CENTRE, town="Chenôve", postcode="21300"
    )
    ContactFactory(
        civility=Civility.MS,
        first_name="Zoé",
        last_name="Lefèvre",
        email="zoe@example.org",
        phone="01 23 45 67 89",
        function="Directrice",
        notes="Deux\nlignes",
        organisation=home,
    )
    response = as_organiser.get("/contacts/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, row = exported_rows(response)
    assert header == [
        "civilité",
        "prénom",
        "nom",
        "courriel",
        "téléphone",
        "fonction",
        "structure",
        "type de structure",
        "commune",
        "code postal",
        "notes",
    ]
    assert row[1:] == [
        "Zoé",
        "Lefèvre",
        "zoe@example.org",
        "01 23 45 67 89",
        "Directrice",
        "Centre social",
        row[7],
        "Chenôve",
        "21300",
        "Deux\nlignes",
    ]


def test_export_follows_the_list_filters(as_organiser):
    ContactFactory(last_name="Kept", organisation=OrganisationFactory(town="Chenôve"))
    ContactFactory(last_name="Left", organisation=OrganisationFactory(town="Dijon"))
    rows = exported_rows(as_organiser.get("/contacts/export.csv?q=chenove"))
    assert [row[2] for row in rows[1:]] == ["Kept"]


def test_export_defuses_cells_a_spreadsheet_would_run(as_organiser):
    ContactFactory(last_name="=HYPERLINK(1)", phone="+44 20 7946 0958", organisation=None)
    [_, row] = exported_rows(as_organiser.get("/contacts/export.csv"))
    assert row[2] == "'=HYPERLINK(1)"
    assert row[4] == "'+44 20 7946 0958"
