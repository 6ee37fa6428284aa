"""Working groups: membership over time, the list, the group page, the forms, adding members
from the directory or by pasted addresses, permissions and the page's query count."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.contacts.normalise import FieldError
from app.extensions import db
from app.groups import services
from app.models import Contact, Group, GroupMembership, GroupRole
from tests.factories import ContactFactory, MeetingFactory, OrganisationFactory, UserFactory
from tests.group_helpers import GroupFactory, add_member, filled_group

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def marked_invalid(page: str, field: str) -> bool:
    return any(
        f'id="{field}"' in tag and 'aria-invalid="true"' in tag
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    )


def memberships_of(group: Group) -> list[GroupMembership]:
    return list(
        db.session.scalars(
            select(GroupMembership)
            .where(GroupMembership.group_id == group.id)
            .order_by(GroupMembership.id)
        )
    )


def row_count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def own_group(organiser):
    return GroupFactory(name="Centres sociaux", organisers=[organiser])


# Membership over time


def test_member_on_a_day_follows_joining_leaving_and_rejoining(app):
    group = GroupFactory()
    contact = ContactFactory()
    services.add_members(group, [contact.id], GroupRole.MEMBER, date(2024, 1, 10))
    first = memberships_of(group)[0]
    services.leave_group(first, date(2024, 3, 31))
    added, already = services.add_members(group, [contact.id], GroupRole.LEAD, date(2024, 9, 1))
    db.session.commit()

    assert (added, already) == (1, 0)
    rows = memberships_of(group)
    assert [(row.joined_on, row.left_on, row.role) for row in rows] == [
        (date(2024, 1, 10), date(2024, 3, 31), GroupRole.MEMBER),
        (date(2024, 9, 1), None, GroupRole.LEAD),
    ]
    member_on = {
        day: services.is_member_on(group, contact, day)
        for day in (
            date(2024, 1, 9),
            date(2024, 1, 10),
            date(2024, 3, 31),
            date(2024, 4, 1),
            date(2024, 8, 31),
            date(2024, 9, 1),
            date(2030, 1, 1),
        )
    }
    assert member_on == {
        date(2024, 1, 9): False,
        date(2024, 1, 10): True,
        date(2024, 3, 31): True,  # the day they left is their last day
        date(2024, 4, 1): False,
        date(2024, 8, 31): False,
        date(2024, 9, 1): True,
        date(2030, 1, 1): True,
    }
    assert [m.role for m in services.current_members(group, date(2024, 2, 1))] == [GroupRole.MEMBER]
    assert services.current_members(group, date(2024, 5, 1)) == []


def test_current_members_are_ordered_by_organisation_then_name(app):
    group = GroupFactory()
    zebra = OrganisationFactory(name="Zèbre")
    abeille = OrganisationFactory(name="Abeille")
    late = ContactFactory(last_name="Alpha", organisation=zebra)
    early = ContactFactory(last_name="Zulu", organisation=abeille)
    alone = ContactFactory(last_name="Beta", organisation=None)
    gone = ContactFactory(last_name="Gamma", organisation=abeille)
    for contact in (late, early, alone):
        add_member(group, contact, date(2024, 1, 1))
    add_member(group, gone, date(2024, 1, 1), left_on=date(2024, 2, 1))

    members = services.current_members(group, date(2024, 6, 1))

    assert [m.contact.last_name for m in members] == ["Zulu", "Alpha", "Beta"]
    assert services.member_counts([group.id], date(2024, 6, 1)) == {group.id: 3}
    assert services.member_counts([group.id], date(2024, 1, 15)) == {group.id: 4}


def test_adding_a_current_member_again_changes_nothing(app):
    group = GroupFactory()
    contact = ContactFactory()
    services.add_members(group, [contact.id], GroupRole.MEMBER, date(2024, 1, 1))

    added, already = services.add_members(group, [contact.id], GroupRole.LEAD, date(2024, 2, 1))

    assert (added, already) == (0, 1)
    assert [(m.role, m.joined_on) for m in memberships_of(group)] == [
        (GroupRole.MEMBER, date(2024, 1, 1))
    ]


def test_pasted_addresses_add_known_contacts_and_report_the_others(app):
    group = GroupFactory()
    known = ContactFactory(email="helene@example.org")
    already = ContactFactory(email="lea@example.org")
    add_member(group, already, date(2024, 1, 1))

    result = services.add_members_by_email(
        group,
        "HELENE@example.org\nlea@example.org\nnouveau@example.org\nnot-an-address\n\n",
        GroupRole.MEMBER,
        date(2025, 1, 6),
    )

    assert result == services.PastedMembers(1, 1, ["nouveau@example.org"], ["not-an-address"])
    assert services.is_member_on(group, known, date(2025, 1, 6))
    assert db.session.scalar(select(Contact).where(Contact.email == "nouveau@example.org")) is None


def test_leaving_before_joining_is_refused(app):
    group = GroupFactory()
    membership = add_member(group, ContactFactory(), date(2024, 5, 1))

    with pytest.raises(FieldError) as error:
        services.leave_group(membership, date(2024, 4, 30))

    assert error.value.field == "left_on"
    assert membership.left_on is None


def test_archived_group_takes_no_new_members(app):
    group = GroupFactory(archived_at=NOW)

    with pytest.raises(services.GroupStateError):
        services.add_members(group, [ContactFactory().id], GroupRole.MEMBER, date(2024, 1, 1))


def test_creator_is_always_an_organiser(app, organiser):
    colleague = UserFactory()
    leader = OrganisationFactory(name="École et Famille")
    data = services.GroupData(
        name="  Personnels   scolaires ",
        lead_organisation_ids=[leader.id],
        organiser_ids=[colleague.id],
    )

    group = services.create_group(organiser, data, NOW)

    assert group.name == "Personnels scolaires"
    assert group.search_key == "personnels scolaires"
    assert {user.id for user in group.organisers} == {organiser.id, colleague.id}
    assert group.lead_organisations == [leader]


# Permissions


def test_anonymous_visitors_are_sent_to_login(client, organiser, own_group):
    for url in ("/groups/", f"/groups/{own_group.id}", "/groups/new"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    response = client.post(f"/groups/{own_group.id}/archive")
    assert response.status_code == 302
    assert db.session.get(Group, own_group.id).archived_at is None


def test_other_organisers_read_but_cannot_change(client, login, own_group):
    contact = ContactFactory()
    membership = add_member(own_group, contact, date(2024, 1, 1))
    login(UserFactory(name="Autre Organisatrice"))

    assert client.get("/groups/").status_code == 200
    page = client.get(f"/groups/{own_group.id}")
    assert page.status_code == 200
    assert f"/groups/{own_group.id}/edit" not in page.text

    base = f"/groups/{own_group.id}"
    member = f"{base}/members/{membership.id}"
    for url in (
        f"{base}/edit",
        f"{base}/archive",
        f"{base}/unarchive",
        f"{base}/members/add",
        f"{base}/members/paste",
        f"{member}/role",
        f"{member}/leave",
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={"name": "Piraté"}).status_code == 403, url
    db.session.expire_all()
    assert own_group.name == "Centres sociaux"
    assert membership.left_on is None


def test_administrators_manage_every_group(client, login, admin, own_group):
    login(admin)

    response = client.post(
        f"/groups/{own_group.id}/edit",
        data={"name": "Centres sociaux du Val d'Oise", "organisers": [admin.id]},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert own_group.name == "Centres sociaux du Val d'Oise"
    assert [user.id for user in own_group.organisers] == [admin.id]


def test_membership_of_another_group_is_not_found(as_organiser, organiser, own_group):
    other = GroupFactory(organisers=[organiser])
    membership = add_member(other, ContactFactory(), date(2024, 1, 1))

    response = as_organiser.get(f"/groups/{own_group.id}/members/{membership.id}/leave")

    assert response.status_code == 404


# The list


def test_list_searches_names_without_accents_and_filters_archived(as_organiser, english):
    leader = OrganisationFactory(name="Fédération des centres sociaux")
    active = GroupFactory(name="École et Famille", lead_organisations=[leader])
    GroupFactory(name="Centres sociaux")
    archived = GroupFactory(name="Ancien groupe école", archived_at=NOW)
    add_member(active, ContactFactory(), date(2024, 1, 1))
    add_member(active, ContactFactory(), date(2024, 1, 1), left_on=date(2024, 2, 1))

    found = as_organiser.get("/groups/?q=ecole").text
    assert "École et Famille" in found
    assert "Fédération des centres sociaux" in found
    assert "Centres sociaux<" not in found
    assert "Ancien groupe" not in found
    assert re.search(r'class="numeric">1</td>', found)

    archived_page = as_organiser.get("/groups/?state=archived").text
    assert "Ancien groupe école" in archived_page
    assert "École et Famille" not in archived_page
    assert str(archived.id) in archived_page
    every = as_organiser.get("/groups/?state=all&q=ÉCOLE").text
    assert "École et Famille" in every and "Ancien groupe école" in every


def test_list_is_paginated(app, as_organiser):
    app.config["PAGE_SIZE"] = 2
    for index in range(5):
        GroupFactory(name=f"Groupe {index}")

    first = as_organiser.get("/groups/").text
    third = as_organiser.get("/groups/?page=3").text

    assert "Groupe 0" in first and "Groupe 2" not in first
    assert "Groupe 4" in third


# Creating, editing, archiving


def test_create_group_with_lead_organisations(as_organiser, organiser, english):
    leader = OrganisationFactory(name="École et Famille")
    colleague = UserFactory(name="Camille Collègue")

    form = as_organiser.get("/groups/new").text
    assert re.search(rf'checked[^>]*value="{organiser.id}"', form)

    response = as_organiser.post(
        "/groups/new",
        data={
            "name": "Personnels scolaires",
            "description": "Principaux et CPE.",
            "lead_organisations": [leader.id],
            "organisers": [colleague.id],
        },
    )

    group = db.session.scalars(select(Group)).one()
    assert response.headers["Location"].endswith(f"/groups/{group.id}")
    assert group.lead_organisations == [leader]
    assert {user.id for user in group.organisers} == {organiser.id, colleague.id}
    page = as_organiser.get(f"/groups/{group.id}").text
    assert "Group Personnels scolaires created." in page
    assert "École et Famille" in page


def test_group_form_shows_errors_next_to_fields(as_organiser, english, organiser):
    GroupFactory(name="Centres sociaux")

    empty = as_organiser.post("/groups/new", data={"name": " ", "organisers": [organiser.id]})
    assert empty.status_code == 200
    assert marked_invalid(empty.text, "name")
    assert "Please give the group" in empty.text

    duplicate = as_organiser.post(
        "/groups/new", data={"name": "centres SOCIAUX", "organisers": [organiser.id]}
    )
    assert marked_invalid(duplicate.text, "name")
    assert "A group with this name already exists." in duplicate.text
    assert row_count(Group) == 1


def test_edit_needs_an_organiser(as_organiser, own_group, english):
    response = as_organiser.post(f"/groups/{own_group.id}/edit", data={"name": "Renommé"})

    assert response.status_code == 200
    assert "A group needs at least one organiser." in response.text
    db.session.expire_all()
    assert own_group.name == "Centres sociaux"


def test_archive_and_unarchive_need_a_confirmation(as_organiser, own_group, english):
    confirmation = as_organiser.get(f"/groups/{own_group.id}/archive")
    assert confirmation.status_code == 200
    assert "Archive the group" in confirmation.text
    db.session.expire_all()
    assert own_group.archived_at is None

    as_organiser.post(f"/groups/{own_group.id}/archive")
    db.session.expire_all()
    assert own_group.archived_at is not None
    page = as_organiser.get(f"/groups/{own_group.id}").text
    assert "Archived" in page
    assert f"/groups/{own_group.id}/members/add" not in page
    refused = as_organiser.get(f"/groups/{own_group.id}/members/add")
    assert refused.status_code == 302

    as_organiser.post(f"/groups/{own_group.id}/unarchive")
    db.session.expire_all()
    assert own_group.archived_at is None


# Members


def test_add_members_from_the_directory_search(as_organiser, own_group, english):
    centre = OrganisationFactory(name="Centre social Le Tempo")
    hélène = ContactFactory(first_name="Hélène", last_name="Dupont", organisation=centre)
    ContactFactory(first_name="Marc", last_name="Martin")
    already = ContactFactory(first_name="Léa", last_name="Durand", organisation=centre)
    add_member(own_group, already, date(2024, 1, 1))

    search = as_organiser.get(f"/groups/{own_group.id}/members/add?q=tempo").text
    assert "Dupont" in search and "Durand" in search and "Martin" not in search
    assert f'value="{hélène.id}"' in search
    assert f'value="{already.id}"' not in search

    response = as_organiser.post(
        f"/groups/{own_group.id}/members/add?q=tempo",
        data={"contacts": [hélène.id, already.id], "role": "lead", "joined_on": "2025-01-15"},
    )

    assert response.status_code == 302
    rows = {m.contact_id: m for m in memberships_of(own_group)}
    assert rows[hélène.id].role is GroupRole.LEAD
    assert rows[hélène.id].joined_on == date(2025, 1, 15)
    assert rows[already.id].joined_on == date(2024, 1, 1)
    page = as_organiser.get(f"/groups/{own_group.id}").text
    assert "1 person added to the group. 1 was already a member." in page


def test_add_members_form_errors(as_organiser, own_group, english):
    contact = ContactFactory()

    nobody = as_organiser.post(
        f"/groups/{own_group.id}/members/add", data={"role": "member", "joined_on": "2025-01-15"}
    )
    assert "Select at least one person." in nobody.text
    bad_date = as_organiser.post(
        f"/groups/{own_group.id}/members/add",
        data={"contacts": [contact.id], "role": "member", "joined_on": "15/01/2025x"},
    )
    assert marked_invalid(bad_date.text, "joined_on")
    bad_role = as_organiser.post(
        f"/groups/{own_group.id}/members/add",
        data={"contacts": [contact.id], "role": "boss", "joined_on": "2025-01-15"},
    )
    assert marked_invalid(bad_role.text, "role")
    assert memberships_of(own_group) == []


def test_joined_date_defaults_to_today(as_organiser, own_group, app):
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    page = as_organiser.get(f"/groups/{own_group.id}/members/paste").text
    assert f'value="{today.isoformat()}"' in page


def test_paste_adds_known_addresses_and_reports_unknown_ones(as_organiser, own_group, english):
    known = ContactFactory(email="helene.dupont@example.org")
    other = ContactFactory(email="marc@example.org")
    contacts_before = row_count(Contact)

    response = as_organiser.post(
        f"/groups/{own_group.id}/members/paste",
        data={
            "addresses": "Helene.Dupont@example.org\ninconnu@example.org\n"
            "marc@example.org\npas une adresse",
            "role": "permanent_guest",
            "joined_on": "2025-02-01",
        },
    )

    assert response.status_code == 200
    assert "2 people added to the group." in response.text
    assert "inconnu@example.org" in response.text
    assert "pas" in response.text
    assert row_count(Contact) == contacts_before
    rows = memberships_of(own_group)
    assert {m.contact_id for m in rows} == {known.id, other.id}
    assert {m.role for m in rows} == {GroupRole.PERMANENT_GUEST}


def test_paste_of_known_addresses_only_goes_back_to_the_group(as_organiser, own_group):
    ContactFactory(email="helene@example.org")

    response = as_organiser.post(
        f"/groups/{own_group.id}/members/paste",
        data={"addresses": "helene@example.org", "role": "member", "joined_on": "2025-02-01"},
    )

    assert response.headers["Location"].endswith(f"/groups/{own_group.id}")
    assert len(memberships_of(own_group)) == 1


def test_paste_needs_addresses(as_organiser, own_group, english):
    response = as_organiser.post(
        f"/groups/{own_group.id}/members/paste",
        data={"addresses": "", "role": "member", "joined_on": "2025-02-01"},
    )

    assert marked_invalid(response.text, "addresses")
    assert "Paste at least one e-mail address." in response.text


def test_change_role(as_organiser, own_group, english):
    membership = add_member(own_group, ContactFactory(), date(2024, 1, 1))

    form = as_organiser.get(f"/groups/{own_group.id}/members/{membership.id}/role")
    assert form.status_code == 200
    as_organiser.post(f"/groups/{own_group.id}/members/{membership.id}/role", data={"role": "lead"})

    db.session.expire_all()
    assert membership.role is GroupRole.LEAD


def test_leaving_keeps_history_and_rejoining_adds_a_membership(as_organiser, own_group, english):
    contact = ContactFactory(first_name="Hélène", last_name="Dupont")
    membership = add_member(own_group, contact, date(2024, 1, 1))
    url = f"/groups/{own_group.id}/members/{membership.id}/leave"

    confirmation = as_organiser.get(url)
    assert "Record the departure" in confirmation.text
    too_early = as_organiser.post(url, data={"left_on": "2023-12-31"})
    assert marked_invalid(too_early.text, "left_on")
    as_organiser.post(url, data={"left_on": "2024-06-30"})

    db.session.expire_all()
    assert membership.left_on == date(2024, 6, 30)
    page = as_organiser.get(f"/groups/{own_group.id}").text
    former = page.split("Former members")[1]
    assert "Dupont" in former and "30 June 2024" in former

    as_organiser.post(
        f"/groups/{own_group.id}/members/add",
        data={"contacts": [contact.id], "role": "member", "joined_on": "2025-01-06"},
    )
    assert [(m.joined_on, m.left_on) for m in memberships_of(own_group)] == [
        (date(2024, 1, 1), date(2024, 6, 30)),
        (date(2025, 1, 6), None),
    ]
    again = as_organiser.post(url, data={"left_on": "2024-07-01"})
    assert again.status_code == 302
    db.session.expire_all()
    assert membership.left_on == date(2024, 6, 30)


# The group page


def test_group_page_shows_leads_members_by_organisation_and_meetings(
    as_organiser, own_group, english
):
    federation = OrganisationFactory(name="Fédération du Val d'Oise")
    own_group.lead_organisations = [federation]
    tempo = OrganisationFactory(name="Centre social Le Tempo")
    add_member(
        own_group,
        ContactFactory(first_name="Anne", last_name="Animatrice", organisation=tempo),
        date(2024, 1, 1),
        role=GroupRole.LEAD,
    )
    add_member(
        own_group, ContactFactory(last_name="Sansstructure", organisation=None), date(2024, 2, 1)
    )
    now = datetime.now(UTC)
    upcoming = MeetingFactory(title="Prochaine séance", starts_at=now + timedelta(days=3))
    past = MeetingFactory(title="Séance passée", starts_at=now - timedelta(days=30))
    MeetingFactory(title="Autre réunion")
    upcoming.groups.append(own_group)
    past.groups.append(own_group)
    db.session.commit()

    page = as_organiser.get(f"/groups/{own_group.id}").text

    led_by = page.split("Led by")[1].split("</dd>")[0]
    assert "Fédération du Val d&#39;Oise" in led_by and "Anne Animatrice" in led_by
    assert page.index("Centre social Le Tempo") < page.index("Without an organisation")
    assert "Lead" in page and "1 January 2024" in page
    assert (
        page.index("Prochaine séance") < page.index("Past meetings") < page.index("Séance passée")
    )
    assert "Autre réunion" not in page


def test_group_page_queries_do_not_grow_with_members_and_meetings(
    as_organiser, organiser, count_queries
):
    small = filled_group(members=20, meetings=10)
    large = filled_group(members=200, meetings=50, start=1000)
    # The first request of an app checks once whether setup is needed: not counted.
    as_organiser.get("/groups/")

    db.session.expire_all()
    with count_queries() as small_counter:
        small_page = as_organiser.get(f"/groups/{small.id}")
    db.session.expire_all()
    with count_queries() as large_counter:
        large_page = as_organiser.get(f"/groups/{large.id}")

    assert small_page.status_code == large_page.status_code == 200
    assert large_page.text.count("/contacts/") >= 200
    assert small_counter.count == large_counter.count
    assert large_counter.count <= 10


def test_list_queries_do_not_grow_with_groups(app, as_organiser, count_queries):
    filled_group(members=5, meetings=1)
    as_organiser.get("/groups/")
    # Each count starts from an empty identity map, as a new request in production does.
    db.session.expire_all()
    with count_queries() as few:
        as_organiser.get("/groups/")
    for _index in range(10):
        GroupFactory(lead_organisations=[OrganisationFactory()])
    db.session.expire_all()
    with count_queries() as many:
        as_organiser.get("/groups/")
    assert few.count == many.count


def test_pages_read_with_get_change_nothing(as_organiser, own_group):
    membership = add_member(own_group, ContactFactory(), date(2024, 1, 1))
    ContactFactory(email="inconnu@example.org")
    before = (row_count(Group), row_count(GroupMembership), row_count(Contact))
    snapshot = (own_group.name, own_group.archived_at, own_group.updated_at)

    base = f"/groups/{own_group.id}"
    for url in (
        "/groups/",
        base,
        "/groups/new",
        f"{base}/edit",
        f"{base}/archive",
        f"{base}/unarchive",
        f"{base}/members/add?q=inconnu",
        f"{base}/members/paste",
        f"{base}/members/{membership.id}/role",
        f"{base}/members/{membership.id}/leave",
    ):
        assert as_organiser.get(url).status_code == 200, url

    db.session.expire_all()
    assert (row_count(Group), row_count(GroupMembership), row_count(Contact)) == before
    assert (own_group.name, own_group.archived_at, own_group.updated_at) == snapshot
    assert membership.left_on is None and membership.role is GroupRole.MEMBER


def test_navigation_links_to_the_groups(as_organiser, english):
    page = as_organiser.get("/groups/").text
    assert 'href="/groups/" aria-current="page"' in page


def test_changes_need_the_csrf_token(csrf_app):
    organiser = UserFactory()
    group = GroupFactory(organisers=[organiser])
    membership = add_member(group, ContactFactory(), date(2024, 1, 1))
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(organiser.id)
        session["_fresh"] = True

    assert 'name="csrf_token"' in client.get(f"/groups/{group.id}/archive").text
    base = f"/groups/{group.id}"
    for url in (
        "/groups/new",
        f"{base}/edit",
        f"{base}/archive",
        f"{base}/members/add",
        f"{base}/members/paste",
        f"{base}/members/{membership.id}/role",
        f"{base}/members/{membership.id}/leave",
    ):
        assert client.post(url, data={"name": "Sans jeton"}).status_code == 400, url
    db.session.expire_all()
    assert group.archived_at is None and membership.left_on is None
