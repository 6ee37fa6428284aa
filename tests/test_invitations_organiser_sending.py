"""The invitation e-mail: its default and edited text, sending it to the list, following the
delivery, resending it and revoking personal links."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import services
from app.invitations.tokens import invitation_for_token
from app.meetings.services import MeetingStateError
from app.models import Answer, Civility, Invitation, MeetingStatus, MessageStatus
from tests.factories import ContactFactory
from tests.invitations_organiser_helpers import (
    SEED_DAY,
    SEED_NOW,
    answer,
    directory,
    invite_all,
    outbox,
    seed_meeting,
    upcoming_meeting,
    with_link,
)

LINK = re.compile(r"http://localhost/i/([\w-]{43})\?answer=(yes|no)")


def send_to(meeting, *contacts, now=SEED_NOW):
    invitations = invite_all(meeting, contacts)
    services.send_invitations(meeting, None, now)
    db.session.commit()
    return invitations


def hélène(**fields):
    values = {"first_name": "Hélène", "last_name": "Dupont", "email": "h.dupont@example.org"}
    values.update(fields)
    return ContactFactory(**values)


# The text


def test_default_invitation_has_every_practical_detail_in_french(app):
    meeting = seed_meeting()
    (invitation,) = send_to(meeting, hélène(civility=Civility.MS))
    (message,) = outbox("invitation")

    assert message.subject.startswith("Invitation")
    assert "Liens École et centres sociaux" in message.subject
    assert "mardi 5 juin 2018" in message.subject
    for body in (message.text_body, message.html_body):
        assert SEED_DAY in body
        assert "Maison Pour Tous" in body
        assert "95100 Argenteuil" in body
        assert "Accueil" in body
        assert "vendredi 1er juin 2018" in body  # the answer deadline
        assert "Judicaëlle Feron" in body and "Chargée de missions" in body
    assert "8, place de la commune de Paris" in message.text_body
    assert "Tour d'horizon des liens" in message.text_body
    assert "<img" not in message.html_body


def test_both_answer_links_open_the_invitees_personal_page(app):
    meeting = seed_meeting()
    (invitation,) = send_to(meeting, hélène())
    (message,) = outbox()
    for body in (message.text_body, message.html_body):
        links = LINK.findall(body)
        assert {answer for _token, answer in links} == {"yes", "no"}
        (token,) = {token for token, _answer in links}
        assert invitation_for_token(token) is invitation
        assert f"http://localhost/i/{token}\n" in message.text_body


def test_invitation_greets_with_the_civility_or_the_full_name(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    meeting = seed_meeting()
    send_to(meeting, hélène(civility=Civility.MS), hélène(email="other@example.org"))
    with_civility, without = outbox()
    assert with_civility.text_body.startswith("Hello Ms Dupont,\n")
    assert without.text_body.startswith("Hello Hélène Dupont,\n")
    assert "We are pleased to invite you" in without.text_body
    assert ">I will attend</a>" in without.html_body
    assert ">I cannot attend</a>" in without.html_body


def test_invitation_is_from_the_contact_person_and_addressed_by_name(app):
    meeting = seed_meeting()
    invitation = send_to(meeting, hélène())[0]
    (message,) = outbox()
    assert (message.to_address, message.to_name) == ("h.dupont@example.org", "Hélène Dupont")
    assert (message.reply_to_address, message.reply_to_name) == (
        "j.feron@example.org",
        "Judicaëlle Feron",
    )
    assert (message.meeting_id, message.invitation_id) == (meeting.id, invitation.id)


def test_without_a_contact_email_there_is_no_reply_to(app):
    meeting = seed_meeting(contact_email="")
    send_to(meeting, hélène())
    assert outbox()[0].reply_to_address == ""


def test_edited_subject_and_message_are_used_with_their_paragraphs(app):
    meeting = seed_meeting()
    services.save_invitation_text(
        meeting,
        "Groupe de réflexion du 5 juin",
        "Chers partenaires,\r\nbienvenue.\r\n\r\nÀ bientôt",
    )
    send_to(meeting, hélène())
    (message,) = outbox()
    assert message.subject == "Groupe de réflexion du 5 juin"
    assert "Chers partenaires,\nbienvenue.\n\nÀ bientôt" in message.text_body
    assert "Chers partenaires,<br>bienvenue.</p>" in message.html_body
    assert ">À bientôt</p>" in message.html_body
    # The practical details are still added from the meeting.
    assert SEED_DAY in message.text_body


def test_saving_the_default_text_keeps_following_the_meeting(app):
    meeting = seed_meeting()
    subject, message = services.invitation_text(meeting)
    services.save_invitation_text(meeting, subject, message)
    assert (meeting.invitation_subject, meeting.invitation_message) == ("", "")
    meeting.title = "Nouveau titre"
    assert "Nouveau titre" in services.invitation_text(meeting)[0]


def test_line_breaks_in_the_subject_or_a_name_cannot_add_a_header(app):
    meeting = seed_meeting()
    meeting.invitation_subject = "Réunion\r\nBcc: victim@example.org"
    send_to(meeting, hélène(first_name="Eve\r\nBcc: victim@example.org"))
    (message,) = outbox()
    assert "\r" not in message.subject and "\n" not in message.subject
    assert "\n" not in message.to_name and "\r" not in message.to_name


# Sending


def test_sending_queues_one_invitation_per_invitee_once(app):
    meeting = seed_meeting()
    invitations = invite_all(meeting, directory(5))
    assert services.send_invitations(meeting, None, SEED_NOW) == 5
    db.session.commit()
    assert services.send_invitations(meeting, None, SEED_NOW + timedelta(minutes=1)) == 0
    db.session.commit()

    messages = outbox("invitation")
    assert sorted(message.invitation_id for message in messages) == sorted(
        invitation.id for invitation in invitations
    )
    assert {invitation.invited_at for invitation in invitations} == {SEED_NOW}
    assert {message.status for message in messages} == {MessageStatus.QUEUED}


def test_people_added_later_get_the_invitation_at_the_next_sending(app):
    meeting = seed_meeting()
    contacts = directory(3)
    send_to(meeting, *contacts[:2])
    later = invite_all(meeting, contacts[2:])
    assert services.send_invitations(meeting, None, SEED_NOW) == 1
    assert outbox()[-1].invitation_id == later[0].id


def sending_statements(count_queries, invitees: int) -> tuple[int, int]:
    """(reads and updates, inserts) run by sending the invitation to `invitees` people."""
    meeting = seed_meeting()
    invite_all(meeting, directory(invitees, prefix=f"m{meeting.id}-"))
    db.session.expire_all()
    with count_queries() as counter:
        assert services.send_invitations(meeting, None, SEED_NOW) == invitees
        db.session.flush()
    db.session.commit()
    inserts = [sql for sql in counter.statements if sql.lstrip().upper().startswith("INSERT")]
    return counter.count - len(inserts), len(inserts)


def test_sending_to_300_reads_nothing_per_invitee(app, count_queries):
    reads_for_ten, inserts_for_ten = sending_statements(count_queries, 10)
    reads_for_300, inserts_for_300 = sending_statements(count_queries, 300)
    assert len(outbox("invitation")) == 310
    # The same reads whatever the number; at most a link and a message inserted per person
    # (SQLite inserts them one by one, PostgreSQL in batches).
    assert reads_for_300 == reads_for_ten
    assert inserts_for_ten <= 2 * 10
    assert inserts_for_300 <= 2 * 300


@pytest.mark.parametrize(
    "changes",
    [
        {"status": MeetingStatus.DRAFT},
        {"status": MeetingStatus.CANCELLED, "cancellation_reason": "Grève"},
        {"starts_at": SEED_NOW - timedelta(days=2), "ends_at": SEED_NOW - timedelta(days=1)},
    ],
    ids=["draft", "cancelled", "held"],
)
def test_no_invitation_for_a_draft_cancelled_or_past_meeting(app, changes):
    changes.setdefault("answer_deadline", None)
    meeting = seed_meeting(**changes)
    invite_all(meeting, directory(2))
    with pytest.raises(MeetingStateError):
        services.send_invitations(meeting, None, SEED_NOW)
    assert outbox() == []


def test_send_page_confirms_then_queues_and_shows_the_progress(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    invite_all(meeting, directory(3))
    login(organiser)
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/invitations/send").get_data(as_text=True)
    assert "Send 3 invitations" in page
    assert "No mail server is configured" in page

    response = client.post(f"/meetings/{meeting.id}/invitations/send")
    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{meeting.id}/invitations/progress")
    assert len(outbox("invitation")) == 3
    page = client.get(response.location).get_data(as_text=True)
    assert "3 invitations are being sent." in page
    assert 'http-equiv="refresh"' not in page  # nothing will move without a mail server
    assert "administrators can read them on the E-mails page" in page


def test_send_page_refuses_a_draft(client, login, organiser):
    meeting = upcoming_meeting([organiser], status=MeetingStatus.DRAFT)
    invite_all(meeting, directory(2))
    login(organiser)
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/invitations/send").get_data(as_text=True)
    assert "Publish the meeting before sending invitations." in page
    response = client.post(f"/meetings/{meeting.id}/invitations/send", follow_redirects=True)
    assert "Publish the meeting before sending invitations." in response.get_data(as_text=True)
    assert outbox() == []
    assert db.session.scalars(select(Invitation.invited_at)).all() == [None, None]


def test_send_refuses_a_cancelled_meeting(as_organiser, organiser):
    meeting = upcoming_meeting(
        [organiser], status=MeetingStatus.CANCELLED, cancellation_reason="Grève"
    )
    invite_all(meeting, directory(2))
    as_organiser.post(f"/meetings/{meeting.id}/invitations/send")
    assert outbox() == []


# Progress


def set_statuses(*statuses: MessageStatus, error: str = "550 No such user") -> None:
    for message, status in zip(outbox(), statuses, strict=True):
        message.status = status
        message.last_error = error if status is MessageStatus.FAILED else ""
    db.session.commit()


def test_delivery_progress_counts_each_state_in_one_query(app, count_queries):
    meeting = seed_meeting()
    send_to(meeting, *directory(5))
    set_statuses(
        MessageStatus.SENT,
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.SENDING,
        MessageStatus.QUEUED,
    )
    db.session.refresh(meeting)
    with count_queries() as counter:
        progress = services.delivery_progress(meeting)
    assert counter.count == 1
    assert (progress.queued, progress.sent, progress.failed) == (2, 2, 1)
    assert not progress.done


def test_progress_page_refreshes_while_messages_are_queued_and_a_server_is_set(
    app, as_organiser, organiser
):
    meeting = upcoming_meeting([organiser])
    invite_all(meeting, directory(2))
    as_organiser.post(f"/meetings/{meeting.id}/invitations/send")
    app.config["MAIL_SERVER"] = "smtp.example.org"
    page = as_organiser.get(f"/meetings/{meeting.id}/invitations/progress").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page

    set_statuses(MessageStatus.SENT, MessageStatus.FAILED)
    page = as_organiser.get(f"/meetings/{meeting.id}/invitations/progress").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    assert "email=failed" in page


def test_answers_list_shows_each_email_state_and_the_failure_reason(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    contacts = directory(3)
    invite_all(meeting, contacts)
    services.send_invitations(meeting, None, meeting.starts_at - timedelta(days=7))
    db.session.commit()
    set_statuses(MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.QUEUED)
    page = as_organiser.get(f"/meetings/{meeting.id}/invitations/").get_data(as_text=True)
    assert page.count('class="email-state email-sent"') == 1
    assert page.count('class="email-state email-failed"') == 1
    assert page.count('class="email-state email-queued"') == 1
    assert "550 No such user" in page

    failed = as_organiser.get(f"/meetings/{meeting.id}/invitations/?email=failed")
    assert failed.get_data(as_text=True).count("<tr>") == 2  # the header and the failure


# Resending and revoking


def test_resend_to_one_person_gives_a_new_link_and_keeps_the_old_one(app):
    meeting = seed_meeting()
    invitation, other = send_to(meeting, *directory(2))
    (first_token,) = {token for token, _answer in LINK.findall(outbox()[0].text_body)}

    assert services.resend_to(invitation, None, SEED_NOW + timedelta(days=1)) == 1
    db.session.commit()
    latest = outbox()[-1]
    (new_token,) = {token for token, _answer in LINK.findall(latest.text_body)}
    assert latest.invitation_id == invitation.id
    assert new_token != first_token
    assert invitation_for_token(first_token) is invitation
    assert invitation_for_token(new_token) is invitation
    assert invitation.invited_at == SEED_NOW
    assert len(outbox()) == 3


def test_resend_to_unanswered_skips_those_who_answered_or_were_never_sent(app):
    meeting = seed_meeting()
    contacts = directory(5)
    silent, coming, declined, waiting = send_to(meeting, *contacts[:4])
    answer(coming, Answer.COMING)
    answer(declined, Answer.NOT_COMING)
    answer(waiting, Answer.WAITING)
    invite_all(meeting, contacts[4:])  # on the list, never sent

    assert services.count_unanswered(meeting) == 1
    assert services.resend_to_unanswered(meeting, None, SEED_NOW) == 1
    assert outbox()[-1].invitation_id == silent.id


def test_revoked_links_are_dead_and_a_resend_brings_a_working_one(app):
    meeting = seed_meeting()
    (invitation,) = send_to(meeting, hélène())
    old = with_link(invitation)
    services.revoke_invitation_links(invitation, SEED_NOW)
    db.session.commit()
    assert invitation_for_token(old) is None

    services.resend_to(invitation, None, SEED_NOW)
    db.session.commit()
    (new,) = {token for token, _answer in LINK.findall(outbox()[-1].text_body)}
    assert invitation_for_token(new) is invitation


def test_revoke_page_confirms_then_revokes(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    token = with_link(invitation)
    path = f"/meetings/{meeting.id}/invitations/{invitation.id}/revoke"
    assert as_organiser.get(path).status_code == 200
    assert invitation_for_token(token) is invitation
    assert as_organiser.post(path).status_code == 302
    assert invitation_for_token(token) is None


def test_resend_buttons(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    first, second = invite_all(meeting, directory(2), invited_at=SEED_NOW)
    response = as_organiser.post(f"/meetings/{meeting.id}/invitations/{first.id}/resend")
    assert response.status_code == 302
    assert [message.invitation_id for message in outbox()] == [first.id]

    assert as_organiser.get(f"/meetings/{meeting.id}/invitations/resend").status_code == 200
    as_organiser.post(f"/meetings/{meeting.id}/invitations/resend")
    assert sorted(message.invitation_id for message in outbox()) == [first.id, first.id, second.id]


# The invitation text page


def test_message_page_prefills_the_default_text_and_previews_it(as_organiser, organiser):
    meeting = upcoming_meeting([organiser], title="Groupe École et Famille")
    hélène_invitation = invite_all(meeting, [hélène()])[0]
    response = as_organiser.get(f"/meetings/{meeting.id}/invitations/message")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Groupe École et Famille" in page
    assert 'name="subject"' in page and 'name="message"' in page
    assert "Hélène Dupont" in page  # the first invitee's preview
    assert "/i/preview?answer=yes" in page
    assert f'src="/meetings/{meeting.id}/invitations/message/preview"' in page
    # A preview issues no link that would work.
    assert hélène_invitation.links == []

    frame = as_organiser.get(f"/meetings/{meeting.id}/invitations/message/preview")
    assert frame.status_code == 200
    assert "style-src 'unsafe-inline'" in frame.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert ">Groupe École et Famille</h1>" in frame.get_data(as_text=True)


def test_message_page_saves_and_restores_the_default(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    path = f"/meetings/{meeting.id}/invitations/message"
    response = as_organiser.post(
        path, data={"subject": "Réunion\r\nBcc: x@example.org", "message": "Bonjour", "save": "1"}
    )
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.invitation_subject == "Réunion Bcc: x@example.org"
    assert meeting.invitation_message == "Bonjour"

    as_organiser.post(path, data={"subject": "", "message": "", "restore_default": "1"})
    db.session.refresh(meeting)
    assert (meeting.invitation_subject, meeting.invitation_message) == ("", "")


def test_message_page_needs_a_subject_and_a_message(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    response = as_organiser.post(
        f"/meetings/{meeting.id}/invitations/message",
        data={"subject": " ", "message": "", "save": "1"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="subject-error"' in page and 'id="message-error"' in page


# End to end, through a real SMTP server


def test_invitations_reach_the_smtp_server_with_both_parts_and_safe_headers(
    smtp, client, login, organiser
):
    meeting = upcoming_meeting([organiser], invitation_subject="Réunion\r\nBcc: victim@example.org")
    invite_all(
        meeting,
        [hélène(), hélène(email="eve@example.org", first_name="Eve\r\nBcc: victim@example.org")],
    )
    login(organiser)
    response = client.post(f"/meetings/{meeting.id}/invitations/send")
    assert response.status_code == 302

    assert sorted(smtp.recipients) == ["eve@example.org", "h.dupont@example.org"]
    assert {message.status for message in outbox()} == {MessageStatus.SENT}
    for received in smtp.messages:
        assert received["Subject"] == "Réunion Bcc: victim@example.org"
        assert received["Bcc"] is None
        assert received["Reply-To"] == "Judicaëlle Feron <j.feron@example.org>"
        text = received.get_body(preferencelist=("plain",)).get_content()
        html = received.get_body(preferencelist=("html",)).get_content()
        assert LINK.search(text) and LINK.search(html)
    for envelope in smtp.recorder.envelopes:
        headers = envelope.original_content.split(b"\r\n\r\n")[0]
        assert b"\nBcc:" not in headers
    page = client.get(response.location).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
