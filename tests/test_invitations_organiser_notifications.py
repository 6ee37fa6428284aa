"""Telling invitees about a new time or place (with the updated calendar entry) and about a
cancellation (METHOD:CANCEL), from the meeting's edit and cancel pages."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import services
from app.meetings import services as meeting_services
from app.meetings.services import MeetingStateError
from app.models import Answer, MeetingStatus, OutboxMessage
from tests.factories import UserFactory
from tests.invitations_organiser_helpers import (
    SEED_NOW,
    answer,
    directory,
    invite_all,
    outbox,
    seed_meeting,
    upcoming_meeting,
)


def edit_form(meeting, **changes) -> dict:
    """The meeting's edit form as the browser posts it, unchanged but for `changes`."""
    starts_at, ends_at = meeting.local_starts_at, meeting.local_ends_at
    values = {
        "title": meeting.title,
        "start_date": starts_at.date().isoformat(),
        "start_time": starts_at.strftime("%H:%M"),
        "end_time": ends_at.strftime("%H:%M"),
        "timezone": meeting.timezone,
        "venue_name": meeting.venue_name,
        "venue_address": meeting.venue_address,
        "venue_postcode": meeting.venue_postcode,
        "venue_town": meeting.venue_town,
        "contact_name": meeting.contact_name,
        "contact_email": meeting.contact_email,
        "capacity": str(meeting.capacity or ""),
    }
    values.update(changes)
    return values


def four_invitees(meeting):
    """Coming, not coming, no answer, and one on the list who never got the invitation."""
    coming, declined, silent, unsent = invite_all(meeting, directory(4), invited_at=SEED_NOW)
    answer(coming, Answer.COMING)
    answer(declined, Answer.NOT_COMING)
    unsent.invited_at = None
    db.session.commit()
    return coming, declined, silent, unsent


def test_time_or_place_changed_names_what_changed(app):
    meeting = seed_meeting()
    before = meeting_services.time_and_place(meeting)
    assert services.time_or_place_changed(before, dict(before)) == set()
    after = dict(before, ends_at=meeting.ends_at + timedelta(hours=1))
    assert services.time_or_place_changed(before, after) == {"time"}
    after = dict(before, venue_town="Bezons", timezone="Indian/Reunion")
    assert services.time_or_place_changed(before, after) == {"time", "place"}


