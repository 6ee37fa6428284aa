"""Adding many members at once: every result of a directory search (by organisation kind,
say), and a CSV file read with the contacts import's rules."""

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Contact,
    ContactImport,
    Group,
    GroupMembership,
    GroupRole,
    Invitation,
    Organisation,
    OrganisationKind,
    OutboxMessage,
)
from tests.directory_helpers import csv_file
from tests.factories import ContactFactory, MeetingFactory, OrganisationFactory, UserFactory
from tests.group_helpers import GroupFactory, add_member

HEADER = ["Nom", "Prénom", "Courriel", "Structure", "Commune", "Type de structure"]


def members_of(group: Group) -> dict[int, GroupMembership]:
    statement = select(GroupMembership).where(GroupMembership.group_id == group.id)
    return {membership.contact_id: membership for membership in db.session.scalars(statement)}


def row_count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def contact_by_email(email: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(Contact.email == email))


def upload(client, group: Group, data: bytes, filename: str = "membres.csv"):
    return client.post(
        f"/groups/{group.id}/members/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm_url(page: str) -> str:
    match = re.search(r'action="(/groups/\d+/members/import/\d+)"', page)
    assert match, "the preview offers no confirmation"
    return match.group(1)


def confirm(client, page: str, **data):
    fields = {"role": "member", "joined_on": "2025-03-01", **data}
    return client.post(confirm_url(page), data=fields)


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def own_group(organiser):
    return GroupFactory(name="Centres sociaux", organisers=[organiser])


@pytest.fixture
def directory():
    """Two social centres' people and a school's."""
    tempo = OrganisationFactory(name="Le Tempo", kind=OrganisationKind.SOCIAL_CENTRE)
    grésilles = OrganisationFactory(name="Grésilles", kind=OrganisationKind.SOCIAL_CENTRE)
    school = OrganisationFactory(name="Collège Rameau", kind=OrganisationKind.SCHOOL)
    return {
        "hélène": ContactFactory(last_name="Dupont", organisation=tempo),
        "léa": ContactFactory(last_name="Durand", organisation=grésilles),
        "marc": ContactFactory(last_name="Martin", organisation=school),
    }


# Every result of a search


def test_kind_filter_lists_only_that_kind(as_organiser, own_group, directory):
    page = as_organiser.get(f"/groups/{own_group.id}/members/add?kind=centre_social").text

    assert "Dupont" in page and "Durand" in page and "Martin" not in page
    assert 'option selected value="centre_social"' in page or (
        'value="centre_social" selected' in page
    )
    assert f"/groups/{own_group.id}/members/add-all?kind=centre_social" in page


def test_add_all_confirms_the_count_then_adds_every_result(
    english, login, organiser, own_group, directory
):
    login(organiser)
    add_member(own_group, directory["léa"], date(2024, 1, 1), role=GroupRole.LEAD)
    url = f"/groups/{own_group.id}/members/add-all?kind=centre_social"

    page = english.get(url).text
    assert "2 people match this search." in page
    assert "1 is already a member and stays as they are." in page
    assert "1 person will join the group." in page
    assert 'name="expected" type="hidden" value="2"' in page

    response = english.post(
        url, data={"expected": "2", "role": "member", "joined_on": "2025-02-01"}
    )

    assert response.status_code == 302
    rows = members_of(own_group)
    assert set(rows) == {directory["hélène"].id, directory["léa"].id}
    assert rows[directory["hélène"].id].joined_on == date(2025, 2, 1)
    assert rows[directory["léa"].id].role is GroupRole.LEAD
    assert rows[directory["léa"].id].joined_on == date(2024, 1, 1)
    shown = english.get(f"/groups/{own_group.id}").text
    assert "1 person added to the group. 1 was already a member." in shown


def test_add_all_asks_again_when_the_results_changed(
    english, login, organiser, own_group, directory
):
    login(organiser)
    url = f"/groups/{own_group.id}/members/add-all?kind=centre_social"
    ContactFactory(organisation=directory["hélène"].organisation)

    response = english.post(
        url, data={"expected": "2", "role": "member", "joined_on": "2025-02-01"}
    )

    assert response.status_code == 200
    assert "The directory has changed since" in response.text
    assert 'value="3"' in response.text
    assert members_of(own_group) == {}


# A CSV file


def members_file(*rows: list[str]) -> bytes:
    return csv_file([HEADER, *rows])


def test_csv_preview_writes_nothing_then_confirm_makes_everyone_a_member(
    english, login, organiser, own_group, directory
):
    login(organiser)
    hélène = directory["hélène"]
    data = members_file(
        ["Dupont", "Hélène", hélène.email, "", "", ""],
        ["Bernard", "Zoé", "zoe@example.org", "Centre social Nord", "Dijon", "centre social"],
    )

    preview = upload(english, own_group, data)

    assert preview.status_code == 200
    assert "2 people will join the group." in preview.text
    assert "1 contact to create" in preview.text
    assert "1 organisation to create" in preview.text
    assert contact_by_email("zoe@example.org") is None
    assert members_of(own_group) == {}
    assert row_count(ContactImport) == 1

    response = confirm(english, preview.text, role="lead")

    assert response.status_code == 302
    zoé = contact_by_email("zoe@example.org")
    assert zoé is not None and zoé.organisation.kind is OrganisationKind.SOCIAL_CENTRE
    assert zoé.created_by_id == organiser.id
    rows = members_of(own_group)
    assert set(rows) == {hélène.id, zoé.id}
    assert {row.role for row in rows.values()} == {GroupRole.LEAD}
    assert {row.joined_on for row in rows.values()} == {date(2025, 3, 1)}
    assert row_count(ContactImport) == 0
    shown = english.get(f"/groups/{own_group.id}").text
    assert "Import done: 1 contact created, " in shown
    assert "2 people added to the group." in shown


def test_existing_contacts_are_updated_as_the_contacts_import_does(
    english, login, organiser, own_group, directory
):
    login(organiser)
    léa = directory["léa"]
    data = members_file(["Durand", "Léa-Marie", léa.email, "", "", ""])

    preview = upload(english, own_group, data)
    assert "1 contact to update" in preview.text
    confirm(english, preview.text)

    db.session.expire_all()
    assert léa.first_name == "Léa-Marie"
    assert léa.organisation.name == "Grésilles"
    assert set(members_of(own_group)) == {léa.id}


def test_a_bad_line_is_reported_and_nothing_is_written(
    english, login, organiser, own_group, directory
):
    login(organiser)
    before = (row_count(Contact), row_count(Organisation))
    data = members_file(
        ["Bernard", "Zoé", "zoe@example.org", "Centre social Nord", "Dijon", ""],
        ["Petit", "Jean", "pas une adresse", "", "", ""],
    )

    preview = upload(english, own_group, data)

    assert "1 line rejected" in preview.text
    assert "invalid e-mail address “pas une adresse”" in preview.text
    assert "/members/import/" not in preview.text
    assert (row_count(Contact), row_count(Organisation)) == before
    assert row_count(ContactImport) == 0
    assert members_of(own_group) == {}


def test_current_members_in_the_file_stay_as_they_are(
    english, login, organiser, own_group, directory
):
    login(organiser)
    hélène, léa = directory["hélène"], directory["léa"]
    add_member(own_group, hélène, date(2023, 9, 1), role=GroupRole.LEAD)
    data = members_file(
        ["Dupont", "", hélène.email, "", "", ""], ["Durand", "", léa.email, "", "", ""]
    )

    preview = upload(english, own_group, data)
    assert "1 person will join the group." in preview.text
    assert "1 is already a member and stays as they are." in preview.text
    # Nothing to create or update in the directory: the file is still worth confirming.
    confirm(english, preview.text)

    rows = members_of(own_group)
    assert rows[hélène.id].role is GroupRole.LEAD
    assert rows[hélène.id].joined_on == date(2023, 9, 1)
    assert rows[léa.id].joined_on == date(2025, 3, 1)
    assert len(rows) == 2
    shown = english.get(f"/groups/{own_group.id}").text
    assert "1 person added to the group. 1 was already a member." in shown


def test_imported_members_are_invited_to_upcoming_meetings_when_asked(
    english, login, organiser, own_group
):
    login(organiser)
    upcoming = MeetingFactory(organisers=[organiser], groups=[own_group])
    data = members_file(["Bernard", "Zoé", "zoe@example.org", "", "", ""])

    preview = upload(english, own_group, data)
    assert 'id="invite_upcoming"' in preview.text and "checked" in preview.text
    confirm(english, preview.text, joined_on=date.today().isoformat(), invite_upcoming="y")

    zoé = contact_by_email("zoe@example.org")
    invited = db.session.scalars(
        select(Invitation.contact_id).where(Invitation.meeting_id == upcoming.id)
    )
    assert list(invited) == [zoé.id]
    assert row_count(OutboxMessage) == 1


def test_unticked_box_invites_nobody(english, login, organiser, own_group):
    login(organiser)
    MeetingFactory(organisers=[organiser], groups=[own_group])
    preview = upload(
        english, own_group, members_file(["Bernard", "", "zoe@example.org", "", "", ""])
    )

    confirm(english, preview.text, joined_on=date.today().isoformat())

    assert len(members_of(own_group)) == 1
    assert row_count(Invitation) == row_count(OutboxMessage) == 0


def test_a_bad_date_shows_the_preview_again_and_keeps_the_upload(
    english, login, organiser, own_group
):
    login(organiser)
    preview = upload(
        english, own_group, members_file(["Bernard", "", "zoe@example.org", "", "", ""])
    )

    response = confirm(english, preview.text, joined_on="pas une date")

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    assert row_count(ContactImport) == 1
    assert contact_by_email("zoe@example.org") is None
    assert confirm(english, response.text).status_code == 302
    assert len(members_of(own_group)) == 1


def test_confirming_twice_adds_once(english, login, organiser, own_group):
    login(organiser)
    preview = upload(
        english, own_group, members_file(["Bernard", "", "zoe@example.org", "", "", ""])
    )
    confirm(english, preview.text)

    again = confirm(english, preview.text)

    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/groups/{own_group.id}/members/import")
    assert row_count(Contact) == 1 and len(members_of(own_group)) == 1


def test_an_unreadable_file_is_refused_next_to_the_field(english, login, organiser, own_group):
    login(organiser)
    response = upload(english, own_group, b"courriel;prenom\r\nzoe@example.org;Zoe\r\n")

    assert response.status_code == 200
    assert "no last name column" in response.text
    assert row_count(ContactImport) == 0


def test_a_file_over_the_size_limit_is_refused(app, as_organiser, own_group):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    data = members_file(*[["Nom", "", f"p{index}@example.org", "", "", ""] for index in range(80)])

    response = upload(as_organiser, own_group, data)

    assert response.status_code == 413
    assert row_count(Contact) == row_count(ContactImport) == 0


# Permissions and reading pages


def test_other_organisers_cannot_add_many(client, login, own_group, directory):
    login(UserFactory())
    base = f"/groups/{own_group.id}/members"
    data = members_file(["Bernard", "", "zoe@example.org", "", "", ""])

    assert client.get(f"{base}/add-all?kind=centre_social").status_code == 403
    assert client.post(f"{base}/add-all", data={"expected": "3"}).status_code == 403
    assert client.get(f"{base}/import").status_code == 403
    assert upload(client, own_group, data).status_code == 403
    assert client.post(f"{base}/import/1").status_code == 403
    assert members_of(own_group) == {} and row_count(Contact) == 3


def test_administrators_may_import_into_any_group(english, login, admin, own_group):
    login(admin)
    preview = upload(
        english, own_group, members_file(["Bernard", "", "zoe@example.org", "", "", ""])
    )
    confirm(english, preview.text)
    assert len(members_of(own_group)) == 1


def test_anonymous_visitors_are_sent_to_login(client, own_group):
    base = f"/groups/{own_group.id}/members"
    for url in (f"{base}/add-all", f"{base}/import"):
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302
            assert "/login" in response.headers["Location"]


def test_an_archived_group_is_refused_with_a_message(english, login, organiser, directory):
    login(organiser)
    group = GroupFactory(organisers=[organiser], archived_at=db.func.now())
    base = f"/groups/{group.id}/members"

    for response in (
        english.get(f"{base}/add-all?kind=centre_social"),
        english.get(f"{base}/import"),
        upload(english, group, members_file(["Bernard", "", "zoe@example.org", "", "", ""])),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/groups/{group.id}")
    page = english.get(f"/groups/{group.id}").text
    assert "This group is archived: its members cannot change." in page
    assert members_of(group) == {} and row_count(ContactImport) == 0


def test_pages_read_with_get_change_nothing(as_organiser, own_group, directory):
    base = f"/groups/{own_group.id}/members"
    for url in (f"{base}/add-all?kind=centre_social", f"{base}/add-all", f"{base}/import"):
        assert as_organiser.get(url).status_code == 200, url
    assert as_organiser.get(f"{base}/import/1").status_code == 405
    assert members_of(own_group) == {}
    assert row_count(ContactImport) == 0


def test_add_all_says_so_when_everyone_is_a_member_already(
    english, login, organiser, own_group, directory
):
    login(organiser)
    for person in ("hélène", "léa"):
        add_member(own_group, directory[person], date(2024, 1, 1))

    page = english.get(f"/groups/{own_group.id}/members/add-all?kind=centre_social").text

    assert "They are all members already." in page
    assert 'type="submit"' not in page.split("<main", 1)[1].split("</main>", 1)[0]
