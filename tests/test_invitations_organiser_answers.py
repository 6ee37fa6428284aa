"""Following the answers: counts, the filtered list, the CSV export, answers recorded on
someone's behalf, and the same number of queries for 10 or 2,000 invitees."""

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.invitations import services
from app.models import Answer, Civility, Invitation, MessageStatus, OutboxMessage
from tests.factories import ContactFactory, OrganisationFactory
from tests.invitations_organiser_helpers import (
    SEED_NOW,
    answer,
    directory,
    invite_all,
    seed_meeting,
    upcoming_meeting,
)


def names(rows) -> list[str]:
    return [row.Invitation.contact.last_name for row in rows]


def a_list(meeting):
    """Six invitees in three organisations, with every kind of answer."""
    contacts = directory(6)
    invitations = invite_all(meeting, contacts, invited_at=SEED_NOW)
    answer(invitations[0], Answer.COMING)
    answer(invitations[1], Answer.COMING)
    answer(invitations[2], Answer.NOT_COMING, comment="Conseil de classe ce jour-là")
    answer(invitations[3], Answer.WAITING)
    invitations[5].invited_at = None
    db.session.commit()
    return invitations


def test_answer_counts_in_one_query(app, count_queries):
    meeting = seed_meeting()
    a_list(meeting)
    db.session.refresh(meeting)
    with count_queries() as counter:
        counts = services.answer_counts(meeting)
    assert counter.count == 1
    assert counts == services.AnswerCounts(
        invited=6, coming=2, not_coming=1, no_answer=2, waiting=1, not_sent=1
    )


def test_counts_of_a_meeting_without_invitees_are_zero(app):
    assert services.answer_counts(seed_meeting()) == services.AnswerCounts()


def test_answers_are_ordered_by_organisation_then_name(app):
    meeting = seed_meeting()
    a_list(meeting)
    nobody = ContactFactory(last_name="Aaron", organisation=None)
    invite_all(meeting, [nobody])
    rows = db.session.execute(services.answers_query(meeting, services.AnswerFilters())).all()
    # Agora (0, 3), Collège (1, 4), École et Famille (2, 5), then no organisation.
    assert names(rows) == [
        "Nom00000",
        "Nom00003",
        "Nom00001",
        "Nom00004",
        "Nom00002",
        "Nom00005",
        "Aaron",
    ]


def test_answers_filter_by_answer_organisation_search_and_email(app):
    meeting = seed_meeting()
    invitations = a_list(meeting)
    school = invitations[1].contact.organisation

    def filtered(**filters):
        query = services.answers_query(meeting, services.AnswerFilters(**filters))
        return names(db.session.execute(query))

    assert filtered(answer=Answer.COMING) == ["Nom00000", "Nom00001"]
    assert filtered(answer=Answer.NONE) == ["Nom00004", "Nom00005"]
    assert filtered(answer=Answer.WAITING) == ["Nom00003"]
    assert filtered(organisation_id=school.id) == ["Nom00001", "Nom00004"]
    assert filtered(query="prenom2") == ["Nom00002"]
    assert filtered(query="jaures") == ["Nom00001", "Nom00004"]
    assert filtered(email="not_sent") == ["Nom00005"]


def test_each_row_carries_the_status_of_the_latest_email(app):
    meeting = seed_meeting()
    first, second = invite_all(meeting, directory(2))
    services.send_invitations(meeting, None, SEED_NOW)
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    messages[0].status = MessageStatus.FAILED
    messages[0].last_error = "550 Mailbox unavailable"
    db.session.commit()
    services.resend_to(second, None, SEED_NOW + timedelta(hours=1))
    db.session.commit()
    messages[1].status = MessageStatus.SENT  # the older e-mail of `second`
    db.session.commit()

    rows = db.session.execute(services.answers_query(meeting, services.AnswerFilters())).all()
    statuses = {row.Invitation.id: (row.email_status, row.email_error) for row in rows}
    assert statuses == {
        first.id: (MessageStatus.FAILED, "550 Mailbox unavailable"),
        second.id: (MessageStatus.QUEUED, ""),
    }


