"""Sign-in on the day: check-in codes and their QR code, the check-in page's search, one-tap
marking and undo, walk-ins, the confirmation e-mail's code, and the page's query count."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.attendance import services
from app.attendance.checkin import (
    checkin_code,
    checkin_qr_svg,
    invitation_for_code,
    parse_code,
)
from app.attendance.status import attendance_of
from app.extensions import db
from app.invitations.answers import record_answer
from app.models import Answer, Attendance, Contact, Invitation, OutboxMessage
from tests.factories import ContactFactory, OrganisationFactory, UserFactory
from tests.invitations_organiser_helpers import directory, invite_all
from tests.invitee_helpers import NOW, a_meeting, invite, set_answer


def meeting_now(**fields):
    real_now = datetime.now(UTC).replace(microsecond=0)
    return a_meeting(now=real_now, starts_at=real_now - timedelta(minutes=30), **fields)


def coming(meeting, **contact_fields) -> Invitation:
    invitation, _token = invite(meeting, **contact_fields)
    set_answer(invitation, Answer.COMING)
    return invitation


def status(invitation: Invitation) -> Attendance | None:
    db.session.refresh(invitation)
    return attendance_of(invitation, invitation.meeting)


@pytest.fixture
def door(client, login):
    """A meeting under way, its organiser logged in, English pages."""
    meeting = meeting_now()
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    return meeting


# Codes


def _alt(code: str) -> str:
    """The text alternative of the QR code, in the installation's language (French)."""
    from flask_babel import force_locale, gettext

    with force_locale("fr"):
        return gettext("Check-in code %(code)s", code=code)


def test_code_is_the_id_and_a_mac(app):
    invitation = coming(a_meeting())
    code = checkin_code(invitation)
    number, mac = code.split("-")
    assert number == str(invitation.id) and len(mac) == 8 and mac.isupper()
    assert parse_code(code) == invitation.id
    assert invitation_for_code(invitation.meeting, code) == invitation


def test_code_typed_by_hand_is_tolerated(app):
    invitation = coming(a_meeting())
    code = checkin_code(invitation)
    number, mac = code.split("-")
    for typed in (
        code.lower(),
        f"  {number} {mac[:4]} {mac[4:]} ",
        f"{number}{mac}",
        f"{number}-{mac[:4]}-{mac[4:]}".lower(),
    ):
        assert invitation_for_code(invitation.meeting, typed) == invitation, typed


def test_a_wrong_mac_or_another_meetings_code_is_refused(app):
    invitation = coming(a_meeting())
    other = coming(a_meeting())
    code = checkin_code(invitation)
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert invitation_for_code(invitation.meeting, wrong) is None
    assert invitation_for_code(invitation.meeting, checkin_code(other)) is None
    # Someone else's number with this invitation's MAC.
    assert invitation_for_code(invitation.meeting, f"{other.id}-{code.split('-')[1]}") is None
    for garbage in ("", "-", "12", "ABCDEFGH", "abc-defghijk", "9" * 40):
        assert invitation_for_code(invitation.meeting, garbage) is None


def test_the_code_depends_on_the_secret_key(app):
    invitation = coming(a_meeting())
    code = checkin_code(invitation)
    app.config["SECRET_KEY"] = "another-secret"
    assert checkin_code(invitation) != code
    assert parse_code(code) is None


def test_qr_code_as_inline_svg(app):
    invitation = coming(a_meeting())
    svg = str(checkin_qr_svg(invitation))
    assert svg.startswith("<svg ") and 'role="img"' in svg
    assert f"<title>{_alt(checkin_code(invitation))}</title>" in svg


def test_confirmation_email_of_coming_carries_the_code(app):
    meeting = a_meeting()
    invitation, _token = invite(meeting)
    record_answer(invitation, True, "", NOW)
    db.session.commit()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "confirmation")
    ).one()
    code = checkin_code(invitation)
    assert code in message.text_body
    assert code in message.html_body
    assert "<svg " in message.html_body and "<img" not in message.html_body
    assert f"<title>{_alt(code)}</title>" in message.html_body


