"""The rules of answering: when an answer is taken, the capacity and its waiting list, promotions
and the e-mails each answer queues."""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.invitations import answers
from app.invitations.answers import AnswerRefused, record_answer
from app.models import Answer, Civility, InvitationLink, MeetingStatus, OutboxMessage
from tests.factories import UserFactory
from tests.invitee_helpers import NOW, a_meeting, invite, set_answer


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def test_coming_is_recorded_with_its_time_and_comment(app):
    invitation, _token = invite(a_meeting())

    answer = record_answer(invitation, True, "  Je viendrai avec une collègue.  ", NOW)
    db.session.commit()

    assert answer is Answer.COMING
    assert invitation.answer is Answer.COMING
    assert invitation.answered_at == NOW
    assert invitation.comment == "Je viendrai avec une collègue."
    assert invitation.answer_recorded_by_id is None
    assert invitation.waiting_since is None


def test_not_coming_is_recorded(app):
    invitation, _token = invite(a_meeting())

    assert record_answer(invitation, False, "", NOW) is Answer.NOT_COMING
    db.session.commit()
    assert invitation.answer is Answer.NOT_COMING
    assert invitation.answered_at == NOW


def test_invitee_can_change_their_mind_until_the_deadline(app):
    meeting = a_meeting(answer_deadline=NOW + timedelta(days=2))
    invitation, _token = invite(meeting)
    record_answer(invitation, True, "Présente", NOW)
    later = NOW + timedelta(days=1)

    assert record_answer(invitation, False, "Empêchée finalement", later) is Answer.NOT_COMING
    db.session.commit()
    assert invitation.answered_at == later
    assert invitation.comment == "Empêchée finalement"
    assert record_answer(invitation, True, "", later) is Answer.COMING


def test_answer_after_the_deadline_is_refused_with_the_reason(app):
    meeting = a_meeting(answer_deadline=NOW + timedelta(days=2))
    invitation, _token = invite(meeting)
    after_deadline = NOW + timedelta(days=2, minutes=1)

    with force_locale("en"), pytest.raises(AnswerRefused, match="Answers closed on"):
        record_answer(invitation, True, "", after_deadline)
    db.session.rollback()
    assert invitation.answer is Answer.NONE
    assert outbox() == []
    # Up to the deadline itself, answers are taken.
    assert answers.answer_problem(invitation, NOW + timedelta(days=2)) is None


def test_answer_once_the_meeting_has_started_is_refused(app):
    meeting = a_meeting()
    invitation, _token = invite(meeting)

    with force_locale("en"):
        assert "has started" in answers.answer_problem(invitation, meeting.starts_at)
        with pytest.raises(AnswerRefused, match="has started"):
            record_answer(invitation, False, "", meeting.starts_at + timedelta(minutes=5))
        assert "taken place" in answers.answer_problem(invitation, meeting.ends_at)


@pytest.mark.parametrize("organiser", [False, True])
def test_nobody_answers_for_a_cancelled_meeting(app, organiser):
    meeting = a_meeting(status=MeetingStatus.CANCELLED, cancellation_reason="Salle indisponible")
    invitation, _token = invite(meeting)
    recorded_by = UserFactory() if organiser else None

    with force_locale("en"), pytest.raises(AnswerRefused, match="cancelled"):
        record_answer(invitation, True, "", NOW, recorded_by=recorded_by)


def test_a_draft_meeting_takes_no_answer_from_invitees(app):
    invitation, _token = invite(a_meeting(status=MeetingStatus.DRAFT))

    with force_locale("en"), pytest.raises(AnswerRefused, match="not open"):
        record_answer(invitation, True, "", NOW)


def test_organiser_records_an_answer_after_the_deadline(app):
    meeting = a_meeting(answer_deadline=NOW + timedelta(days=1))
    invitation, _token = invite(meeting)
    organiser = UserFactory()

    answer = record_answer(invitation, True, "Par téléphone", NOW + timedelta(days=3), organiser)
    db.session.commit()

    assert answer is Answer.COMING
    assert invitation.answer_recorded_by_id == organiser.id
    # The invitee's own answer later clears the mark.
    invitation.meeting.answer_deadline = None
    record_answer(invitation, False, "", NOW + timedelta(days=4))
    assert invitation.answer_recorded_by_id is None


