"""Inviting people: searching the directory, selecting all results, pasting addresses and
creating the unknown ones as contacts; never twice the same person."""

import re

import pytest
from sqlalchemy import select

from app.contacts.services import ContactFilters
from app.extensions import db
from app.invitations import services
from app.meetings.services import MeetingStateError
from app.models import Civility, Contact, Invitation, MeetingStatus, OrganisationKind
from tests.factories import ContactFactory, OrganisationFactory
from tests.invitations_organiser_helpers import (
    SEED_NOW,
    directory,
    invitation_count,
    invite_all,
    seed_meeting,
    upcoming_meeting,
)


def invited_ids(meeting) -> set[int]:
    return set(
        db.session.scalars(select(Invitation.contact_id).where(Invitation.meeting_id == meeting.id))
    )


def checkbox_ids(page: str) -> set[int]:
    return {int(value) for value in re.findall(r'name="contacts" value="(\d+)"', page)}


# The directory search


def rows(meeting, **filters):
    return db.session.execute(
        services.invitable_contacts_query(meeting, ContactFilters(**filters))
    ).all()


def test_search_finds_contacts_by_name_and_organisation_ignoring_accents(app):
    meeting = seed_meeting()
    contacts = directory(6)
    hélène = ContactFactory(first_name="Hélène", last_name="Dupont", organisation=None)

    assert [row.Contact for row in rows(meeting, query="helene")] == [hélène]
    agora = {row.Contact for row in rows(meeting, query="AGORA")}
    assert agora == {contacts[0], contacts[3]}


def test_each_filter_narrows_the_directory(app):
    meeting = seed_meeting()
    contacts = directory(6)
    school = contacts[1].organisation

    assert {row.Contact for row in rows(meeting, organisation_id=school.id)} == {
        contacts[1],
        contacts[4],
    }
    assert {row.Contact for row in rows(meeting, kind=OrganisationKind.ASSOCIATION)} == {
        contacts[2],
        contacts[5],
    }
    assert {row.Contact for row in rows(meeting, town="bezons")} == {contacts[1], contacts[4]}
    assert len(rows(meeting)) == 6


def test_search_marks_who_is_already_invited(app):
    meeting = seed_meeting()
    contacts = directory(3)
    invite_all(meeting, contacts[:1])
    marks = {row.Contact.id: row.invited for row in rows(meeting)}
    assert marks == {contacts[0].id: True, contacts[1].id: False, contacts[2].id: False}


def test_inviting_twice_adds_nobody_twice(app, organiser):
    meeting = seed_meeting()
    contacts = directory(3)
    ids = [contact.id for contact in contacts]

    assert services.invite_contacts(meeting, ids[:2], organiser, SEED_NOW) == (2, 0)
    assert services.invite_contacts(meeting, ids, organiser, SEED_NOW) == (1, 2)
    assert services.invite_contacts(meeting, ids + ids, organiser, SEED_NOW) == (0, 3)
    db.session.commit()

    assert invitation_count(meeting) == 3
    invitation = db.session.scalars(select(Invitation)).first()
    assert invitation.created_by_id == organiser.id
    assert invitation.invited_at is None


def test_inviting_ignores_contacts_deleted_meanwhile(app, organiser):
    meeting = seed_meeting()
    (contact,) = directory(1)
    assert services.invite_contacts(meeting, [contact.id, 999999], organiser, SEED_NOW) == (1, 0)


def test_invite_all_matching_takes_every_page_of_the_search(app, organiser):
    meeting = seed_meeting()
    contacts = directory(9)
    invite_all(meeting, contacts[:1])
    added, already = services.invite_all_matching(
        meeting, ContactFilters(town="Argenteuil"), organiser, SEED_NOW
    )
    db.session.commit()
    in_argenteuil = {c.id for c in contacts if c.organisation.town == "Argenteuil"}
    assert (added, already) == (len(in_argenteuil) - 1, 1)
    assert invited_ids(meeting) == in_argenteuil


def test_a_draft_meeting_can_have_its_list_prepared_but_a_cancelled_one_cannot(app, organiser):
    draft = seed_meeting(status=MeetingStatus.DRAFT)
    cancelled = seed_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Grève")
    (contact,) = directory(1)
    assert services.invite_contacts(draft, [contact.id], organiser, SEED_NOW) == (1, 0)
    with pytest.raises(MeetingStateError):
        services.invite_contacts(cancelled, [contact.id], organiser, SEED_NOW)


# Pasted addresses


