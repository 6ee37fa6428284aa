"""The attendance record: statuses marked and derived, closing and reopening with the history,
walk-ins, counts, and the organiser's record page."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.attendance import services
from app.attendance.status import attendance_of
from app.contacts.normalise import FieldError
from app.contacts.services import ContactData
from app.extensions import db
from app.meetings.services import MeetingStateError
from app.models import (
    Answer,
    Attendance,
    AttendanceChange,
    Contact,
    Invitation,
    MeetingStatus,
    Organisation,
    OrganisationKind,
)
from app.organisations.services import OrganisationData
from tests.factories import ContactFactory, OrganisationFactory, UserFactory
from tests.invitations_organiser_helpers import directory, invite_all
from tests.invitee_helpers import NOW, a_meeting, database_snapshot, invite, set_answer

# Meetings of the service tests start one hour after NOW (10:00 in Paris).
DURING = NOW + timedelta(hours=2)
AFTER = NOW + timedelta(hours=6)


def meeting_today(**fields):
    return a_meeting(starts_at=NOW + timedelta(hours=1), **fields)


def meeting_now(**fields):
    """A meeting under way by the clock of the request handlers."""
    real_now = datetime.now(UTC).replace(microsecond=0)
    return a_meeting(now=real_now, starts_at=real_now - timedelta(minutes=30), **fields)


def answered(meeting, answer: Answer, **contact_fields) -> Invitation:
    invitation, _token = invite(meeting, **contact_fields)
    set_answer(invitation, answer)
    return invitation


def status(invitation: Invitation) -> Attendance | None:
    db.session.refresh(invitation)
    return attendance_of(invitation, invitation.meeting)


def history(meeting) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        select(AttendanceChange)
        .where(AttendanceChange.meeting_id == meeting.id)
        .order_by(AttendanceChange.id)
    )
    return [(row.field, row.before, row.after) for row in rows]


# Statuses


def test_before_closing_coming_is_expected_and_not_coming_excused(app):
    meeting = meeting_today()
    coming = answered(meeting, Answer.COMING)
    not_coming = answered(meeting, Answer.NOT_COMING)
    silent, _token = invite(meeting)
    assert status(coming) is Attendance.EXPECTED
    assert status(not_coming) is Attendance.EXCUSED
    assert status(silent) is None


def test_marking_present_then_back_to_automatic(app):
    meeting = meeting_today()
    organiser = meeting.organisers[0]
    coming = answered(meeting, Answer.COMING)
    assert services.mark(coming, Attendance.PRESENT, organiser, DURING) is Attendance.PRESENT
    db.session.commit()
    assert coming.attendance is Attendance.PRESENT
    assert services.mark(coming, None, organiser, DURING) is Attendance.EXPECTED
    db.session.commit()
    assert coming.attendance is None
    # Nothing is written to the history while the record is open.
    assert history(meeting) == []


def test_not_coming_can_be_marked_present_or_absent(app):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.NOT_COMING)
    services.mark(invitation, Attendance.ABSENT, None, DURING)
    assert status(invitation) is Attendance.ABSENT
    services.mark(invitation, Attendance.PRESENT, None, DURING)
    assert status(invitation) is Attendance.PRESENT


def test_expected_cannot_be_stored(app):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.COMING)
    with pytest.raises(ValueError):
        services.mark(invitation, Attendance.EXPECTED, None, DURING)


@pytest.mark.parametrize("state", [MeetingStatus.DRAFT, MeetingStatus.CANCELLED])
def test_marking_refused_on_draft_and_cancelled_meetings(app, state):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.COMING)
    meeting.status = state
    db.session.commit()
    with pytest.raises(MeetingStateError):
        services.mark(invitation, Attendance.PRESENT, None, DURING)
    with pytest.raises(MeetingStateError):
        services.close_record(meeting, None, AFTER)
    assert services.attendance_summary(meeting, DURING) is None


def test_marking_opens_at_midnight_of_the_meetings_local_day(app):
    # 10:00 in Paris (UTC+2 in May): the day opens at 22:00 UTC the evening before.
    meeting = meeting_today()
    invitation = answered(meeting, Answer.COMING)
    opening = datetime(2026, 5, 19, 22, 0, tzinfo=UTC)
    assert services.marking_opens_at(meeting) == opening
    with pytest.raises(MeetingStateError):
        services.mark(invitation, Attendance.PRESENT, None, opening - timedelta(seconds=1))
    services.mark(invitation, Attendance.PRESENT, None, opening)
    assert status(invitation) is Attendance.PRESENT


def test_times_are_recorded_and_checked(app):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.COMING)
    arrived, left = NOW + timedelta(hours=1, minutes=5), NOW + timedelta(hours=3)
    services.set_times(invitation, arrived, left, None, DURING)
    db.session.commit()
    assert (invitation.arrived_at, invitation.left_at) == (arrived, left)
    with pytest.raises(services.InvalidTimes):
        services.set_times(invitation, left, arrived, None, DURING)


# Closing and reopening


def test_closing_turns_expected_and_unanswered_into_absent(app):
    meeting = meeting_today()
    organiser = meeting.organisers[0]
    expected = answered(meeting, Answer.COMING)
    present = answered(meeting, Answer.COMING)
    excused = answered(meeting, Answer.NOT_COMING)
    silent, _token = invite(meeting)
    waiting = answered(meeting, Answer.WAITING)
    not_sent = Invitation(meeting=meeting, contact=ContactFactory())
    db.session.add(not_sent)
    db.session.commit()
    services.mark(present, Attendance.PRESENT, organiser, DURING)
    assert services.close_record(meeting, organiser, AFTER) == 2
    db.session.commit()
    assert meeting.attendance_closed_at == AFTER
    assert expected.attendance is Attendance.ABSENT
    assert silent.attendance is Attendance.ABSENT
    assert status(present) is Attendance.PRESENT
    assert status(excused) is Attendance.EXCUSED and excused.attendance is None
    assert status(waiting) is None
    assert status(not_sent) is None
    assert history(meeting) == [("record", "open", "closed")]


def test_closing_needs_a_started_meeting_and_an_open_record(app):
    meeting = meeting_today()
    with pytest.raises(MeetingStateError):
        services.close_record(meeting, None, NOW)
    services.close_record(meeting, None, DURING)
    with pytest.raises(MeetingStateError):
        services.close_record(meeting, None, AFTER)


def test_changes_after_closing_are_kept_in_the_history(app):
    meeting = meeting_today()
    organiser = meeting.organisers[0]
    invitation = answered(meeting, Answer.COMING)
    services.close_record(meeting, organiser, AFTER)
    services.mark(invitation, Attendance.PRESENT, organiser, AFTER)
    services.set_times(invitation, NOW + timedelta(hours=1), None, organiser, AFTER)
    services.mark(invitation, None, organiser, AFTER)
    db.session.commit()
    assert history(meeting) == [
        ("record", "open", "closed"),
        ("attendance", "absent", "present"),
        ("arrived_at", "", "2026-05-20 11:00"),
        ("attendance", "present", "absent"),
    ]
    change = services.record_history(meeting)[0]
    assert change.user == organiser and change.invitation == invitation
    assert change.changed_at == AFTER


def test_reopening_keeps_the_absences_and_is_logged(app):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.COMING)
    services.close_record(meeting, None, AFTER)
    with pytest.raises(MeetingStateError):
        services.reopen_record(meeting, None, NOW - timedelta(days=2))
    services.reopen_record(meeting, None, AFTER)
    db.session.commit()
    assert meeting.attendance_closed_at is None
    assert status(invitation) is Attendance.ABSENT
    assert history(meeting)[-1] == ("record", "closed", "open")
    with pytest.raises(MeetingStateError):
        services.reopen_record(meeting, None, AFTER)
    # Open again: changes are no longer logged.
    services.mark(invitation, Attendance.PRESENT, None, AFTER)
    assert len(history(meeting)) == 2


def test_unmarked_people_are_absent_once_closed_by_the_derived_rule_too(app):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.COMING)
    services.close_record(meeting, None, AFTER)
    services.mark(invitation, None, None, AFTER)
    db.session.commit()
    assert invitation.attendance is None
    assert status(invitation) is Attendance.ABSENT


# Walk-ins


def test_walk_in_from_the_directory(app):
    meeting = meeting_today()
    contact = ContactFactory()
    invitation = services.add_walk_in(meeting, contact, meeting.organisers[0], DURING)
    db.session.commit()
    assert invitation.walk_in and invitation.attendance is Attendance.PRESENT
    assert invitation.arrived_at == DURING
    assert invitation.answer is Answer.NONE and invitation.invited_at is None


def test_walk_in_created_on_the_spot_with_a_new_organisation(app):
    meeting = meeting_today()
    data = ContactData(last_name="Nouvelle", first_name="Inès", email="ines@example.org")
    invitation = services.add_walk_in(
        meeting, data, None, DURING, OrganisationData(name="Le Pôle", kind=OrganisationKind.OTHER)
    )
    db.session.commit()
    contact = invitation.contact
    assert (contact.full_name, contact.email) == ("Inès Nouvelle", "ines@example.org")
    assert contact.organisation.name == "Le Pôle"
    # A second walk-in of the same organisation reuses it.
    other = ContactData(last_name="Autre", email="autre@example.org")
    services.add_walk_in(
        meeting, other, None, DURING, OrganisationData(name="le pole", kind=OrganisationKind.OTHER)
    )
    db.session.commit()
    assert db.session.scalar(select(func.count(Organisation.id))) == 1


def test_walk_in_with_an_existing_organisation_and_a_bad_address(app):
    meeting = meeting_today()
    home = OrganisationFactory()
    data = ContactData(last_name="Martin", email="martin@example.org", organisation_id=home.id)
    invitation = services.add_walk_in(meeting, data, None, DURING)
    assert invitation.contact.organisation_id == home.id
    with pytest.raises(FieldError):
        services.add_walk_in(meeting, ContactData(last_name="X", email="nope"), None, DURING)


def test_walk_in_already_invited_is_checked_in_without_a_duplicate(app):
    meeting = meeting_today()
    invitation = answered(meeting, Answer.NOT_COMING, email="deja@example.org")
    same = services.add_walk_in(meeting, invitation.contact, None, DURING)
    by_address = services.add_walk_in(
        meeting, ContactData(last_name="Déjà", email="DEJA@example.org"), None, DURING
    )
    db.session.commit()
    assert same is invitation and by_address is invitation
    assert not invitation.walk_in and invitation.attendance is Attendance.PRESENT
    assert db.session.scalar(select(func.count(Invitation.id))) == 1
    assert db.session.scalar(select(func.count(Contact.id))) == 1


def test_walk_in_refused_before_the_day(app):
    meeting = meeting_today()
    with pytest.raises(MeetingStateError):
        services.add_walk_in(meeting, ContactFactory(), None, NOW - timedelta(days=1))


# Counts and lists


def test_counts_in_one_query(app, count_queries):
    meeting = meeting_today()
    for answer in (Answer.COMING, Answer.COMING, Answer.COMING, Answer.NOT_COMING):
        answered(meeting, answer)
    present = answered(meeting, Answer.COMING)
    services.mark(present, Attendance.PRESENT, None, DURING)
    services.add_walk_in(meeting, ContactFactory(), None, DURING)
    db.session.commit()
    db.session.refresh(meeting)
    with count_queries() as counter:
        counts = services.attendance_counts(meeting)
    assert counter.count == 1
    assert counts == services.AttendanceCounts(
        present=2, expected=3, excused=1, absent=0, walk_ins=1
    )
    services.close_record(meeting, None, AFTER)
    assert services.attendance_counts(meeting) == services.AttendanceCounts(2, 0, 1, 3, 1)


def test_record_query_filters(app):
    meeting = meeting_today()
    helene = answered(meeting, Answer.COMING, first_name="Hélène", last_name="Dupré")
    other = answered(meeting, Answer.NOT_COMING)
    walk_in = services.add_walk_in(meeting, ContactFactory(), None, DURING)
    db.session.commit()

    def ids(**filters):
        statement = services.record_query(meeting, services.RecordFilters(**filters))
        return [row[0].id for row in db.session.execute(statement)]

    assert ids(query="helene dupre") == [helene.id]
    assert ids(query="DUPRE HELENE") == [helene.id]
    assert ids(attendance=Attendance.EXCUSED) == [other.id]
    assert ids(walk_ins_only=True) == [walk_in.id]
    assert ids(organisation_id=other.contact.organisation_id) == [other.id]
    assert len(ids()) == 3


def test_summary_before_the_day_only_counts_the_expected(app):
    meeting = meeting_today()
    answered(meeting, Answer.COMING)
    summary = services.attendance_summary(meeting, NOW - timedelta(days=3))
    assert not summary.markable and summary.counts.expected == 1
    assert services.attendance_summary(meeting, DURING).markable


# The record page


def test_record_page_lists_people_by_organisation_with_their_status(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    zed = OrganisationFactory(name="Zèbre")
    answered(meeting, Answer.COMING, last_name="Premier", organisation=zed)
    answered(meeting, Answer.NOT_COMING, last_name="Second")
    page = client.get(f"/meetings/{meeting.id}/attendance").get_data(as_text=True)
    assert page.index("Second") < page.index("Premier")
    assert "Expected" in page and "Excused" in page
    assert "Close the record" in page
    assert "History of changes" in page


def test_marking_through_the_record_page(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    invitation = answered(meeting, Answer.COMING)
    url = f"/meetings/{meeting.id}/attendance/{invitation.id}/mark?q=nom&page=1"
    response = client.post(url, data={"attendance": "excused"})
    assert response.status_code == 302
    assert response.location.endswith(
        f"/meetings/{meeting.id}/attendance?q=nom&page=1#invitation-{invitation.id}"
    )
    assert status(invitation) is Attendance.EXCUSED
    client.post(url, data={"attendance": "automatic"})
    assert status(invitation) is Attendance.EXPECTED
    assert client.post(url, data={"attendance": "expected"}).status_code == 400


def test_times_through_the_record_page(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    invitation = answered(meeting, Answer.COMING)
    url = f"/meetings/{meeting.id}/attendance/{invitation.id}/times"
    client.post(url, data={"arrived_at": "09:05", "left_at": ""})
    db.session.refresh(invitation)
    local = invitation.arrived_at.astimezone(meeting.zone)
    assert (local.date(), local.hour, local.minute) == (meeting.local_starts_at.date(), 9, 5)
    assert invitation.left_at is None
    client.set_cookie("lang", "en")
    response = client.post(
        url, data={"arrived_at": "10:00", "left_at": "09:00"}, follow_redirects=True
    )
    assert "The departure time is before the arrival time." in response.get_data(as_text=True)


def test_closing_and_reopening_through_the_pages(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    invitation = answered(meeting, Answer.COMING)
    confirm = client.get(f"/meetings/{meeting.id}/attendance/close").get_data(as_text=True)
    assert "1 person is still expected" in confirm
    client.post(f"/meetings/{meeting.id}/attendance/close")
    assert status(invitation) is Attendance.ABSENT
    client.post(
        f"/meetings/{meeting.id}/attendance/{invitation.id}/mark", data={"attendance": "present"}
    )
    page = client.get(f"/meetings/{meeting.id}/attendance").get_data(as_text=True)
    assert "Reopen the record" in page and "Absent → Present" in page
    client.post(f"/meetings/{meeting.id}/attendance/reopen")
    db.session.refresh(meeting)
    assert meeting.attendance_closed_at is None


def test_closing_refused_before_the_meeting_starts(client, login):
    real_now = datetime.now(UTC).replace(microsecond=0)
    meeting = a_meeting(now=real_now, starts_at=real_now + timedelta(days=3))
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/attendance/close").get_data(as_text=True)
    assert "Attendance can be recorded from the day of the meeting." in page
    client.post(f"/meetings/{meeting.id}/attendance/close")
    db.session.refresh(meeting)
    assert meeting.attendance_closed_at is None


@pytest.mark.parametrize(
    "path",
    ["attendance", "attendance/close", "attendance/reopen", "check-in"],
)
def test_pages_are_for_the_meetings_organisers_and_administrators(client, login, path):
    meeting = meeting_now()
    url = f"/meetings/{meeting.id}/{path}"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.location
    login(UserFactory())
    assert client.get(url).status_code == 403
    login(UserFactory(is_admin=True))
    assert client.get(url).status_code == 200


def test_changes_refused_to_other_organisers(client, login):
    meeting = meeting_now()
    invitation = answered(meeting, Answer.COMING)
    login(UserFactory())
    mark = f"/meetings/{meeting.id}/attendance/{invitation.id}/mark"
    assert client.post(mark, data={"attendance": "present"}).status_code == 403
    assert client.post(f"/meetings/{meeting.id}/attendance/close").status_code == 403
    assert status(invitation) is Attendance.EXPECTED


def test_marking_a_cancelled_meeting_is_refused_with_a_message(client, login):
    meeting = meeting_now()
    invitation = answered(meeting, Answer.COMING)
    meeting.status = MeetingStatus.CANCELLED
    db.session.commit()
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    response = client.post(
        f"/meetings/{meeting.id}/attendance/{invitation.id}/mark",
        data={"attendance": "present"},
        follow_redirects=True,
    )
    assert "cancelled: there is no attendance to record" in response.get_data(as_text=True)
    assert status(invitation) is Attendance.EXPECTED


def test_get_requests_change_nothing(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    answered(meeting, Answer.COMING)
    before = database_snapshot()
    for path in ("attendance", "attendance/close", "attendance/reopen", "check-in?q=nom"):
        assert client.get(f"/meetings/{meeting.id}/{path}").status_code == 200
    assert database_snapshot() == before


def test_meeting_page_shows_the_attendance_summary(client, login):
    meeting = meeting_now()
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    present = answered(meeting, Answer.COMING)
    answered(meeting, Answer.COMING)
    services.mark(present, Attendance.PRESENT, None, datetime.now(UTC))
    db.session.commit()
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Attendance record" in page and "Check-in page" in page
    assert "The record is open." in page


def test_meeting_page_of_a_future_meeting_only_counts_the_expected(client, login):
    real_now = datetime.now(UTC).replace(microsecond=0)
    meeting = a_meeting(now=real_now)
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    answered(meeting, Answer.COMING)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "1 person expected." in page
    assert "Check-in page" not in page


def record_page_queries(client, meeting, count_queries) -> int:
    url = f"/meetings/{meeting.id}/attendance?q=nom"
    client.get(url)
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def test_record_page_runs_the_same_queries_for_20_and_500_invitees(client, login, count_queries):
    small, large = meeting_now(), meeting_now()
    for meeting, count in ((small, 20), (large, 500)):
        invitations = invite_all(
            meeting, directory(count, prefix=f"m{meeting.id}-"), invited_at=NOW
        )
        for invitation in invitations[::2]:
            invitation.answer = Answer.COMING
        invitations[0].attendance = Attendance.PRESENT
        db.session.commit()
        services.close_record(meeting, None, datetime.now(UTC))
        services.mark(invitations[2], Attendance.PRESENT, None, datetime.now(UTC))
        db.session.commit()
    admin = UserFactory(is_admin=True)
    login(admin)
    assert record_page_queries(client, small, count_queries) == record_page_queries(
        client, large, count_queries
    )