def test_confirmation_email_of_not_coming_has_no_code(app):
    meeting = a_meeting()
    invitation, _token = invite(meeting)
    record_answer(invitation, False, "", NOW)
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert checkin_code(invitation) not in message.text_body + message.html_body


# The check-in page


def test_search_without_javascript_ignores_accents_and_case(client, door):
    helene = coming(door, first_name="Hélène", last_name="Dupré")
    coming(door, first_name="Marc", last_name="Autre")
    page = client.get(f"/meetings/{door.id}/check-in?q=HELENE").get_data(as_text=True)
    assert "Dupré Hélène" in page and "Autre" not in page
    assert f"/check-in/{helene.id}/present" in page
    assert 'name="q"' in page and ">Search</button>" in page
    assert "checkin.js" in page


def test_search_by_organisation(client, door):
    home = OrganisationFactory(name="Centre social Les Grésilles")
    coming(door, last_name="Membre", organisation=home)
    coming(door, last_name="Ailleurs")
    page = client.get(f"/meetings/{door.id}/check-in?q=gresilles").get_data(as_text=True)
    assert "Membre" in page and "Ailleurs" not in page


def test_empty_search_lists_nobody_and_shows_the_count(client, door):
    present = coming(door, last_name="Présente")
    coming(door, last_name="Attendu")
    services.mark(present, Attendance.PRESENT, None, datetime.now(UTC))
    db.session.commit()
    page = client.get(f"/meetings/{door.id}/check-in").get_data(as_text=True)
    assert "1 present / 2 expected" in page
    assert "Attendu" not in page


def test_one_tap_present_then_undo(client, door):
    invitation = coming(door, last_name="Tapée")
    response = client.post(f"/meetings/{door.id}/check-in/{invitation.id}/present?q=tap")
    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{door.id}/check-in?q=tap")
    assert status(invitation) is Attendance.PRESENT
    assert invitation.arrived_at is not None
    page = client.get(f"/meetings/{door.id}/check-in?q=tap").get_data(as_text=True)
    assert "1 present / 1 expected" in page
    assert f"/check-in/{invitation.id}/undo" in page
    client.post(f"/meetings/{door.id}/check-in/{invitation.id}/undo?q=tap")
    assert status(invitation) is Attendance.EXPECTED
    assert invitation.arrived_at is None


def test_check_in_by_code(client, door):
    invitation = coming(door, first_name="Codée", last_name="Personne")
    number, mac = checkin_code(invitation).split("-")
    response = client.post(
        f"/meetings/{door.id}/check-in/code",
        data={"code": f" {number} {mac.lower()} "},
        follow_redirects=True,
    )
    assert "Codée Personne is present." in response.get_data(as_text=True)
    assert status(invitation) is Attendance.PRESENT


def test_unknown_code_says_so(client, door):
    invitation = coming(door)
    other = coming(a_meeting())
    for code in ("12-ABCDEFGH", checkin_code(other)):
        response = client.post(
            f"/meetings/{door.id}/check-in/code", data={"code": code}, follow_redirects=True
        )
        assert "is not a check-in code of this meeting" in response.get_data(as_text=True)
    assert status(invitation) is Attendance.EXPECTED
    assert status(other) is Attendance.EXPECTED


def test_walk_in_from_the_directory_search(client, door):
    contact = ContactFactory(first_name="Venue", last_name="Sans-Invitation")
    page = client.get(f"/meetings/{door.id}/check-in?q=sans-invitation").get_data(as_text=True)
    assert "In the directory, not on the list" in page
    client.post(f"/meetings/{door.id}/check-in/walk-in", data={"contact_id": str(contact.id)})
    invitation = db.session.scalars(select(Invitation)).one()
    assert invitation.walk_in and invitation.contact_id == contact.id
    page = client.get(f"/meetings/{door.id}/check-in?q=sans-invitation").get_data(as_text=True)
    assert "Walk-in" in page and "1 present / 1 expected" in page