def test_parse_addresses_splits_on_every_separator_and_reads_names(app):
    known = ContactFactory(email="helene.dupont@example.org")
    text = (
        "HELENE.DUPONT@example.org, paul.martin@example.org;jeanne@example.org\n"
        "\n  Claire Morel <claire.morel@example.org>; "
        '"Durand, Luc" <luc.durand@example.org>  x@example.org\n'
        "pas-une-adresse, HELENE.dupont@EXAMPLE.org"
    )
    parsed = services.parse_addresses(text)
    assert parsed.known == [known]
    assert [address.email for address in parsed.unknown] == [
        "paul.martin@example.org",
        "jeanne@example.org",
        "claire.morel@example.org",
        "luc.durand@example.org",
        "x@example.org",
    ]
    names = {address.email: (address.first_name, address.last_name) for address in parsed.unknown}
    assert names["paul.martin@example.org"] == ("Paul", "Martin")
    assert names["claire.morel@example.org"] == ("Claire", "Morel")
    assert names["luc.durand@example.org"] == ("Luc", "Durand")
    assert names["jeanne@example.org"] == ("", "")
    assert parsed.invalid == ["pas-une-adresse"]


def test_parse_addresses_reads_outlook_lists_with_commas_in_names(app):
    parsed = services.parse_addresses(
        "Dupont, Hélène <h.dupont@example.org>; MARTIN Paul <pm@example.org>"
    )
    assert parsed.invalid == []
    assert [(a.email, a.first_name, a.last_name) for a in parsed.unknown] == [
        ("h.dupont@example.org", "Hélène", "Dupont"),
        ("pm@example.org", "Paul", "Martin"),
    ]


def test_parse_addresses_reads_spreadsheet_rows_pasted_whole(app):
    parsed = services.parse_addresses(
        "Mme\tHélène\tDupont\thd@example.org\nM.\tPaul\tMARTIN\tpm@example.org\n"
        "a@example.org b@example.org\tnope"
    )
    assert [(a.email, a.first_name, a.last_name) for a in parsed.unknown] == [
        ("hd@example.org", "Hélène", "Dupont"),
        ("pm@example.org", "Paul", "Martin"),
        ("a@example.org", "", ""),
        ("b@example.org", "", ""),
    ]
    assert parsed.invalid == ["nope"]


def test_parse_addresses_unpacks_as_three_lists(app):
    known, unknown, invalid = services.parse_addresses("")
    assert (known, unknown, invalid) == ([], [], [])


def test_create_contacts_and_invite_uses_the_directory_rules(app, organiser):
    meeting = seed_meeting()
    home = OrganisationFactory(name="Collège Camus")
    rows = [
        services.NewContactRow(
            email="Paul.Martin@example.org",
            first_name="Paul",
            last_name="Martin",
            civility=Civility.MR,
            organisation_id=home.id,
        ),
        services.NewContactRow(email="jeanne@example.org", last_name="Morel"),
    ]
    created, added = services.create_contacts_and_invite(meeting, rows, organiser, SEED_NOW)
    db.session.commit()
    assert added == 2
    assert [contact.email for contact in created] == [
        "paul.martin@example.org",
        "jeanne@example.org",
    ]
    assert created[0].organisation_id == home.id
    assert created[0].created_by_id == organiser.id
    assert invited_ids(meeting) == {contact.id for contact in created}


def test_create_contacts_refuses_every_bad_row_and_says_which(app, organiser):
    meeting = seed_meeting()
    ContactFactory(email="taken@example.org")
    rows = [
        services.NewContactRow(email="ok@example.org", last_name="Bon"),
        services.NewContactRow(email="nobody@example.org", last_name="  "),
        services.NewContactRow(email="taken@example.org", last_name="Pris"),
    ]
    with pytest.raises(services.ContactRowsError) as caught:
        services.create_contacts_and_invite(meeting, rows, organiser, SEED_NOW)
    assert {index: error.field for index, error in caught.value.errors.items()} == {
        1: "last_name",
        2: "email",
    }


def test_guess_name_from_addresses_and_display_names():
    assert services.guess_name("jean-marc.dupont@example.org") == ("Jean-Marc", "Dupont")
    assert services.guess_name("helene_martin@example.org") == ("Helene", "Martin")
    assert services.guess_name("h.dupont@example.org") == ("", "Dupont")
    assert services.guess_name("contact@example.org") == ("", "")
    assert services.guess_name("jd2@example.org") == ("", "")
    assert services.guess_name("x@example.org", "DUPONT Hélène") == ("Hélène", "Dupont")
    assert services.guess_name("x@example.org", "Hélène Dupont") == ("Hélène", "Dupont")


# The pages


def test_invite_page_lists_the_directory_with_checkboxes_but_not_for_those_invited(
    as_organiser, organiser
):
    meeting = upcoming_meeting([organiser])
    contacts = directory(4)
    invite_all(meeting, contacts[:1])
    response = as_organiser.get(f"/meetings/{meeting.id}/invitations/invite")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert checkbox_ids(page) == {contact.id for contact in contacts[1:]}
    assert 'class="already-invited"' in page