def test_full_meeting_puts_new_yes_on_waiting_list_with_position(app):
    meeting = a_meeting(capacity=1)
    first, _ = invite(meeting)
    second, _ = invite(meeting)
    third, _ = invite(meeting)

    assert record_answer(first, True, "", NOW) is Answer.COMING
    assert record_answer(second, True, "", NOW + timedelta(minutes=1)) is Answer.WAITING
    assert record_answer(third, True, "", NOW + timedelta(minutes=2)) is Answer.WAITING
    db.session.commit()

    assert second.waiting_since == NOW + timedelta(minutes=1)
    assert answers.waiting_position(second) == 1
    assert answers.waiting_position(third) == 2
    assert answers.waiting_position(first) is None


def test_organiser_recording_is_subject_to_the_capacity(app):
    meeting = a_meeting(capacity=1)
    first, _ = invite(meeting)
    second, _ = invite(meeting)
    record_answer(first, True, "", NOW)

    assert record_answer(second, True, "", NOW, recorded_by=UserFactory()) is Answer.WAITING


def test_answering_yes_again_keeps_ones_place_in_the_queue(app):
    meeting = a_meeting(capacity=1)
    first, _ = invite(meeting)
    second, _ = invite(meeting)
    third, _ = invite(meeting)
    record_answer(first, True, "", NOW)
    record_answer(second, True, "", NOW + timedelta(minutes=1))
    record_answer(third, True, "", NOW + timedelta(minutes=2))

    record_answer(second, True, "Toujours intéressé", NOW + timedelta(hours=1))

    assert second.waiting_since == NOW + timedelta(minutes=1)
    assert answers.waiting_position(second) == 1


def test_a_newcomer_does_not_overtake_people_already_waiting(app):
    meeting = a_meeting(capacity=1)
    waiting, _ = invite(meeting)
    set_answer(waiting, Answer.WAITING, since=NOW)
    newcomer, _ = invite(meeting)

    # A place is free (nobody is coming) but someone is already waiting for it.
    assert record_answer(newcomer, True, "", NOW + timedelta(minutes=1)) is Answer.WAITING
    assert answers.waiting_position(newcomer) == 2


def test_unlimited_meeting_takes_everyone(app):
    meeting = a_meeting(capacity=None)
    for _number in range(5):
        invitation, _ = invite(meeting)
        assert record_answer(invitation, True, "", NOW) is Answer.COMING


def test_leaving_the_waiting_list(app):
    meeting = a_meeting(capacity=1)
    coming, _ = invite(meeting)
    waiting, _ = invite(meeting)
    behind, _ = invite(meeting)
    record_answer(coming, True, "", NOW)
    record_answer(waiting, True, "", NOW + timedelta(minutes=1))
    record_answer(behind, True, "", NOW + timedelta(minutes=2))

    answers.leave_waiting_list(waiting, NOW + timedelta(hours=1))
    db.session.commit()

    assert waiting.answer is Answer.NOT_COMING
    assert waiting.waiting_since is None
    assert waiting.answered_at == NOW + timedelta(hours=1)
    assert answers.waiting_position(behind) == 1
    assert outbox("confirmation")[-1].invitation_id == waiting.id
    with force_locale("en"), pytest.raises(AnswerRefused, match="not on the waiting list"):
        answers.leave_waiting_list(waiting, NOW + timedelta(hours=2))


def test_leaving_the_list_after_being_promoted_is_refused(app):
    meeting = a_meeting(capacity=1)
    coming, _ = invite(meeting)
    waiting, _ = invite(meeting)
    record_answer(coming, True, "", NOW)
    record_answer(waiting, True, "", NOW)
    record_answer(coming, False, "", NOW + timedelta(minutes=5))

    with force_locale("en"), pytest.raises(AnswerRefused, match="registered"):
        answers.leave_waiting_list(waiting, NOW + timedelta(minutes=6))
    assert waiting.answer is Answer.COMING


