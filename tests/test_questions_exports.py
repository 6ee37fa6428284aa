"""The answers to a meeting's questions on the organiser's side: the answer list, the CSV of
the answers, the attendance exports (CSV and XLSX), the counts per choice on the meeting page,
each in a number of queries that does not grow with the invitees or the questions."""

import csv
import io
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from app.attendance import documents
from app.extensions import db
from app.models import Answer, QuestionKind
from app.questions import services
from app.questions.services import QuestionData
from tests.invitee_helpers import a_meeting, invite, set_answer

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def meeting(app):
    return a_meeting(NOW)


@pytest.fixture
def as_owner(client, login, meeting):
    client.set_cookie("lang", "en")
    login(meeting.organisers[0])
    return client


def add(meeting, kind=QuestionKind.SHORT_TEXT, label="Dietary needs?", **fields):
    question = services.add_question(meeting, QuestionData(kind=kind, label=label, **fields), NOW)
    db.session.commit()
    return question


def invitee(meeting, answers: dict, answer=Answer.COMING, **contact):
    invitation, _token = invite(meeting, NOW, **contact)
    set_answer(invitation, answer)
    services.save_answers(invitation, {q.id: values for q, values in answers.items()}, NOW)
    db.session.commit()
    return invitation


@pytest.fixture
def answered(meeting):
    """Two invitees' answers to a text, a multiple choice since renamed, a yes/no, and a
    question removed since."""
    diet = add(meeting, label="Dietary needs?")
    meals = add(meeting, QuestionKind.MULTIPLE_CHOICE, label="Meals?", choices=["Lunch", "Dinner"])
    parking = add(meeting, QuestionKind.YES_NO, label="Need parking?")
    removed = add(meeting, label="Old question")
    invitee(
        meeting,
        {diet: ["Vegan"], meals: ["Lunch", "Dinner"], parking: ["yes"], removed: ["Old answer"]},
        last_name="Arnaud",
    )
    invitee(meeting, {meals: ["Dinner"], parking: ["no"]}, last_name="Bernard")
    invitee(meeting, {}, answer=Answer.NONE, last_name="Chevalier")
    services.update_question(
        meals,
        QuestionData(QuestionKind.MULTIPLE_CHOICE, "Meals?", choices=["Buffet lunch", "Dinner"]),
        NOW,
    )
    services.remove_question(removed, NOW)
    db.session.commit()
    return meeting


def test_the_answer_list_shows_each_invitees_answers(as_owner, answered):
    html = as_owner.get(f"/meetings/{answered.id}/invitations/").text

    assert "Answers to the questions" in html
    row = html[html.index("Arnaud") : html.index("Bernard")]
    assert "<dt>Dietary needs?</dt>" in row and "Vegan" in row
    assert 'Lunch <span class="help former-choice">(former choice)</span>; Dinner' in row
    assert '<dd class="text-block">Yes</dd>' in row
    assert 'Old question <span class="help">(removed question)</span>' in row
    other = html[html.index("Bernard") :]
    assert "Vegan" not in other and '<dd class="text-block">No</dd>' in other


def test_the_answers_csv_has_a_column_per_question(as_owner, answered):
    response = as_owner.get(f"/meetings/{answered.id}/invitations/answers.csv")

    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    header = rows[0]
    assert header[-4:] == [
        "Dietary needs?",
        "Meals?",
        "Need parking?",
        "Old question (removed question)",
    ]
    by_name = {row[2]: row[-4:] for row in rows[1:]}
    assert by_name["Arnaud"] == ["Vegan", "Lunch (former choice); Dinner", "Yes", "Old answer"]
    assert by_name["Bernard"] == ["", "Dinner", "No", ""]
    assert by_name["Chevalier"] == ["", "", "", ""]


def test_the_csv_protects_answers_read_as_formulas(as_owner, meeting):
    question = add(meeting, label="Anything else?")
    invitee(meeting, {question: ["=HYPERLINK(1)"]}, last_name="Arnaud")

    response = as_owner.get(f"/meetings/{meeting.id}/invitations/answers.csv")

    assert "=HYPERLINK" not in response.text.replace("'=HYPERLINK", "")