def test_csv_export_has_a_bom_semicolons_local_times_and_safe_cells(client, login, organiser):
    meeting = upcoming_meeting([organiser], timezone="Europe/Paris")
    contact = ContactFactory(
        civility=Civility.MS,
        first_name="Hélène",
        last_name="Dupont",
        function="Directrice",
        organisation=OrganisationFactory(name="Centre social Agora"),
    )
    (invitation,) = invite_all(meeting, [contact], invited_at=SEED_NOW)
    answer(
        invitation,
        Answer.COMING,
        at=datetime(2026, 12, 1, 13, 5, tzinfo=UTC),
        comment='=HYPERLINK("http://evil")',
    )
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.get(f"/meetings/{meeting.id}/invitations/answers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    content = response.get_data().decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content[1:]), delimiter=";"))
    assert rows[0] == [
        "Civility",
        "First name",
        "Last name",
        "E-mail",
        "Organisation",
        "Function",
        "Answer",
        "Comment",
        "Answered at",
        "E-mail status",
    ]
    assert rows[1] == [
        "Ms",
        "Hélène",
        "Dupont",
        contact.email,
        "Centre social Agora",
        "Directrice",
        "Coming",
        '\'=HYPERLINK("http://evil")',
        "2026-12-01 14:05",
        # Marked invited, with no e-mail of ours on record.
        "No invitation e-mail",
    ]


def test_csv_export_keeps_the_filters(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    invitations = invite_all(meeting, directory(3), invited_at=SEED_NOW)
    answer(invitations[1], Answer.NOT_COMING)
    content = as_organiser.get(
        f"/meetings/{meeting.id}/invitations/answers.csv?answer=not_coming"
    ).get_data(as_text=True)
    assert len(content.strip().splitlines()) == 2
    assert invitations[1].contact.email in content


# The page


def test_answers_page_shows_counts_answers_and_comments(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    a_list(meeting)
    login(organiser)
    client.set_cookie("lang", "en")
    page = client.get(f"/meetings/{meeting.id}/invitations/").get_data(as_text=True)
    assert "<strong>6</strong> invited" in page
    assert "<strong>2</strong> coming" in page
    assert "<strong>1</strong> not coming" in page
    assert "<strong>2</strong> no answer" in page
    assert "<strong>1</strong> on the waiting list" in page
    assert "Conseil de classe ce jour-là" in page
    assert "Centre social Agora" in page
    assert page.count('class="answer answer-coming"') == 2


def test_answers_page_filters(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    invitations = a_list(meeting)
    school = invitations[1].contact.organisation
    page = as_organiser.get(
        f"/meetings/{meeting.id}/invitations/?answer=coming&organisation={school.id}"
    ).get_data(as_text=True)
    assert "Nom00001" in page
    assert "Nom00000" not in page and "Nom00004" not in page


def test_any_organiser_may_read_the_answers_but_sees_no_action(as_organiser, admin):
    meeting = upcoming_meeting([admin])
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    response = as_organiser.get(f"/meetings/{meeting.id}/invitations/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nom00000" in page
    assert f"/invitations/{invitation.id}/answer" not in page
    assert "answers.csv" not in page


def answers_page_queries(client, meeting, count_queries) -> int:
    client.get(f"/meetings/{meeting.id}/invitations/")
    db.session.expire_all()  # each request of a real server starts from an empty session
    with count_queries() as counter:
        response = client.get(f"/meetings/{meeting.id}/invitations/")
    assert response.status_code == 200
    return counter.count


def test_answers_page_runs_the_same_queries_for_10_and_2000_invitees(
    as_organiser, organiser, count_queries
):
    small, large = upcoming_meeting([organiser]), upcoming_meeting([organiser])
    for meeting, count in ((small, 10), (large, 2000)):
        invitations = invite_all(
            meeting, directory(count, prefix=f"m{meeting.id}-"), invited_at=SEED_NOW
        )
        for invitation in invitations[::3]:
            invitation.answer = Answer.COMING
            invitation.answered_at = SEED_NOW
            invitation.answer_recorded_by_id = organiser.id
        db.session.commit()
        services.send_invitations(meeting, None, meeting.starts_at - timedelta(days=7))
        db.session.commit()
    with_ten = answers_page_queries(as_organiser, small, count_queries)
    with_two_thousand = answers_page_queries(as_organiser, large, count_queries)
    assert with_ten == with_two_thousand <= 10


def test_export_runs_one_query_for_the_rows(app, count_queries):
    meeting = seed_meeting()
    invite_all(meeting, directory(200), invited_at=SEED_NOW)
    db.session.refresh(meeting)
    with count_queries() as counter:
        content = services.answers_csv(meeting, services.AnswerFilters())
    assert counter.count == 1
    assert len(content.splitlines()) == 201


# Answers taken by phone


def test_organiser_records_an_answer_after_the_deadline(client, login, organiser):
    meeting = upcoming_meeting(
        [organiser], answer_deadline=datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    )
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    login(organiser)
    client.set_cookie("lang", "en")
    path = f"/meetings/{meeting.id}/invitations/{invitation.id}/answer"
    assert 'name="answer"' in client.get(path).get_data(as_text=True)

    response = client.post(path, data={"answer": "yes", "comment": "Par téléphone"})
    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.answer is Answer.COMING
    assert invitation.comment == "Par téléphone"
    assert invitation.answer_recorded_by_id == organiser.id
    page = client.get(response.location).get_data(as_text=True)
    assert "Recorded by Olivier Organisateur" in page
    assert "Answer recorded for" in page


def test_recorded_answer_respects_the_capacity(as_organiser, organiser):
    meeting = upcoming_meeting([organiser], capacity=1)
    first, second = invite_all(meeting, directory(2), invited_at=SEED_NOW)
    answer(first, Answer.COMING)
    as_organiser.post(
        f"/meetings/{meeting.id}/invitations/{second.id}/answer", data={"answer": "yes"}
    )
    db.session.refresh(second)
    assert second.answer is Answer.WAITING


def test_recording_needs_an_answer(as_organiser, organiser):
    meeting = upcoming_meeting([organiser])
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    response = as_organiser.post(
        f"/meetings/{meeting.id}/invitations/{invitation.id}/answer", data={"comment": "?"}
    )
    assert response.status_code == 200
    assert 'id="answer-error"' in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NONE


def test_recording_for_a_cancelled_meeting_is_refused(client, login, organiser):
    meeting = upcoming_meeting([organiser])
    (invitation,) = invite_all(meeting, directory(1), invited_at=SEED_NOW)
    meeting.status = meeting.status.CANCELLED
    meeting.cancellation_reason = "Grève"
    db.session.commit()
    login(organiser)
    client.set_cookie("lang", "en")
    response = client.post(
        f"/meetings/{meeting.id}/invitations/{invitation.id}/answer",
        data={"answer": "yes"},
        follow_redirects=True,
    )
    assert "This meeting is cancelled." in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation.answer)) is Answer.NONE