def test_invite_page_filters_by_organisation(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    contacts = directory(6)
    school = contacts[1].organisation
    page = as_organiser.get(
        f"/meetings/{meeting.id}/invitations/invite?organisation={school.id}"
    ).get_data(as_text=True)
    assert checkbox_ids(page) == {contacts[1].id, contacts[4].id}


def test_inviting_the_selected_people(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    contacts = directory(4)
    response = as_organiser.post(
        f"/meetings/{meeting.id}/invitations/invite",
        data={"contacts": [str(contacts[0].id), str(contacts[2].id)], "invite_selected": "1"},
    )
    assert response.status_code == 302
    assert invited_ids(meeting) == {contacts[0].id, contacts[2].id}


def test_inviting_with_nothing_selected_says_so(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    directory(2)
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.post(
        f"/meetings/{meeting.id}/invitations/invite", data={"invite_selected": "1"}
    )
    assert response.status_code == 200
    assert "Select at least one person" in response.get_data(as_text=True)
    assert invitation_count(meeting) == 0


def test_inviting_everyone_the_search_finds_keeps_the_search(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    contacts = directory(6)
    response = as_organiser.post(
        f"/meetings/{meeting.id}/invitations/invite",
        data={"invite_all": "1", "town": "bezons"},
    )
    assert response.status_code == 302
    assert "town=bezons" in response.location
    assert invited_ids(meeting) == {contacts[1].id, contacts[4].id}


def test_pasting_invites_known_people_and_offers_to_create_the_others(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    known = ContactFactory(email="helene.dupont@example.org")
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.post(
        f"/meetings/{meeting.id}/invitations/paste",
        data={
            "addresses": "Helene.Dupont@example.org\nPaul Martin <paul.martin@example.org>; nope"
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert invited_ids(meeting) == {known.id}
    assert 'value="paul.martin@example.org"' in page
    assert 'value="Paul"' in page and 'value="Martin"' in page
    assert "nope" in page
    assert f'action="/meetings/{meeting.id}/invitations/new-contacts"' in page


def test_pasting_only_known_addresses_goes_to_the_answers(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    known = ContactFactory(email="a@example.org")
    response = as_organiser.post(
        f"/meetings/{meeting.id}/invitations/paste", data={"addresses": "A@example.org"}
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{meeting.id}/invitations/")
    assert invited_ids(meeting) == {known.id}


def test_pasting_only_invalid_entries_shows_them_again(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    response = as_organiser.post(
        f"/meetings/{meeting.id}/invitations/paste", data={"addresses": "nope, a@b"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'aria-invalid="true"' in page
    assert "nope\na@b</textarea>" in page


def new_contact_rows(*rows: dict) -> dict:
    """The confirmation form's fields as the browser posts them."""
    data = {"organisation_id": ""}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"rows-{index}-{key}"] = value
    return data


def test_confirming_new_contacts_creates_and_invites_those_ticked(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    home = OrganisationFactory()
    data = new_contact_rows(
        {
            "include": "y",
            "email": "paul.martin@example.org",
            "first_name": "Paul",
            "last_name": "Martin",
            "civility": "m",
        },
        {"email": "skip@example.org", "last_name": ""},
    )
    data["organisation_id"] = str(home.id)
    response = as_organiser.post(f"/meetings/{meeting.id}/invitations/new-contacts", data=data)
    assert response.status_code == 302
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.email, contact.civility, contact.organisation_id) == (
        "paul.martin@example.org",
        Civility.MR,
        home.id,
    )
    assert invited_ids(meeting) == {contact.id}


def test_confirming_new_contacts_shows_errors_next_to_the_row_and_creates_nothing(
    as_organiser, organiser
):
    meeting = upcoming_meeting([organiser])
    ContactFactory(email="taken@example.org")
    path = f"/meetings/{meeting.id}/invitations/new-contacts"
    fine = {"include": "y", "email": "fine@example.org", "last_name": "Bon", "civility": ""}

    nameless = {"include": "y", "email": "nobody@example.org", "last_name": "", "civility": ""}
    page = as_organiser.post(path, data=new_contact_rows(fine, nameless)).get_data(as_text=True)
    assert 'id="rows-1-last_name-error"' in page

    taken = {"include": "y", "email": "taken@example.org", "last_name": "Pris", "civility": ""}
    response = as_organiser.post(path, data=new_contact_rows(fine, taken))
    assert response.status_code == 200
    assert 'id="rows-1-email-error"' in response.get_data(as_text=True)
    assert db.session.scalars(select(Contact.email)).all() == ["taken@example.org"]
    assert invitation_count(meeting) == 0


def test_removing_someone_not_yet_invited(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    (invitation,) = invite_all(meeting, directory(1))
    path = f"/meetings/{meeting.id}/invitations/{invitation.id}/remove"
    assert as_organiser.get(path).status_code == 200
    assert as_organiser.post(path).status_code == 302
    assert invitation_count(meeting) == 0


def test_someone_already_invited_cannot_be_removed(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    response = as_organiser.post(f"/meetings/{meeting.id}/invitations/{invitation.id}/remove")
    assert response.status_code == 302
    assert invitation_count(meeting) == 1


def test_an_invitation_of_another_meeting_is_not_found(as_organiser, organiser):
    meeting, other = upcoming_meeting([organiser]), upcoming_meeting([organiser])
    (invitation,) = invite_all(other, directory(1))
    response = as_organiser.post(f"/meetings/{meeting.id}/invitations/{invitation.id}/remove")
    assert response.status_code == 404
    assert invitation_count(other) == 1