def test_walk_in_created_at_the_door(client, door):
    form = client.get(f"/meetings/{door.id}/check-in/new-walk-in").get_data(as_text=True)
    assert 'name="new_organisation"' in form
    assert f'href="/meetings/{door.id}/check-in/new-walk-in"' in client.get(
        f"/meetings/{door.id}/check-in"
    ).get_data(as_text=True)
    response = client.post(
        f"/meetings/{door.id}/check-in/new-walk-in",
        data={
            "first_name": "Nouvelle",
            "last_name": "Venue",
            "email": "nouvelle@example.org",
            "new_organisation": "Association du quartier",
        },
        follow_redirects=True,
    )
    assert "Nouvelle Venue is present." in response.get_data(as_text=True)
    contact = db.session.scalars(select(Contact)).one()
    assert contact.organisation.name == "Association du quartier"


def test_walk_in_form_errors_are_shown(client, door):
    response = client.post(
        f"/meetings/{door.id}/check-in/new-walk-in",
        data={"last_name": "Sans adresse", "email": "pas-une-adresse"},
    )
    assert response.status_code == 400
    assert "This is not a valid e-mail address." in response.get_data(as_text=True)
    assert 'value="Sans adresse"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Contact.id))) == 0


def test_undo_of_a_walk_in_takes_them_off_the_list(client, door):
    contact = ContactFactory()
    invitation = services.add_walk_in(door, contact, None, datetime.now(UTC))
    db.session.commit()
    client.post(f"/meetings/{door.id}/check-in/{invitation.id}/undo")
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    assert db.session.get(Contact, contact.id) is not None


def test_check_in_before_the_day_is_refused(client, login):
    real_now = datetime.now(UTC).replace(microsecond=0)
    meeting = a_meeting(now=real_now)
    invitation = coming(meeting)
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/check-in").get_data(as_text=True)
    assert "from the day of the meeting" in page
    client.post(f"/meetings/{meeting.id}/check-in/{invitation.id}/present")
    assert status(invitation) is Attendance.EXPECTED


def test_check_in_refused_to_other_organisers(client, login):
    meeting = meeting_now()
    invitation = coming(meeting)
    login(UserFactory())
    url = f"/meetings/{meeting.id}/check-in/{invitation.id}/present"
    assert client.post(url).status_code == 403
    assert (
        client.post(f"/meetings/{meeting.id}/check-in/code", data={"code": "x"}).status_code == 403
    )
    assert status(invitation) is Attendance.EXPECTED


def test_check_in_needs_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    meeting = meeting_now()
    invitation = coming(meeting)
    with client.session_transaction() as session:
        session["_user_id"] = str(meeting.organisers[0].id)
        session["_fresh"] = True
    response = client.post(f"/meetings/{meeting.id}/check-in/{invitation.id}/present")
    assert response.status_code == 400
    assert status(invitation) is Attendance.EXPECTED


def checkin_page_queries(client, meeting, count_queries) -> int:
    url = f"/meetings/{meeting.id}/check-in?q=nom"
    client.set_cookie("lang", "en")
    client.get(url)
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    assert "present /" in response.get_data(as_text=True)
    return counter.count


def test_check_in_page_runs_the_same_queries_for_20_and_500_invitees(client, login, count_queries):
    small, large = meeting_now(), meeting_now()
    for meeting, count in ((small, 20), (large, 500)):
        invitations = invite_all(
            meeting, directory(count, prefix=f"m{meeting.id}-"), invited_at=NOW
        )
        for invitation in invitations[::2]:
            invitation.answer = Answer.COMING
        invitations[0].attendance = Attendance.PRESENT
        db.session.commit()
    login(UserFactory(is_admin=True))
    with_twenty = checkin_page_queries(client, small, count_queries)
    with_five_hundred = checkin_page_queries(client, large, count_queries)
    assert with_twenty == with_five_hundred <= 8