def test_a_freed_place_goes_to_the_first_person_waiting_who_is_emailed(app):
    meeting = a_meeting(capacity=2)
    coming = [invite(meeting)[0] for _number in range(2)]
    waiting = [invite(meeting)[0] for _number in range(3)]
    for invitation in coming:
        record_answer(invitation, True, "", NOW)
    for minutes, invitation in enumerate(waiting, start=1):
        assert record_answer(invitation, True, "", NOW + timedelta(minutes=minutes)) is (
            Answer.WAITING
        )
    db.session.commit()

    record_answer(coming[0], False, "Empêché", NOW + timedelta(hours=1))
    db.session.commit()

    assert [invitation.answer for invitation in waiting] == [
        Answer.COMING,
        Answer.WAITING,
        Answer.WAITING,
    ]
    assert waiting[0].waiting_since is None
    assert answers.waiting_position(waiting[1]) == 1
    promotion = outbox("promotion")
    assert [message.invitation_id for message in promotion] == [waiting[0].id]
    assert promotion[0].to_address == waiting[0].contact.email
    assert promotion[0].calendar_method == "REQUEST"
    assert "BEGIN:VCALENDAR" in promotion[0].calendar


def test_nobody_is_promoted_once_the_meeting_has_started(app):
    meeting = a_meeting(capacity=1)
    coming, _ = invite(meeting)
    waiting, _ = invite(meeting)
    record_answer(coming, True, "", NOW)
    record_answer(waiting, True, "", NOW)
    during = meeting.starts_at + timedelta(minutes=10)

    # An organiser notes a late cancellation during the meeting: the place stays free.
    record_answer(coming, False, "Absent", during, recorded_by=UserFactory())

    assert coming.answer is Answer.NOT_COMING
    assert waiting.answer is Answer.WAITING
    assert answers.promote_waiting(meeting, during) == []
    assert outbox("promotion") == []


def test_promote_waiting_fills_the_places_added_by_a_larger_capacity(app):
    meeting = a_meeting(capacity=1)
    invitations = [invite(meeting)[0] for _number in range(4)]
    for minutes, invitation in enumerate(invitations):
        record_answer(invitation, True, "", NOW + timedelta(minutes=minutes))
    db.session.commit()

    meeting.capacity = 3
    promoted = answers.promote_waiting(meeting, NOW + timedelta(hours=1))
    db.session.commit()

    assert promoted == invitations[1:3]
    assert [invitation.answer for invitation in invitations] == [
        Answer.COMING,
        Answer.COMING,
        Answer.COMING,
        Answer.WAITING,
    ]
    assert len(outbox("promotion")) == 2


def test_each_answer_queues_its_confirmation_with_a_new_personal_link(app):
    meeting = a_meeting(capacity=1)
    coming, _ = invite(meeting, civility=Civility.MS, last_name="Dupont")
    waiting, _ = invite(meeting)
    absent, _ = invite(meeting)
    links_before = len(db.session.scalars(select(InvitationLink)).all())

    record_answer(coming, True, "", NOW)
    record_answer(waiting, True, "", NOW)
    record_answer(absent, False, "", NOW)
    db.session.commit()

    messages = outbox("confirmation")
    assert [message.invitation_id for message in messages] == [coming.id, waiting.id, absent.id]
    by_invitation = {message.invitation_id: message for message in messages}
    # French by default (the dates show it); the greeting names the person.
    assert by_invitation[coming.id].text_body.splitlines()[0].endswith(" Dupont,")
    assert "mercredi 3 juin 2026" in by_invitation[coming.id].text_body
    assert by_invitation[coming.id].calendar_method == "REQUEST"
    assert "METHOD:REQUEST" in by_invitation[coming.id].calendar
    assert by_invitation[waiting.id].calendar is None
    assert by_invitation[absent.id].calendar is None
    assert by_invitation[absent.id].calendar_method == ""
    for message in messages:
        assert message.meeting_id == meeting.id
        assert message.reply_to_address == "claire.martin@federation.example.org"
        assert message.reply_to_name == "Claire Martin"
    assert len(db.session.scalars(select(InvitationLink)).all()) == links_before + 3


def test_waiting_confirmation_gives_the_position(app):
    meeting = a_meeting(capacity=1)
    first, _ = invite(meeting)
    second, _ = invite(meeting)
    third, _ = invite(meeting)
    for invitation in (first, second, third):
        record_answer(invitation, True, "", NOW)
    db.session.commit()

    message = outbox("confirmation")[-1]
    assert message.invitation_id == third.id
    assert " 2" in message.text_body and " 2" in message.html_body


def test_no_reply_to_without_a_contact_email(app):
    invitation, _token = invite(a_meeting(contact_email=""))

    record_answer(invitation, True, "", NOW)
    db.session.commit()

    assert outbox("confirmation")[0].reply_to_address == ""