def test_the_attendance_xlsx_and_csv_have_the_answers(app, answered):
    with force_locale("en"):
        workbook = load_workbook(io.BytesIO(documents.attendance_xlsx(answered)))
        content = documents.attendance_csv(answered)
    rows = [[cell.value for cell in row] for row in workbook.active.iter_rows()]

    header = rows[0]
    assert header[-4:] == [
        "Dietary needs?",
        "Meals?",
        "Need parking?",
        "Old question (removed question)",
    ]
    by_name = {row[2]: row[-4:] for row in rows[1:]}
    assert by_name["Arnaud"] == ["Vegan", "Lunch (former choice); Dinner", "Yes", "Old answer"]
    assert by_name["Bernard"][1:3] == ["Dinner", "No"]
    assert by_name["Bernard"][0] in ("", None)
    assert 'Vegan;"Lunch (former choice); Dinner";Yes;Old answer' in content


def test_the_exports_are_unchanged_without_questions(app, meeting):
    invitee(meeting, {}, last_name="Arnaud")

    header = next(load_workbook(io.BytesIO(documents.attendance_xlsx(meeting))).active.iter_rows())

    assert len(header) == len(documents.XLSX_WIDTHS)


def test_the_meeting_page_counts_the_choices_of_those_coming(as_owner, answered):
    html = as_owner.get(f"/meetings/{answered.id}").text

    section = html[html.index('id="questions-heading"') :]
    section = section[: section.index("</section>")]
    assert "<h3>Meals?</h3>" in section and "<h3>Need parking?</h3>" in section
    assert "Buffet lunch: <strong>0</strong>" in section
    assert "Dinner: <strong>2</strong>" in section
    assert 'Lunch <span class="former">(former choice)</span>: <strong>1</strong>' in section
    assert "Yes: <strong>1</strong>" in section and "No: <strong>1</strong>" in section
    # Text questions and removed ones have no counts.
    assert "Dietary needs?" not in section and "Old question" not in section
    assert f'href="/meetings/{answered.id}/questions"' in section


def test_counts_leave_out_those_not_coming(app, meeting):
    parking = add(meeting, QuestionKind.YES_NO, label="Need parking?")
    invitee(meeting, {parking: ["yes"]})
    invitee(meeting, {parking: ["yes"]}, answer=Answer.NOT_COMING)

    [counts] = services.choice_counts(meeting)

    assert [(c.choice, c.count) for c in counts.choices] == [("yes", 1), ("no", 0)]
    assert counts.answered == 1


# Queries


def grow(meeting, invitees: int, questions: int) -> None:
    asked = [
        add(meeting, QuestionKind.SINGLE_CHOICE, label=f"Q{number}", choices=["A", "B"])
        for number in range(questions)
    ]
    for _number in range(invitees):
        invitee(meeting, {question: ["A"] for question in asked})


@pytest.mark.parametrize("path", ["/meetings/{id}/invitations/", "/meetings/{id}"])
def test_the_answer_list_and_the_meeting_page_cost_the_same_whatever_their_size(
    client, login, count_queries, path
):
    small, large = a_meeting(NOW), a_meeting(NOW)
    grow(small, invitees=1, questions=1)
    grow(large, invitees=12, questions=5)
    client.set_cookie("lang", "en")
    login(small.organisers[0])
    client.get(path.format(id=small.id))

    counts = []
    for meeting in (small, large):
        login(meeting.organisers[0])
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(path.format(id=meeting.id))
        assert response.status_code == 200
        counts.append(counter.count)

    assert counts[0] == counts[1]


@pytest.mark.parametrize("export", ["answers_csv", "attendance_csv", "attendance_xlsx"])
def test_the_exports_cost_the_same_whatever_their_size(app, count_queries, export):
    from app.invitations import services as invitation_services

    builds = {
        "answers_csv": lambda m: invitation_services.answers_csv(
            m, invitation_services.AnswerFilters()
        ),
        "attendance_csv": documents.attendance_csv,
        "attendance_xlsx": documents.attendance_xlsx,
    }
    small, large = a_meeting(NOW), a_meeting(NOW)
    grow(small, invitees=1, questions=1)
    grow(large, invitees=12, questions=5)

    counts = []
    for meeting in (small, large):
        db.session.expire_all()
        meeting = db.session.get(type(meeting), meeting.id)
        with count_queries() as counter:
            builds[export](meeting)
        counts.append(counter.count)

    assert counts[0] == counts[1] == 3
