"""Meetings of working groups: the meeting form's groups, inviting the groups' members (joint
meetings, deduplicated), late joiners invited to upcoming meetings, leavers left out, and the
attendance matrix of the group page with its query count."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.groups import services
from app.models import (
    Answer,
    Attendance,
    Invitation,
    Meeting,
    MeetingStatus,
    OutboxMessage,
)
from tests.factories import ContactFactory, MeetingFactory, UserFactory
from tests.group_helpers import GroupFactory, add_member, filled_group
from tests.test_meetings_pages import seed_form

LONG_AGO = date(2020, 1, 1)


def real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def invited_ids(meeting: Meeting) -> set[int]:
    return set(
        db.session.scalars(select(Invitation.contact_id).where(Invitation.meeting_id == meeting.id))
    )


def outbox_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address))
    )


def row_count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def past_meeting(group, days_ago: int, **values) -> Meeting:
    starts_at = real_now() - timedelta(days=days_ago)
    return MeetingFactory(
        groups=[group], starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), **values
    )


def invite(meeting: Meeting, contact, **values) -> Invitation:
    invitation = Invitation(meeting=meeting, contact=contact, **values)
    db.session.add(invitation)
    db.session.commit()
    return invitation


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def social_centres(organiser):
    return GroupFactory(name="Centres sociaux", organisers=[organiser])


@pytest.fixture
def school_staff(organiser):
    return GroupFactory(name="Personnels de l'école", organisers=[organiser])


@pytest.fixture
def joint_meeting(organiser, social_centres, school_staff):
    return MeetingFactory(organisers=[organiser], groups=[social_centres, school_staff])


# The meeting form


def test_meeting_form_offers_active_groups_and_saves_them(
    english, login, organiser, social_centres, school_staff
):
    login(organiser)
    archived = GroupFactory(name="Ancien groupe", archived_at=real_now())
    page = english.get("/meetings/new").text
    assert "Centres sociaux" in page and "Ancien groupe" not in page

    form = seed_form(groups=[str(social_centres.id), str(school_staff.id)])
    response = english.post("/meetings/new", data=form)
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    assert {group.id for group in meeting.groups} == {social_centres.id, school_staff.id}

    shown = english.get(f"/meetings/{meeting.id}").text
    assert f'href="/groups/{social_centres.id}"' in shown
    assert f'href="/groups/{school_staff.id}"' in shown

    refused = english.post(
        f"/meetings/{meeting.id}/edit", data=seed_form(groups=[str(archived.id)])
    )
    assert refused.status_code == 200
    db.session.expire_all()
    assert {group.id for group in meeting.groups} == {social_centres.id, school_staff.id}


def test_a_meeting_keeps_a_group_archived_since(as_organiser, organiser, social_centres):
    meeting = MeetingFactory(organisers=[organiser], groups=[social_centres])
    social_centres.archived_at = real_now()
    db.session.commit()
    page = as_organiser.get(f"/meetings/{meeting.id}/edit").text
    assert "Centres sociaux" in page
    response = as_organiser.post(
        f"/meetings/{meeting.id}/edit",
        data=seed_form(start_date="2030-06-05", groups=[str(social_centres.id)]),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert meeting.groups == [social_centres]


def test_editing_can_take_a_meeting_out_of_its_groups(as_organiser, organiser, social_centres):
    meeting = MeetingFactory(organisers=[organiser], groups=[social_centres])
    as_organiser.post(f"/meetings/{meeting.id}/edit", data=seed_form(start_date="2030-06-05"))
    db.session.expire_all()
    assert meeting.groups == []


# Inviting the groups


def test_joint_meeting_invites_each_current_member_once(
    english, login, organiser, social_centres, school_staff, joint_meeting
):
    login(organiser)
    both, centre_only, school_only, former = ContactFactory.create_batch(4)
    add_member(social_centres, both, LONG_AGO)
    add_member(school_staff, both, LONG_AGO)
    add_member(social_centres, centre_only, LONG_AGO)
    add_member(school_staff, school_only, LONG_AGO)
    add_member(social_centres, former, LONG_AGO, left_on=date(2021, 1, 1))
    future = ContactFactory()
    add_member(school_staff, future, date.today() + timedelta(days=30))

    page = english.get(f"/meetings/{joint_meeting.id}/invitations/invite").text
    assert "Invite the members of the groups" in page
    response = english.post(
        f"/meetings/{joint_meeting.id}/invitations/invite-groups", follow_redirects=True
    )

    assert "3 people added to the list." in response.text
    assert invited_ids(joint_meeting) == {both.id, centre_only.id, school_only.id}
    # Put on the list only: sending stays the organiser's step.
    assert row_count(OutboxMessage) == 0


def test_people_already_invited_are_not_invited_twice(
    english, login, organiser, social_centres, joint_meeting
):
    login(organiser)
    member, other = ContactFactory.create_batch(2)
    add_member(social_centres, member, LONG_AGO)
    add_member(social_centres, other, LONG_AGO)
    invite(joint_meeting, member, answer=Answer.COMING)

    response = english.post(
        f"/meetings/{joint_meeting.id}/invitations/invite-groups", follow_redirects=True
    )
    assert "1 person added to the list. 1 was already on it." in response.text
    again = english.post(
        f"/meetings/{joint_meeting.id}/invitations/invite-groups", follow_redirects=True
    )
    assert "0 people added to the list. 2 were already on it." in again.text
    assert row_count(Invitation) == 2


def test_a_cancelled_meeting_takes_no_group_invitation(
    as_organiser, organiser, social_centres, joint_meeting
):
    add_member(social_centres, ContactFactory(), LONG_AGO)
    joint_meeting.status = MeetingStatus.CANCELLED
    db.session.commit()
    as_organiser.post(f"/meetings/{joint_meeting.id}/invitations/invite-groups")
    assert row_count(Invitation) == 0


def test_invite_page_without_groups_has_no_group_button(english, login, organiser):
    login(organiser)
    meeting = MeetingFactory(organisers=[organiser])
    assert (
        "Invite the members" not in english.get(f"/meetings/{meeting.id}/invitations/invite").text
    )


def test_only_the_meeting_organisers_invite_the_groups(
    client, login, social_centres, joint_meeting
):
    add_member(social_centres, ContactFactory(), LONG_AGO)
    url = f"/meetings/{joint_meeting.id}/invitations/invite-groups"
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(UserFactory())
    assert client.post(url).status_code == 403
    assert row_count(Invitation) == 0


def test_the_group_button_needs_its_csrf_token(csrf_app, organiser):
    group = GroupFactory(organisers=[organiser])
    meeting = MeetingFactory(organisers=[organiser], groups=[group])
    add_member(group, ContactFactory(), LONG_AGO)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(organiser.id)
        session["_fresh"] = True
    response = client.post(f"/meetings/{meeting.id}/invitations/invite-groups")
    assert response.status_code == 400
    assert row_count(Invitation) == 0


# Late joiners


@pytest.fixture
def group_meetings(organiser, social_centres):
    """The group's meetings: upcoming published, draft, cancelled, past, and one of another
    group."""
    upcoming = MeetingFactory(organisers=[organiser], groups=[social_centres], title="À venir")
    return {
        "upcoming": upcoming,
        "draft": MeetingFactory(groups=[social_centres], status=MeetingStatus.DRAFT),
        "cancelled": MeetingFactory(groups=[social_centres], status=MeetingStatus.CANCELLED),
        "past": past_meeting(social_centres, 10),
        "other": MeetingFactory(groups=[GroupFactory()]),
    }


def test_late_joiner_is_invited_to_upcoming_published_meetings_only(
    english, login, organiser, social_centres, group_meetings
):
    login(organiser)
    newcomer = ContactFactory(email="nouvelle@example.org")
    response = english.post(
        f"/groups/{social_centres.id}/members/add",
        data={
            "contacts": [str(newcomer.id)],
            "role": "member",
            "joined_on": date.today().isoformat(),
            "invite_upcoming": "y",
        },
        follow_redirects=True,
    )

    assert "1 invitation to the group&#39;s upcoming meetings is on its way." in response.text
    upcoming = group_meetings["upcoming"]
    invitations = list(db.session.scalars(select(Invitation)))
    assert [(row.meeting_id, row.contact_id) for row in invitations] == [(upcoming.id, newcomer.id)]
    assert invitations[0].invited_at is not None
    [message] = outbox_to("nouvelle@example.org")
    assert message.kind == "invitation"
    assert message.invitation_id == invitations[0].id
    assert "À venir" in message.subject


def test_late_joiner_by_pasted_address_is_invited_too(
    english, login, organiser, social_centres, group_meetings
):
    login(organiser)
    ContactFactory(email="collee@example.org")
    english.post(
        f"/groups/{social_centres.id}/members/paste",
        data={
            "addresses": "collee@example.org",
            "role": "member",
            "joined_on": date.today().isoformat(),
            "invite_upcoming": "y",
        },
    )
    assert len(outbox_to("collee@example.org")) == 1
    assert row_count(Invitation) == 1


def test_unchecked_box_invites_nobody(as_organiser, social_centres, group_meetings):
    newcomer = ContactFactory()
    as_organiser.post(
        f"/groups/{social_centres.id}/members/add",
        data={"contacts": [str(newcomer.id)], "role": "member", "joined_on": "2024-01-01"},
    )
    assert services.is_member_on(social_centres, newcomer, date.today())
    assert row_count(Invitation) == row_count(OutboxMessage) == 0


def test_the_box_is_ticked_by_default(english, login, organiser, social_centres):
    login(organiser)
    # The directory's selection form is shown under search results.
    ContactFactory()
    for path in ("add", "paste"):
        page = english.get(f"/groups/{social_centres.id}/members/{path}").text
        assert 'id="invite_upcoming"' in page and "checked" in page
        assert "upcoming published meetings" in page


def test_late_joiner_is_not_invited_before_the_day_they_join(
    app, organiser, social_centres, group_meetings
):
    newcomer = ContactFactory()
    joined_on = date.today() + timedelta(days=60)
    added_ids, _already = services.join_group(
        social_centres, [newcomer.id], services.GroupRole.MEMBER, joined_on
    )
    queued = services.invite_to_upcoming_meetings(
        social_centres, added_ids, joined_on, organiser, real_now()
    )
    assert queued == 0 and row_count(Invitation) == 0


def test_someone_already_on_the_list_is_left_to_the_organiser(
    app, organiser, social_centres, group_meetings
):
    newcomer = ContactFactory()
    invite(group_meetings["upcoming"], newcomer)
    queued = services.invite_to_upcoming_meetings(
        social_centres, [newcomer.id], date.today(), organiser, real_now()
    )
    assert queued == 0 and row_count(Invitation) == 1 and row_count(OutboxMessage) == 0


def test_leaver_is_not_invited_but_keeps_their_record(as_organiser, organiser, social_centres):
    leaver = ContactFactory()
    membership = add_member(social_centres, leaver, LONG_AGO)
    held = past_meeting(social_centres, 20)
    invite(held, leaver, invited_at=held.starts_at, attendance=Attendance.PRESENT)
    services.leave_group(membership, date.today() - timedelta(days=1))
    db.session.commit()
    upcoming = MeetingFactory(organisers=[organiser], groups=[social_centres])

    as_organiser.post(f"/meetings/{upcoming.id}/invitations/invite-groups")

    assert invited_ids(upcoming) == set()
    assert invited_ids(held) == {leaver.id}
    matrix = services.group_overview(social_centres, real_now()).attendance
    assert [(row.contact.id, row.cells, row.current) for row in matrix.rows] == [
        (leaver.id, [Attendance.PRESENT], False)
    ]


# The attendance matrix


def test_matrix_cells_follow_membership_and_the_attendance_rule(
    english, login, organiser, social_centres
):
    login(organiser)
    steady, late, gone = (
        ContactFactory(last_name="Aubert"),
        ContactFactory(last_name="Blanc"),
        ContactFactory(last_name="Collin"),
    )
    outsider = ContactFactory(last_name="Dupuis")
    first = past_meeting(social_centres, 60, title="Première")
    second = past_meeting(social_centres, 30, title="Deuxième")
    past_meeting(social_centres, 45, status=MeetingStatus.CANCELLED)
    past_meeting(social_centres, 40, status=MeetingStatus.DRAFT)
    add_member(social_centres, steady, first.starts_at.date() - timedelta(days=1))
    add_member(social_centres, late, second.starts_at.date() - timedelta(days=1))
    add_member(
        social_centres,
        gone,
        first.starts_at.date() - timedelta(days=1),
        left_on=first.starts_at.date() + timedelta(days=1),
    )
    # Former member of no held meeting: not a row.
    add_member(social_centres, outsider, LONG_AGO, left_on=date(2020, 2, 1))
    first.attendance_closed_at = real_now()
    db.session.commit()
    invite(first, steady, invited_at=first.starts_at, attendance=Attendance.PRESENT)
    invite(second, steady, invited_at=second.starts_at, answer=Answer.NOT_COMING)
    # Invited before joining: not a member that day, so blank.
    invite(first, late, invited_at=first.starts_at, attendance=Attendance.PRESENT)
    invite(second, late, invited_at=second.starts_at, attendance=Attendance.PRESENT)
    # Closed record, invited, never answered: absent by the one rule.
    invite(first, gone, invited_at=first.starts_at)

    matrix = services.group_overview(social_centres, real_now()).attendance

    assert [meeting.title for meeting in matrix.meetings] == ["Première", "Deuxième"]
    rows = {row.contact.last_name: row for row in matrix.rows}
    assert list(rows) == sorted(rows)
    assert set(rows) == {"Aubert", "Blanc", "Collin"}
    assert rows["Aubert"].cells == [Attendance.PRESENT, Attendance.EXCUSED]
    assert rows["Aubert"].rate == 0.5
    assert rows["Blanc"].cells == [None, Attendance.PRESENT]
    assert rows["Blanc"].rate == 1
    assert rows["Collin"].cells == [Attendance.ABSENT, None]
    assert rows["Collin"].rate == 0

    page = english.get(f"/groups/{social_centres.id}").text
    assert "<caption>Attendance of the members at the 2 meetings held</caption>" in page
    assert '<th scope="row">Aubert' in page
    assert "50%" in page and "(1 of 2)" in page
    assert "Former member" in page and "Excused" in page and "Absent" in page
    assert "{# feed #}" not in page


def test_member_never_invited_has_no_rate(english, social_centres):
    add_member(social_centres, ContactFactory(), LONG_AGO)
    past_meeting(social_centres, 5)
    [row] = services.group_overview(social_centres, real_now()).attendance.rows
    assert row.cells == [None] and row.rate is None


def test_group_without_held_meetings_says_so(english, login, organiser, social_centres):
    login(organiser)
    add_member(social_centres, ContactFactory(), LONG_AGO)
    page = english.get(f"/groups/{social_centres.id}").text
    assert "No meeting of this group has been held yet." in page


def test_matrix_queries_do_not_grow_with_members_and_meetings(
    as_organiser, organiser, count_queries
):
    small = filled_group(members=20, meetings=20)
    large = filled_group(members=200, meetings=100, start=1000)
    for group in (small, large):
        contacts = [membership.contact for membership in group.memberships]
        for meeting in group.meetings:
            if meeting.ends_at <= real_now():
                db.session.add_all(
                    Invitation(
                        meeting=meeting,
                        contact=contact,
                        invited_at=meeting.starts_at,
                        attendance=Attendance.PRESENT,
                    )
                    for contact in contacts
                )
    db.session.commit()
    as_organiser.get("/groups/")

    db.session.expire_all()
    with count_queries() as small_counter:
        small_page = as_organiser.get(f"/groups/{small.id}")
    db.session.expire_all()
    with count_queries() as large_counter:
        large_page = as_organiser.get(f"/groups/{large.id}")

    assert small_page.status_code == large_page.status_code == 200
    assert small_page.text.count('attendance-present" title=') == 20 * 10
    assert large_page.text.count('attendance-present" title=') == 200 * 50
    assert small_counter.count == large_counter.count


# Reading changes nothing


def test_pages_read_with_get_change_nothing(
    as_organiser, organiser, social_centres, joint_meeting, group_meetings
):
    add_member(social_centres, ContactFactory(), LONG_AGO)
    before = (row_count(Invitation), row_count(OutboxMessage))
    for url in (
        f"/groups/{social_centres.id}",
        f"/groups/{social_centres.id}/members/add",
        f"/groups/{social_centres.id}/members/paste",
        f"/meetings/{joint_meeting.id}",
        f"/meetings/{joint_meeting.id}/edit",
        f"/meetings/{joint_meeting.id}/invitations/invite",
    ):
        assert as_organiser.get(url).status_code == 200, url
    assert (
        as_organiser.get(f"/meetings/{joint_meeting.id}/invitations/invite-groups").status_code
        == 405
    )
    assert (row_count(Invitation), row_count(OutboxMessage)) == before


def test_the_matrix_gives_short_dates_and_one_letter_cells_with_the_words_read_out(
    as_organiser, organiser
):
    group = filled_group(members=1, meetings=2)
    group.organisers.append(organiser)
    meeting = min(group.meetings, key=lambda meeting: meeting.starts_at)
    contact = group.memberships[0].contact
    db.session.add(
        Invitation(
            meeting=meeting,
            contact=contact,
            invited_at=meeting.starts_at,
            attendance=Attendance.PRESENT,
        )
    )
    db.session.commit()
    as_organiser.set_cookie("lang", "en")

    page = as_organiser.get(f"/groups/{group.id}").text

    day = meeting.starts_at.astimezone(meeting.zone)
    assert f">{day.month}/{day.day}/{day:%y}</a>" in page
    assert '<span aria-hidden="true">P</span><span class="visually-hidden">Present</span>' in page
    assert 'attendance-present">P</span> = Present' in page
