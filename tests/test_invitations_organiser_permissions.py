"""Who may do what on the invitation pages: a login for everything, the meeting's organisers
and administrators for every change; any organiser may read the answers."""

import pytest

from app.extensions import db
from app.models import Answer
from tests.factories import UserFactory
from tests.invitations_organiser_helpers import (
    SEED_NOW,
    directory,
    invitation_count,
    invite_all,
    outbox,
    upcoming_meeting,
)

ACTIONS = [
    ("get", "/invite"),
    ("post", "/invite"),
    ("get", "/paste"),
    ("post", "/paste"),
    ("post", "/new-contacts"),
    ("get", "/message"),
    ("post", "/message"),
    ("get", "/message/preview"),
    ("get", "/send"),
    ("post", "/send"),
    ("post", "/{invitation}/resend"),
    ("get", "/resend"),
    ("post", "/resend"),
    ("get", "/{invitation}/revoke"),
    ("post", "/{invitation}/revoke"),
    ("get", "/{invitation}/remove"),
    ("post", "/{invitation}/remove"),
    ("get", "/{invitation}/answer"),
    ("post", "/{invitation}/answer"),
    ("get", "/answers.csv"),
    ("get", "/notify-change"),
    ("post", "/notify-change"),
]
READ_ONLY = [("get", "/"), ("get", "/progress")]
# Enough for every form to pass its checks, so that only the permission can stop it.
FORM = {
    "contacts": [],
    "invite_all": "1",
    "addresses": "someone@example.org",
    "rows-0-include": "y",
    "rows-0-email": "new@example.org",
    "rows-0-last_name": "Nouveau",
    "rows-0-civility": "",
    "organisation_id": "",
    "subject": "Objet",
    "message": "Texte",
    "save": "1",
    "answer": "yes",
}


@pytest.fixture
def owner(app):
    return UserFactory(name="Paula Propriétaire")


@pytest.fixture
def meeting(owner):
    return upcoming_meeting([owner], sequence=1)


@pytest.fixture
def invitations(meeting):
    """One invitation sent (for resend, revoke, answer) and one not yet (for remove)."""
    sent, unsent = invite_all(meeting, directory(3)[:2])
    sent.invited_at = SEED_NOW
    db.session.commit()
    return sent, unsent


def path_for(meeting, invitations, template: str, method: str) -> str:
    sent, unsent = invitations
    invitation = unsent if template.endswith("/remove") else sent
    return f"/meetings/{meeting.id}/invitations" + template.format(invitation=invitation.id)


def unchanged(meeting, invitations) -> None:
    sent, unsent = invitations
    db.session.expire_all()
    assert outbox() == []
    assert invitation_count(meeting) == 2
    assert sent.answer is Answer.NONE
    assert sent.links == []
    assert meeting.invitation_subject == ""


@pytest.mark.parametrize(("method", "template"), ACTIONS + READ_ONLY)
def test_anonymous_visitors_are_sent_to_login(client, meeting, invitations, method, template):
    response = getattr(client, method)(path_for(meeting, invitations, template, method), data=FORM)
    assert response.status_code == 302
    assert "/login" in response.location
    unchanged(meeting, invitations)


@pytest.mark.parametrize(("method", "template"), ACTIONS)
def test_another_organiser_cannot_act_on_someone_elses_meeting(
    as_organiser, meeting, invitations, method, template
):
    response = getattr(as_organiser, method)(
        path_for(meeting, invitations, template, method), data=FORM
    )
    assert response.status_code == 403
    unchanged(meeting, invitations)


@pytest.mark.parametrize(("method", "template"), READ_ONLY)
def test_another_organiser_can_follow_the_answers(
    as_organiser, meeting, invitations, method, template
):
    response = getattr(as_organiser, method)(path_for(meeting, invitations, template, method))
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "template"), ACTIONS + READ_ONLY)
def test_an_administrator_may_do_everything(as_admin, meeting, invitations, method, template):
    response = getattr(as_admin, method)(
        path_for(meeting, invitations, template, method), data=FORM
    )
    assert response.status_code in (200, 302)


def test_the_meeting_page_links_to_the_invitations_only_for_its_managers(
    as_organiser, owner, organiser
):
    theirs = upcoming_meeting([owner])
    mine = upcoming_meeting([organiser])
    page = as_organiser.get(f"/meetings/{theirs.id}").get_data(as_text=True)
    assert f"/meetings/{theirs.id}/invitations/invite" not in page
    assert f"/meetings/{theirs.id}/invitations/" in page
    page = as_organiser.get(f"/meetings/{mine.id}").get_data(as_text=True)
    assert f"/meetings/{mine.id}/invitations/invite" in page
    assert f"/meetings/{mine.id}/invitations/message" in page


def test_missing_meetings_and_invitations_are_not_found(as_admin, meeting):
    assert as_admin.get("/meetings/999/invitations/").status_code == 404
    assert as_admin.get(f"/meetings/{meeting.id}/invitations/999/answer").status_code == 404


def test_buttons_that_change_state_need_the_csrf_token(csrf_app):
    owner = UserFactory()
    meeting = upcoming_meeting([owner])
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(owner.id)
        session["_fresh"] = True
    for path in ("/send", f"/{invitation.id}/resend", "/resend", f"/{invitation.id}/revoke"):
        response = client.post(f"/meetings/{meeting.id}/invitations{path}")
        assert response.status_code == 400
    assert outbox() == []
