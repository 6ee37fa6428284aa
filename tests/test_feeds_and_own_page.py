"""Calendar feeds (a group's, by its secret address; an invitee's, by their personal link) and
the invitee's own page: their invitations, their details, leaving a group."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.invitations.tokens import form_token, hash_token, revoke_links
from app.models import Answer, GroupMembership, Invitation, Meeting, MeetingStatus, OutboxMessage
from tests.factories import ContactFactory, UserFactory
from tests.group_helpers import GroupFactory, add_member
from tests.invitee_helpers import a_meeting, database_snapshot, invite, set_answer

NOW = datetime.now(UTC).replace(microsecond=0)


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events_by_title(calendar: Calendar) -> dict[str, object]:
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def group_with_meetings(organiser):
    group = GroupFactory(organisers=[organiser])
    upcoming = a_meeting(NOW, title="Séance de juin")
    london = a_meeting(NOW, title="Visite à Londres", timezone="Europe/London")
    old = a_meeting(NOW, title="Séance ancienne", starts_at=NOW - timedelta(days=150))
    draft = a_meeting(NOW, title="Brouillon", status=MeetingStatus.DRAFT)
    cancelled = a_meeting(
        NOW, title="Séance annulée", status=MeetingStatus.CANCELLED, published_at=NOW
    )
    never_shown = a_meeting(NOW, title="Annulée en brouillon", status=MeetingStatus.CANCELLED)
    for meeting in (upcoming, london, old, draft, cancelled, never_shown):
        meeting.groups.append(group)
    db.session.commit()
    return group


def make_feed(client, group) -> str:
    response = client.post(f"/groups/{group.id}/feed")
    assert response.status_code == 200
    return re.search(r'value="(http://localhost/groups/feed/[^"]+\.ics)"', response.text)[1]


def test_group_feed_lists_published_and_cancelled_meetings_with_zones(as_organiser, organiser):
    group = group_with_meetings(organiser)
    feed_url = make_feed(as_organiser, group)
    assert group.feed_token_hash == hash_token(feed_url.rsplit("/", 1)[1].removesuffix(".ics"))

    calendar = parse(as_organiser.get(feed_url.removeprefix("http://localhost")))

    events = events_by_title(calendar)
    assert set(events) == {"Séance de juin", "Visite à Londres", "Séance annulée"}
    assert events["Séance de juin"]["STATUS"] == "CONFIRMED"
    assert events["Séance annulée"]["STATUS"] == "CANCELLED"
    meeting = next(meeting for meeting in group.meetings if meeting.title == "Séance de juin")
    assert str(events[meeting.title]["UID"]) == f"meeting-{meeting.id}@localhost"
    assert events[meeting.title]["SEQUENCE"] == meeting.sequence
    zones = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    assert zones == {"Europe/Paris", "Europe/London"}


def test_group_feed_answers_304_to_its_etag_and_changes_nothing(client, as_organiser, organiser):
    group = group_with_meetings(organiser)
    path = make_feed(as_organiser, group).removeprefix("http://localhost")
    before = database_snapshot()

    first = client.get(path)
    assert first.headers["ETag"]
    assert "private" in first.headers["Cache-Control"]
    assert first.headers["Last-Modified"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304

    assert database_snapshot() == before


def test_revoked_or_replaced_group_feed_address_is_gone(as_organiser, organiser):
    group = group_with_meetings(organiser)
    old = make_feed(as_organiser, group).removeprefix("http://localhost")
    new = make_feed(as_organiser, group).removeprefix("http://localhost")
    assert as_organiser.get(old).status_code == 404
    assert as_organiser.get(new).status_code == 200

    assert as_organiser.post(f"/groups/{group.id}/feed/revoke").status_code == 302
    assert group.feed_token_hash is None
    assert as_organiser.get(new).status_code == 404


def test_group_feed_management_needs_an_organiser_of_the_group(client, login, organiser):
    group = GroupFactory(organisers=[organiser])
    assert client.get(f"/groups/{group.id}/feed").status_code == 302
    assert "/login" in client.post(f"/groups/{group.id}/feed").headers["Location"]
    login(UserFactory())
    assert client.get(f"/groups/{group.id}/feed").status_code == 403
    assert client.post(f"/groups/{group.id}/feed").status_code == 403
    assert client.post(f"/groups/{group.id}/feed/revoke").status_code == 403
    assert group.feed_token_hash is None


def test_group_feed_confirmation_pages_change_nothing(as_organiser, organiser):
    group = group_with_meetings(organiser)
    before = database_snapshot()
    assert as_organiser.get(f"/groups/{group.id}/feed").status_code == 200
    assert as_organiser.get(f"/groups/{group.id}/feed/revoke").status_code == 200
    assert database_snapshot() == before


def invited_contact():
    """One contact invited to four meetings, each answered differently, and their link."""
    coming, token = invite(a_meeting(NOW, title="Oui"), NOW)
    contact = coming.contact
    invitations = {"Oui": coming}
    for title, status in (
        ("Sans réponse", MeetingStatus.PUBLISHED),
        ("Non", MeetingStatus.PUBLISHED),
        ("Attente", MeetingStatus.PUBLISHED),
        ("Annulée", MeetingStatus.CANCELLED),
    ):
        meeting = a_meeting(NOW, title=title, status=status, published_at=NOW)
        invitations[title] = Invitation(meeting=meeting, contact=contact, invited_at=NOW)
        db.session.add(invitations[title])
    db.session.commit()
    set_answer(coming, Answer.COMING, NOW)
    set_answer(invitations["Non"], Answer.NOT_COMING, NOW)
    set_answer(invitations["Attente"], Answer.WAITING, NOW)
    set_answer(invitations["Annulée"], Answer.COMING, NOW)
    return contact, invitations, token


def test_personal_feed_shows_the_answers_as_statuses(client):
    _contact, _invitations, token = invited_contact()
    before = database_snapshot()

    response = client.get(f"/i/{token}/feed.ics")

    statuses = {
        title: str(event["STATUS"]) for title, event in events_by_title(parse(response)).items()
    }
    assert statuses == {
        "Oui": "CONFIRMED",
        "Sans réponse": "TENTATIVE",
        "Non": "CANCELLED",
        "Attente": "TENTATIVE",
        "Annulée": "CANCELLED",
    }
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "private" in response.headers["Cache-Control"]
    repeated = client.get(
        f"/i/{token}/feed.ics", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert repeated.status_code == 304
    assert database_snapshot() == before


def test_personal_feed_of_a_revoked_link_is_gone(client):
    _contact, invitations, token = invited_contact()
    revoke_links(invitations["Oui"], NOW)
    db.session.commit()
    assert client.get(f"/i/{token}/feed.ics").status_code == 404
    assert client.get(f"/i/{token}/invitations").status_code == 404


def test_personal_page_links_to_the_own_page_and_the_feed(client):
    _contact, _invitations, token = invited_contact()
    html = client.get(f"/i/{token}").text
    assert f'href="/i/{token}/invitations"' in html
    assert f'href="/i/{token}/feed.ics"' in html


def test_own_page_lists_the_invitations_and_answers_one(client):
    client.set_cookie("lang", "en")
    contact, invitations, token = invited_contact()
    before = database_snapshot()
    html = client.get(f"/i/{token}/invitations").text
    assert database_snapshot() == before
    for title in ("Oui", "Sans réponse", "Non", "Attente", "Annulée"):
        assert title in html
    assert "This meeting is cancelled." in html

    target = invitations["Sans réponse"]
    response = client.post(
        f"/i/{token}/invitations/{target.id}/answer",
        data={"answer": "yes", "csrf_token": form_token(token)},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/i/{token}/invitations")
    db.session.refresh(target)
    assert target.answer is Answer.COMING
    confirmation = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.invitation_id == target.id)
    )
    assert confirmation.kind == "confirmation"
    assert confirmation.to_address == contact.email


def test_own_page_refuses_the_invitation_of_another_contact(client):
    _contact, _invitations, token = invited_contact()
    other, _other_token = invite(a_meeting(NOW, title="Pas à moi"), NOW)
    response = client.post(
        f"/i/{token}/invitations/{other.id}/answer",
        data={"answer": "yes", "csrf_token": form_token(token)},
    )
    assert response.status_code == 404
    db.session.refresh(other)
    assert other.answer is Answer.NONE


def test_own_page_answer_is_refused_after_the_deadline(client):
    client.set_cookie("lang", "en")
    invitation, token = invite(a_meeting(NOW, answer_deadline=NOW - timedelta(days=1)), NOW)
    response = client.post(
        f"/i/{token}/invitations/{invitation.id}/answer",
        data={"answer": "yes", "csrf_token": form_token(token)},
        follow_redirects=True,
    )
    assert "Answers closed on" in response.text
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NONE


def test_own_details_are_saved_and_a_bad_phone_stays_in_the_form(client):
    client.set_cookie("lang", "en")
    invitation, token = invite(a_meeting(NOW), NOW, phone="", function="")
    contact = invitation.contact
    email = contact.email

    response = client.post(
        f"/i/{token}/details",
        data={"phone": "12", "function": "Coordinatrice", "csrf_token": form_token(token)},
    )
    assert response.status_code == 400
    assert "This is not a valid phone number." in response.text
    assert 'value="12"' in response.text
    assert 'value="Coordinatrice"' in response.text
    db.session.refresh(contact)
    assert contact.phone == ""

    response = client.post(
        f"/i/{token}/details",
        data={
            "phone": "0123456789",
            "function": "Coordinatrice",
            "email": "other@example.org",
            "csrf_token": form_token(token),
        },
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert (contact.phone, contact.function, contact.email) == (
        "01 23 45 67 89",
        "Coordinatrice",
        email,
    )


def test_leaving_a_group_tells_its_organisers(client):
    client.set_cookie("lang", "en")
    invitation, token = invite(a_meeting(NOW), NOW)
    contact = invitation.contact
    lead = UserFactory(email="lead@example.org")
    group = GroupFactory(name="Centres sociaux", organisers=[lead])
    add_member(group, contact, date(2024, 1, 1))
    other_group = GroupFactory(name="Écoles")
    add_member(other_group, contact, date(2024, 1, 1))

    html = client.get(f"/i/{token}/invitations").text
    assert "Centres sociaux" in html and "Écoles" in html
    before = database_snapshot()
    confirmation = client.get(f"/i/{token}/groups/{group.id}/leave")
    assert confirmation.status_code == 200
    assert database_snapshot() == before

    response = client.post(
        f"/i/{token}/groups/{group.id}/leave", data={"csrf_token": form_token(token)}
    )

    assert response.status_code == 302
    membership = db.session.scalar(
        select(GroupMembership).where(GroupMembership.group_id == group.id)
    )
    assert membership.left_on is not None
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "group_member_left")
    )
    assert message.to_address == "lead@example.org"
    assert contact.full_name in message.text_body
    html = client.get(f"/i/{token}/invitations").text
    assert f"/i/{token}/groups/{group.id}/leave" not in html
    assert f"/i/{token}/groups/{other_group.id}/leave" in html
    assert (
        client.post(
            f"/i/{token}/groups/{group.id}/leave", data={"csrf_token": form_token(token)}
        ).status_code
        == 404
    )


@pytest.mark.parametrize("path", ["invitations", "feed.ics"])
def test_unknown_link_is_404(client, path):
    a_meeting(NOW)
    assert client.get(f"/i/{'x' * 43}/{path}").status_code == 404


def test_unknown_group_feed_is_404(client):
    ContactFactory()
    UserFactory()
    assert client.get(f"/groups/feed/{'x' * 43}.ics").status_code == 404


def test_members_reach_their_groups_feed_through_their_own_link(client, organiser):
    group = group_with_meetings(organiser)
    invitation, token = invite(a_meeting(NOW), NOW)
    url = f"/i/{token}/groups/{group.id}/feed.ics"
    assert client.get(url).status_code == 404  # not a member

    membership = add_member(group, invitation.contact, date(2024, 1, 1))
    assert f'href="{url}"' in client.get(f"/i/{token}/invitations").text
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert events_by_title(parse(response))

    membership.left_on = date(2025, 1, 1)
    db.session.commit()
    assert client.get(url).status_code == 404


# Queries: the feeds and the own page cost the same whatever the number of meetings and groups


def member_of(meetings: int, groups: int, organiser) -> tuple[str, list]:
    """A contact invited to `meetings` meetings, member of `groups` groups each holding one
    of them; returns their link and the groups."""
    first, token = invite(a_meeting(NOW, title="Séance 0"), NOW)
    contact = first.contact
    for number in range(1, meetings):
        meeting = a_meeting(NOW + timedelta(days=number), title=f"Séance {number}")
        db.session.add(Invitation(meeting=meeting, contact=contact, invited_at=NOW))
    made = [GroupFactory(organisers=[organiser]) for _number in range(groups)]
    db.session.flush()
    for group in made:
        add_member(group, contact, date(2024, 1, 1))
        first.meeting.groups.append(group)
    db.session.commit()
    return token, made


@pytest.mark.parametrize(
    "path",
    ["/i/{token}/invitations", "/i/{token}/feed.ics", "/i/{token}/groups/{group}/feed.ics"],
)
def test_the_own_page_and_the_feeds_queries_do_not_grow(client, organiser, count_queries, path):
    few_token, few_groups = member_of(meetings=2, groups=1, organiser=organiser)
    many_token, many_groups = member_of(meetings=25, groups=6, organiser=organiser)
    meetings = db.session.scalars(select(Meeting).limit(20)).all()
    for group in many_groups[1:]:
        for meeting in meetings:
            if group not in meeting.groups:
                meeting.groups.append(group)
    db.session.commit()
    client.get(path.format(token=few_token, group=few_groups[0].id))

    counts = []
    for token, groups in ((few_token, few_groups), (many_token, many_groups)):
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(path.format(token=token, group=groups[-1].id))
        assert response.status_code == 200
        counts.append(counter.count)

    assert counts[0] == counts[1]


def test_the_group_feed_queries_do_not_grow_with_its_meetings(
    client, as_organiser, organiser, count_queries
):
    few = group_with_meetings(organiser)
    many = group_with_meetings(organiser)
    for number in range(30):
        meeting = a_meeting(NOW + timedelta(days=number), title=f"Séance {number}")
        meeting.groups.append(many)
    db.session.commit()
    paths = [
        make_feed(as_organiser, group).removeprefix("http://localhost") for group in (few, many)
    ]
    client.get(paths[0])

    counts = []
    for path in paths:
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        counts.append(counter.count)

    assert counts[0] == counts[1]
