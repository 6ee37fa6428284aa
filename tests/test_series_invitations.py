"""Inviting people to a whole series at once: one e-mail per person listing the dates, with a
personal link per date and one to their own page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations.services import (
    AnswerFilters,
    DeliveryProgress,
    answers_query,
    delivery_progress,
    invite_contacts,
    resend_to,
)
from app.invitations.tokens import invitation_for_token
from app.models import (
    Contact,
    Invitation,
    Meeting,
    MeetingStatus,
    MessageStatus,
    OutboxMessage,
    Series,
    SeriesFrequency,
)
from app.series.services import SERIES_INVITATION_KIND, SeriesData, create_series
from tests.factories import ContactFactory, UserFactory
from tests.invitee_helpers import a_meeting, database_snapshot, invite

LINK = re.compile(r"http://localhost/i/([A-Za-z0-9_-]+)(/invitations)?")


@pytest.fixture
def series(app, client, login) -> list[Meeting]:
    """A weekly series of four meetings from two weeks ahead, created through its page by the
    logged-in organiser; the last one is turned back into a draft."""
    meeting = a_meeting(datetime.now(UTC))
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    form = {
        "frequency": "weekly",
        "step": "1",
        "week_of_month": "2",
        "start_date": meeting.local_starts_at.date().isoformat(),
        "occurrences": "4",
        "skipped_dates": "",
    }
    client.post(f"/series/new/{meeting.id}", data={**form, "create": ""})
    db.session.expire_all()
    meetings = list(db.session.scalars(select(Meeting).order_by(Meeting.starts_at)))
    assert len(meetings) == 4 and {m.series_id for m in meetings} != {None}
    meetings[-1].status = MeetingStatus.DRAFT
    db.session.commit()
    return meetings


def invite_to(meeting: Meeting, count: int) -> list[int]:
    contacts = [ContactFactory() for _number in range(count)]
    db.session.flush()
    invite_contacts(meeting, [contact.id for contact in contacts], None, datetime.now(UTC))
    db.session.commit()
    return [contact.id for contact in contacts]


def series_emails() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == SERIES_INVITATION_KIND)
            .order_by(OutboxMessage.to_address)
        )
    )


def invited_meetings(contact_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Invitation.meeting_id).where(
                Invitation.contact_id == contact_id, Invitation.invited_at.is_not(None)
            )
        )
    )


def test_everyone_is_invited_to_every_published_date_with_one_email_each(client, series):
    published, draft = series[:3], series[3]
    contact_ids = invite_to(published[0], 2)

    response = client.post(f"/series/{published[0].series_id}/invite", follow_redirects=True)

    assert response.status_code == 200
    assert "2 invitations to the series are being sent." in response.get_data(as_text=True)
    for contact_id in contact_ids:
        assert invited_meetings(contact_id) == {meeting.id for meeting in published}
    assert (
        db.session.scalars(select(Invitation).where(Invitation.meeting_id == draft.id)).all() == []
    )
    emails = series_emails()
    assert len(emails) == 2
    for email in emails:
        tokens = [match[1] for match in LINK.finditer(email.text_body) if not match[2]]
        own_page = [match[1] for match in LINK.finditer(email.text_body) if match[2]]
        assert len(tokens) == len(set(tokens)) == 3
        assert email.subject.endswith("3 dates")
        invitations = [invitation_for_token(token) for token in tokens]
        assert [invitation.meeting_id for invitation in invitations] == [m.id for m in published]
        assert {invitation.contact.email for invitation in invitations} == {email.to_address}
        for token in tokens:
            assert client.get(f"/i/{token}").status_code == 200
            assert f"/i/{token}" in email.html_body
        assert len(own_page) == 1 and own_page[0] in tokens
        assert client.get(f"/i/{own_page[0]}/invitations").status_code == 200
    # The per-meeting send has nobody left to send to.
    assert db.session.scalar(select(Invitation.id).where(Invitation.invited_at.is_(None))) is None


def test_a_date_already_sent_is_left_out_of_the_email(client, series):
    first, second, third = series[:3]
    invite_to(first, 1)
    already, _token = invite(second, datetime.now(UTC))

    client.post(f"/series/{first.series_id}/invite")

    emails = {email.to_address: email for email in series_emails()}
    assert len(emails) == 2
    email = emails[already.contact.email]
    tokens = [match[1] for match in LINK.finditer(email.text_body) if not match[2]]
    assert [invitation_for_token(token).meeting_id for token in tokens] == [first.id, third.id]
    assert email.subject.endswith("2 dates")


def test_running_it_twice_sends_nothing_more(client, series):
    invite_to(series[0], 2)
    series_id = series[0].series_id
    client.post(f"/series/{series_id}/invite")
    before = database_snapshot()

    response = client.post(f"/series/{series_id}/invite", follow_redirects=True)

    assert "Everyone has already received the invitation to every date." in response.get_data(
        as_text=True
    )
    assert len(series_emails()) == 2
    # Only the outbox may have moved (a delivery attempt); invitations and links did not.
    after = database_snapshot()
    assert after["invitation"] == before["invitation"]
    assert after["invitation_link"] == before["invitation_link"]


def test_the_page_shows_the_dates_and_counts_and_changes_nothing(client, series):
    invite_to(series[0], 2)
    already, _token = invite(series[1], datetime.now(UTC))
    before = database_snapshot()

    response = client.get(f"/series/{series[0].series_id}/invite")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("not published: not included") == 1
    assert "3 people invited to at least one date" in page
    # Three people on three dates, three invitations already there.
    assert "6 invitations to add" in page
    assert "Send 3 e-mails" in page
    assert database_snapshot() == before


def test_the_meeting_page_links_to_the_page(client, series):
    page = client.get(f"/meetings/{series[1].id}").get_data(as_text=True)
    assert f"/series/{series[1].series_id}/invite" in page


def test_another_organiser_is_refused_and_an_anonymous_visitor_must_log_in(client, login, series):
    invite_to(series[0], 1)
    url = f"/series/{series[0].series_id}/invite"
    login(UserFactory())
    db.session.commit()
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    client.get("/logout")
    with client.session_transaction() as session:
        session.clear()
    response = client.post(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert series_emails() == []


def test_a_missing_series_is_not_found(client, series):
    assert db.session.get(Series, 999) is None
    assert client.get("/series/999/invite").status_code == 404


def test_a_series_with_no_published_date_to_come_sends_nothing(client, series):
    invite_to(series[0], 1)
    for meeting in series[:3]:
        meeting.starts_at -= timedelta(days=60)
        meeting.ends_at -= timedelta(days=60)
    db.session.commit()

    response = client.post(f"/series/{series[0].series_id}/invite", follow_redirects=True)

    assert "This series has no published meeting still to come." in response.get_data(as_text=True)
    assert series_emails() == []


def test_the_email_text_is_edited_and_previewed_before_sending(client, series):
    invite_to(series[0], 1)
    series_id = series[0].series_id
    page = client.get(f"/series/{series_id}/invite").get_data(as_text=True)
    assert "This is the default text, built from the series." in page
    assert "3 dates" in page

    response = client.post(
        f"/series/{series_id}/invite/message",
        data={"subject": "Nos rencontres de l’année", "message": "Bonjour,\n\nVoici les dates."},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "The series e-mail text is saved." in page
    assert "Nos rencontres de l’année" in page and "Voici les dates." in page
    frame = client.get(f"/series/{series_id}/invite/preview")
    assert frame.status_code == 200
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert "Voici les dates." in frame.get_data(as_text=True)
    assert series_emails() == []

    client.post(f"/series/{series_id}/invite")

    (email,) = series_emails()
    assert email.subject == "Nos rencontres de l’année"
    assert "Voici les dates." in email.text_body and "Voici les dates." in email.html_body
    assert "We are pleased" not in email.text_body


def test_going_back_to_the_default_text(client, series):
    series_id = series[0].series_id
    client.post(
        f"/series/{series_id}/invite/message", data={"subject": "Autre", "message": "Autre."}
    )
    client.post(
        f"/series/{series_id}/invite/message",
        data={"subject": "", "message": "", "restore_default": "1"},
    )
    db.session.expire_all()
    saved = db.session.get(Series, series_id)
    assert (saved.invitation_subject, saved.invitation_message) == ("", "")


def test_an_empty_subject_is_refused_next_to_the_field_and_the_text_kept(client, series):
    series_id = series[0].series_id
    response = client.post(
        f"/series/{series_id}/invite/message", data={"subject": "", "message": "Mon texte."}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please give a subject." in page and "Mon texte." in page
    db.session.expire_all()
    assert db.session.get(Series, series_id).invitation_message == ""


def test_the_text_and_preview_are_refused_to_others(client, login, series):
    series_id = series[0].series_id
    login(UserFactory())
    db.session.commit()
    assert client.get(f"/series/{series_id}/invite/preview").status_code == 403
    message = client.post(f"/series/{series_id}/invite/message", data={"subject": "x"})
    assert message.status_code == 403
    client.get("/logout")
    with client.session_transaction() as session:
        session.clear()
    response = client.get(f"/series/{series_id}/invite/preview")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_preview_of_a_series_with_no_date_to_come_is_not_found(client, series):
    for meeting in series[:3]:
        meeting.starts_at -= timedelta(days=60)
        meeting.ends_at -= timedelta(days=60)
    db.session.commit()
    assert client.get(f"/series/{series[0].series_id}/invite/preview").status_code == 404


def test_the_delivery_shows_on_every_date_of_the_email(client, series):
    invite_to(series[0], 2)
    client.post(f"/series/{series[0].series_id}/invite")
    (failed, _sent) = series_emails()
    failed.status, failed.last_error = MessageStatus.FAILED, "550 mailbox unavailable"
    db.session.commit()

    for meeting in series[:3]:
        assert delivery_progress(meeting) == DeliveryProgress(queued=1, failed=1)
        rows = db.session.execute(answers_query(meeting, AnswerFilters(email="failed"))).all()
        assert [row.Invitation.contact.email for row in rows] == [failed.to_address]
        assert rows[0].email_error == "550 mailbox unavailable"
    failed_contact = db.session.scalar(select(Contact).where(Contact.email == failed.to_address))
    page = client.get(f"/meetings/{series[2].id}/invitations/?email=failed").get_data(as_text=True)
    assert failed_contact.last_name in page


def test_a_later_invitation_email_is_the_one_shown(client, series):
    """A date sent again on its own after the series e-mail shows that later e-mail."""
    (contact_id,) = invite_to(series[0], 1)
    client.post(f"/series/{series[0].series_id}/invite")
    (email,) = series_emails()
    email.status = MessageStatus.FAILED
    db.session.commit()
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.meeting_id == series[1].id, Invitation.contact_id == contact_id
        )
    )
    resend_to(invitation, None, datetime.now(UTC) + timedelta(seconds=1))
    db.session.commit()

    (row,) = db.session.execute(answers_query(series[1], AnswerFilters())).all()
    assert row.email_status is MessageStatus.QUEUED
    (row,) = db.session.execute(answers_query(series[0], AnswerFilters())).all()
    assert row.email_status is MessageStatus.FAILED


def a_series(dates: int, invitees: int) -> Series:
    """A weekly series of `dates` published meetings, with `invitees` on the first one's list."""
    meeting = a_meeting(datetime.now(UTC))
    data = SeriesData(SeriesFrequency.WEEKLY, meeting.local_starts_at.date(), occurrences=dates)
    series = create_series(meeting, data, meeting.organisers[0], datetime.now(UTC))
    db.session.commit()
    invite_to(meeting, invitees)
    return series


def test_the_page_queries_do_not_grow_with_dates_and_invitees(client, login, count_queries):
    small, large = a_series(dates=3, invitees=2), a_series(dates=15, invitees=40)
    organiser = small.meetings[0].organisers[0]
    for meeting in large.meetings:
        meeting.organisers.append(organiser)
    login(organiser)
    db.session.commit()
    client.set_cookie("lang", "en")
    client.get(f"/series/{small.id}/invite")

    counts = []
    for series in (small, large):
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(f"/series/{series.id}/invite")
        assert response.status_code == 200
        counts.append(counter.count)

    assert "Send 40 e-mails" in response.text
    assert counts[0] == counts[1]
