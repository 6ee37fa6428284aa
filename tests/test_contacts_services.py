"""Contact rules without the web layer: e-mail and phone forms, uniqueness, search and sorting."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.contacts import services
from app.contacts.labels import ChoiceReader
from app.contacts.normalise import FieldError, InvalidValue, normalise_email, normalise_phone
from app.contacts.services import ContactData, ContactFilters
from app.extensions import db
from app.models import Civility, Contact, OrganisationKind
from tests.factories import ContactFactory, OrganisationFactory

NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    ["01 23 45 67 89", "0123456789", "01.23.45.67.89", "+33 1 23 45 67 89", "0033 1 23 45 67 89"],
)
def test_french_phone_numbers_are_stored_in_national_format(raw):
    assert normalise_phone(raw) == "01 23 45 67 89"


def test_mobile_numbers_are_normalised_too():
    assert normalise_phone("06-12-34-56-78") == "06 12 34 56 78"


def test_foreign_phone_numbers_are_stored_in_international_format():
    assert normalise_phone("+44 20 7946 0958") == "+44 20 7946 0958"
    assert normalise_phone("0044 20 7946 0958") == "+44 20 7946 0958"


def test_an_empty_phone_is_allowed():
    assert normalise_phone("  ") == ""


@pytest.mark.parametrize("raw", ["12", "abc", "01 23 45 67", "06 12 34 56 78 90 12"])
def test_invalid_phone_numbers_are_refused(raw):
    with pytest.raises(InvalidValue):
        normalise_phone(raw)


def test_email_addresses_are_stored_lower_case():
    assert normalise_email("  Zoe.Martin@Example.ORG ") == "zoe.martin@example.org"


@pytest.mark.parametrize("raw", ["", "zoe", "zoe@", "zoe@localhost", "zoé martin@example.org"])
def test_invalid_email_addresses_are_refused(raw):
    with pytest.raises(InvalidValue):
        normalise_email(raw)


def test_email_validation_never_asks_the_network(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the e-mail check must not use the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert normalise_email("someone@no-such-domain-rencontres.fr") == (
        "someone@no-such-domain-rencontres.fr"
    )


def test_create_contact_normalises_and_records_who_and_when(app, organiser):
    organisation = OrganisationFactory()
    data = ContactData(
        civility=Civility.MS,
        first_name=" Zoé ",
        last_name="  Martin ",
        email="Zoe.Martin@Example.org",
        phone="0123456789",
        function="Coordinatrice",
        organisation_id=organisation.id,
    )
    contact = services.create_contact(data, organiser, NOW)
    db.session.commit()
    assert contact.email == "zoe.martin@example.org"
    assert contact.phone == "01 23 45 67 89"
    assert (contact.first_name, contact.last_name) == ("Zoé", "Martin")
    assert contact.created_by_id == organiser.id
    assert contact.updated_by_id == organiser.id
    assert contact.created_at == NOW
    assert contact.search_key == "zoe martin zoe.martin@example.org coordinatrice"


def test_create_contact_refuses_an_email_already_used_in_another_case(app, organiser):
    ContactFactory(email="zoe@example.org")
    with pytest.raises(FieldError) as refused:
        services.create_contact(
            ContactData(last_name="Autre", email="ZOE@Example.org"), organiser, NOW
        )
    assert refused.value.field == "email"


def test_update_contact_may_keep_its_own_email(app, organiser):
    contact = ContactFactory(email="zoe@example.org")
    data = ContactData(last_name="Martin", email="Zoe@example.org")
    services.update_contact(contact, data, organiser, NOW)
    assert contact.last_name == "Martin"
    assert contact.updated_by_id == organiser.id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (ContactData(last_name=" ", email="a@example.org"), "last_name"),
        (ContactData(last_name="A", email="not an address"), "email"),
        (ContactData(last_name="A", email="a@example.org", phone="12"), "phone"),
        (ContactData(last_name="A", email="a@example.org", organisation_id=999), "organisation_id"),
    ],
)
def test_create_contact_reports_the_field_at_fault(app, organiser, data, field):
    with pytest.raises(FieldError) as refused:
        services.create_contact(data, organiser, NOW)
    assert refused.value.field == field
    assert db.session.scalars(select(Contact)).all() == []


def found(filters: ContactFilters) -> list[str]:
    return [c.last_name for c in db.session.scalars(services.contact_list_query(filters))]


def test_search_ignores_accents_and_case_in_every_direction(app):
    chenove = OrganisationFactory(name="Centre social du Mail", town="Chenôve")
    upper = OrganisationFactory(name="Mairie", town="CHENÔVE")
    ContactFactory(last_name="Accent", organisation=chenove)
    ContactFactory(last_name="Upper", organisation=upper)
    ContactFactory(last_name="Elsewhere", organisation=OrganisationFactory(town="Dijon"))
    for query in ("Chenove", "chenôve", "CHENOVE"):
        assert sorted(found(ContactFilters(query=query))) == ["Accent", "Upper"]


def test_search_matches_names_emails_functions_and_organisations(app):
    home = OrganisationFactory(name="Fédération des Centres Sociaux")
    ContactFactory(
        first_name="Hélène",
        last_name="Lefèvre",
        email="h.lefevre@fede.org",
        function="Déléguée",
        organisation=home,
    )
    ContactFactory(last_name="Other", email="other@example.org", function="", organisation=None)
    for query in ("helene", "LEFEVRE", "h.lefevre@", "déléguée", "federation des centres"):
        assert found(ContactFilters(query=query)) == ["Lefèvre"], query


def test_search_treats_like_wildcards_as_plain_text(app):
    ContactFactory(last_name="Percent", email="100%sure@example.org")
    ContactFactory(last_name="Plain", email="100sure@example.org")
    assert found(ContactFilters(query="100%")) == ["Percent"]
    assert found(ContactFilters(query="_")) == []


def test_filters_by_kind_town_and_organisation(app):
    school = OrganisationFactory(kind=OrganisationKind.SCHOOL, town="Quetigny")
    centre = OrganisationFactory(kind=OrganisationKind.SOCIAL_CENTRE, town="Dijon")
    ContactFactory(last_name="Teacher", organisation=school)
    ContactFactory(last_name="Animator", organisation=centre)
    ContactFactory(last_name="Alone", organisation=None)
    assert found(ContactFilters(kind=OrganisationKind.SCHOOL)) == ["Teacher"]
    assert found(ContactFilters(town="QUÉTIGNY")) == ["Teacher"]
    assert found(ContactFilters(organisation_id=centre.id)) == ["Animator"]


def test_sorting_by_name_organisation_and_town(app):
    a = OrganisationFactory(name="Alpha", town="Zeta")
    b = OrganisationFactory(name="Beta", town="Ain")
    ContactFactory(last_name="Écrivain", first_name="Anne", organisation=b)
    ContactFactory(last_name="dupont", organisation=a)
    ContactFactory(last_name="Zidane", organisation=None)
    assert found(ContactFilters(sort="name")) == ["dupont", "Écrivain", "Zidane"]
    assert found(ContactFilters(sort="-name")) == ["Zidane", "Écrivain", "dupont"]
    # Contacts without an organisation come last either way.
    assert found(ContactFilters(sort="organisation")) == ["dupont", "Écrivain", "Zidane"]
    assert found(ContactFilters(sort="-organisation")) == ["Écrivain", "dupont", "Zidane"]
    assert found(ContactFilters(sort="town")) == ["Écrivain", "dupont", "Zidane"]


def test_sorting_by_last_change(app, organiser):
    first = ContactFactory(last_name="First")
    ContactFactory(last_name="Second")
    services.update_contact(
        first, ContactData(last_name="First", email=first.email), organiser, datetime.now(UTC)
    )
    db.session.commit()
    assert found(ContactFilters(sort="-updated")) == ["First", "Second"]
    assert found(ContactFilters(sort="updated")) == ["Second", "First"]


@pytest.mark.parametrize(
    ("text", "civility"),
    [
        ("Mme", Civility.MS),
        ("madame", Civility.MS),
        ("Ms", Civility.MS),
        ("mme", Civility.MS),
        ("M.", Civility.MR),
        ("monsieur", Civility.MR),
        ("MR", Civility.MR),
        ("m", Civility.MR),
        ("Dr", None),
    ],
)
def test_civilities_are_read_from_french_english_and_stored_spellings(app, text, civility):
    assert ChoiceReader().civility(text) is civility


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Centre social", OrganisationKind.SOCIAL_CENTRE),
        ("CENTRE_SOCIAL", OrganisationKind.SOCIAL_CENTRE),
        ("Social centre", OrganisationKind.SOCIAL_CENTRE),
        ("Établissement scolaire", OrganisationKind.SCHOOL),
        ("ccas", OrganisationKind.CCAS),
        ("Caisse des écoles", OrganisationKind.SCHOOL_FUND),
        ("Service de l'État", OrganisationKind.STATE_SERVICE),
        ("State service", OrganisationKind.STATE_SERVICE),
        ("collectivite", OrganisationKind.LOCAL_AUTHORITY),
        ("Fédération", OrganisationKind.FEDERATION),
        ("autre", OrganisationKind.OTHER),
        ("Club de foot", None),
    ],
)
def test_organisation_kinds_are_read_from_labels_and_stored_values(app, text, kind):
    assert ChoiceReader().kind(text) is kind