def test_a_new_time_raises_the_sequence_and_offers_to_tell_the_invitees(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    four_invitees(meeting)
    login(organiser)
    client.set_cookie("lang", "en")
    later = (meeting.local_ends_at + timedelta(hours=1)).strftime("%H:%M")
    response = client.post(f"/meetings/{meeting.id}/edit", data=edit_form(meeting, end_time=later))

    assert response.status_code == 302
    assert f"/meetings/{meeting.id}/invitations/notify-change?changed=time" in response.location
    db.session.refresh(meeting)
    assert meeting.sequence == 1
    page = client.get(response.location).get_data(as_text=True)
    assert "The date or time of the meeting has changed." in page
    assert "Tell 2 people" in page
    # The preview shows the e-mail as the invitees get it: in French.
    assert "Modification de la réunion" in page
    assert outbox() == []


def test_telling_the_invitees_sends_the_new_details_and_the_calendar_to_those_coming(
    as_organiser, organiser
):
    meeting = upcoming_meeting([organiser], sequence=1)
    coming, declined, silent, _unsent = four_invitees(meeting)
    response = as_organiser.post(f"/meetings/{meeting.id}/invitations/notify-change")
    assert response.status_code == 302

    messages = outbox("meeting_update")
    assert sorted(message.invitation_id for message in messages) == sorted([coming.id, silent.id])
    by_invitation = {message.invitation_id: message for message in messages}
    calendar = by_invitation[coming.id].calendar
    assert by_invitation[coming.id].calendar_method == "REQUEST"
    assert "METHOD:REQUEST" in calendar and "SEQUENCE:1" in calendar
    assert by_invitation[silent.id].calendar is None
    # Those who have not answered get the answer links again.
    assert "?answer=yes" in by_invitation[silent.id].text_body
    assert by_invitation[coming.id].reply_to_address == "j.feron@example.org"


def test_a_change_of_title_only_asks_nothing(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    four_invitees(meeting)
    response = as_organiser.post(
        f"/meetings/{meeting.id}/edit", data=edit_form(meeting, title="Nouveau titre")
    )
    assert response.location.endswith(f"/meetings/{meeting.id}")
    db.session.refresh(meeting)
    assert meeting.sequence == 0


def test_a_change_of_place_without_anyone_invited_asks_nothing(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    invite_all(meeting, directory(1))  # on the list, never sent
    response = as_organiser.post(
        f"/meetings/{meeting.id}/edit", data=edit_form(meeting, venue_name="Salle des fêtes")
    )
    assert response.location.endswith(f"/meetings/{meeting.id}")
    db.session.refresh(meeting)
    assert meeting.sequence == 1


def test_a_draft_is_not_notified(as_organiser, organiser):
    meeting = upcoming_meeting([organiser], status=MeetingStatus.DRAFT)
    four_invitees(meeting)
    response = as_organiser.post(
        f"/meetings/{meeting.id}/edit", data=edit_form(meeting, venue_name="Salle des fêtes")
    )
    assert response.location.endswith(f"/meetings/{meeting.id}")
    as_organiser.post(f"/meetings/{meeting.id}/invitations/notify-change")
    assert outbox() == []


def test_a_larger_capacity_gives_places_to_those_waiting(as_organiser, organiser):
    meeting = upcoming_meeting([organiser], capacity=1)
    coming, first, second = invite_all(meeting, directory(3), invited_at=SEED_NOW)
    answer(coming, Answer.COMING)
    answer(first, Answer.WAITING, at=SEED_NOW)
    answer(second, Answer.WAITING, at=SEED_NOW + timedelta(minutes=1))
    as_organiser.post(f"/meetings/{meeting.id}/edit", data=edit_form(meeting, capacity="2"))
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.answer, second.answer) == (Answer.COMING, Answer.WAITING)
    assert [message.invitation_id for message in outbox("promotion")] == [first.id]


def test_notify_change_refuses_a_cancelled_meeting(app):
    meeting = seed_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Grève")
    with pytest.raises(MeetingStateError):
        services.notify_change(meeting, None, SEED_NOW)


# Cancellation


def test_cancel_page_offers_the_notice_checked_when_people_were_invited(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    login(organiser)
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/cancel").get_data(as_text=True)
    assert 'name="notify"' not in page

    four_invitees(meeting)
    page = client.get(f"/meetings/{meeting.id}/cancel").get_data(as_text=True)
    assert re.search(r'<input [^>]*\bchecked id="notify" name="notify" type="checkbox"', page)
    assert "2 people received the invitation" in page


def test_cancelling_with_the_notice_tells_everyone_who_had_not_declined(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    coming, _declined, silent, _unsent = four_invitees(meeting)
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.post(
        f"/meetings/{meeting.id}/cancel",
        data={"reason": "La salle n'est plus disponible.", "notify": "y"},
        follow_redirects=True,
    )
    assert "2 people are being told by e-mail" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.CANCELLED

    messages = {message.invitation_id: message for message in outbox("meeting_cancelled")}
    assert set(messages) == {coming.id, silent.id}
    assert messages[coming.id].calendar_method == "CANCEL"
    assert "METHOD:CANCEL" in messages[coming.id].calendar
    # The cancelled event supersedes the one calendars hold: its SEQUENCE is higher.
    assert meeting.sequence == 1
    assert "SEQUENCE:1" in messages[coming.id].calendar
    assert messages[silent.id].calendar is None
    for message in messages.values():
        assert "La salle n'est plus disponible." in message.text_body
        assert "La salle n&#39;est plus disponible." in message.html_body
        assert "/i/" not in message.text_body  # nothing left to answer


def test_cancelling_without_the_notice_sends_nothing(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    four_invitees(meeting)
    as_organiser.post(f"/meetings/{meeting.id}/cancel", data={"reason": "Grève"})
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.CANCELLED
    assert outbox() == []


def test_cancellation_notice_needs_a_cancelled_meeting(app):
    meeting = seed_meeting()
    with pytest.raises(MeetingStateError):
        services.notify_cancellation(meeting, None, SEED_NOW)


def test_cancellation_text_in_english_names_the_meeting_and_its_date(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    meeting = seed_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Grève")
    coming, *_others = four_invitees(meeting)
    assert services.notify_cancellation(meeting, UserFactory(), SEED_NOW) == 2
    db.session.commit()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == coming.id)
    ).one()
    assert message.subject == "Cancelled: Liens École et centres sociaux, Tuesday 5 June 2018"
    assert "is cancelled" in message.text_body
