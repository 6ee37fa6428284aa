"""Who may do what with a meeting: login for everything, organisers and admins for changes."""

import re

import pytest

from app.extensions import db
from app.models import MeetingStatus
from tests.factories import MeetingFactory, UserFactory

REASON = {"reason": "Salle indisponible"}


@pytest.fixture
def owner(app):
    return UserFactory(name="Paula Propriétaire")


@pytest.fixture
def draft(owner):
    return MeetingFactory(organisers=[owner], status=MeetingStatus.DRAFT, title="Brouillon")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/meetings/"),
        ("get", "/meetings/new"),
        ("post", "/meetings/new"),
        ("get", "/meetings/{id}"),
        ("get", "/meetings/{id}/edit"),
        ("post", "/meetings/{id}/edit"),
        ("post", "/meetings/{id}/publish"),
        ("get", "/meetings/{id}/cancel"),
        ("post", "/meetings/{id}/cancel"),
        ("get", "/meetings/{id}/delete"),
        ("post", "/meetings/{id}/delete"),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, admin, draft, method, path):
    response = getattr(client, method)(path.format(id=draft.id), data=REASON)
    assert response.status_code == 302
    assert "/login" in response.location
    db.session.refresh(draft)
    assert draft.status is MeetingStatus.DRAFT


def test_another_organiser_can_see_the_meeting_but_no_actions(as_organiser, draft):
    page = as_organiser.get(f"/meetings/{draft.id}").get_data(as_text=True)
    assert "Brouillon" in page
    assert f"/meetings/{draft.id}/edit" not in page
    assert f"/meetings/{draft.id}/publish" not in page
    assert f"/meetings/{draft.id}/cancel" not in page
    assert f"/meetings/{draft.id}/delete" not in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/meetings/{id}/edit"),
        ("post", "/meetings/{id}/edit"),
        ("post", "/meetings/{id}/publish"),
        ("get", "/meetings/{id}/cancel"),
        ("post", "/meetings/{id}/cancel"),
        ("get", "/meetings/{id}/delete"),
        ("post", "/meetings/{id}/delete"),
    ],
)
def test_another_organiser_cannot_change_someone_elses_meeting(as_organiser, draft, method, path):
    response = getattr(as_organiser, method)(path.format(id=draft.id), data=REASON)
    assert response.status_code == 403
    db.session.refresh(draft)
    assert draft.status is MeetingStatus.DRAFT
    assert draft.title == "Brouillon"


def test_an_administrator_can_publish_someone_elses_meeting(as_admin, draft):
    assert as_admin.get(f"/meetings/{draft.id}/edit").status_code == 200
    response = as_admin.post(f"/meetings/{draft.id}/publish")
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status is MeetingStatus.PUBLISHED


def test_an_administrator_can_cancel_someone_elses_meeting(as_admin, draft):
    as_admin.post(f"/meetings/{draft.id}/cancel", data=REASON)
    db.session.refresh(draft)
    assert draft.status is MeetingStatus.CANCELLED


def test_a_co_organiser_can_change_the_meeting(client, login, owner, draft):
    colleague = UserFactory()
    draft.organisers.append(colleague)
    db.session.commit()
    login(colleague)
    response = client.post(f"/meetings/{draft.id}/publish")
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status is MeetingStatus.PUBLISHED


def test_publishing_without_the_csrf_token_is_refused(csrf_app):
    owner = UserFactory()
    meeting = MeetingFactory(organisers=[owner], status=MeetingStatus.DRAFT)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(owner.id)

    assert client.post(f"/meetings/{meeting.id}/publish").status_code == 400
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.DRAFT

    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post(f"/meetings/{meeting.id}/publish", data={"csrf_token": token})
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.PUBLISHED
