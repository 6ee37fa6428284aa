"""The organiser's pages of a meeting's questions: adding each kind, validation errors next to
their fields, changing, reordering and removing, and who may do it."""

import re

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from app.extensions import db
from app.models import MeetingQuestion, MeetingStatus, QuestionAnswer, QuestionKind
from app.questions import services
from app.questions.services import QuestionData
from tests.factories import UserFactory
from tests.invitee_helpers import NOW, a_meeting, invite


@pytest.fixture
def meeting(app):
    return a_meeting()


@pytest.fixture
def owner(meeting):
    return meeting.organisers[0]


@pytest.fixture
def as_owner(client, login, owner):
    client.set_cookie("lang", "en")
    login(owner)
    return client


def add(meeting, kind=QuestionKind.SHORT_TEXT, label="Dietary needs?", **fields):
    question = services.add_question(meeting, QuestionData(kind=kind, label=label, **fields), NOW)
    db.session.commit()
    return question


def answer(question, invitation, *values):
    services.save_answers(invitation, {question.id: list(values)}, NOW)
    db.session.commit()


def questions_of(meeting):
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(MeetingQuestion)
            .where(MeetingQuestion.meeting_id == meeting.id)
            .order_by(MeetingQuestion.position, MeetingQuestion.id)
        )
    )


def error_of(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    assert match, f"no error next to {field_id}"
    return match.group(1)


# Adding


@pytest.mark.parametrize(
    ("kind", "choices", "expected"),
    [
        ("short_text", "", ""),
        ("long_text", "ignored\nfor text", ""),
        ("single_choice", "Morning\nAfternoon\n\n", "Morning\nAfternoon"),
        ("multiple_choice", " Vegetarian \nVegan\nNo pork", "Vegetarian\nVegan\nNo pork"),
        ("yes_no", "", ""),
    ],
)
def test_an_organiser_adds_a_question_of_each_kind(as_owner, meeting, kind, choices, expected):
    response = as_owner.post(
        f"/meetings/{meeting.id}/questions/new",
        data={"label": " Your choice ", "kind": kind, "choices": choices, "required": "y"},
    )

    assert response.status_code == 302
    assert response.location.endswith(f"/meetings/{meeting.id}/questions")
    [question] = questions_of(meeting)
    assert question.kind is QuestionKind(kind)
    assert question.label == "Your choice"
    assert question.required is True
    assert question.choices == expected


def test_new_questions_come_last_and_the_list_shows_them_in_order(as_owner, meeting):
    add(meeting, label="First question")
    add(meeting, QuestionKind.YES_NO, label="Second question", required=True)

    html = as_owner.get(f"/meetings/{meeting.id}/questions").text

    assert html.count("<h1>") == 1
    assert html.index("First question") < html.index("Second question")
    assert "Yes or no" in html and "(required)" in html


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"label": "", "kind": "short_text"}, "label", "This field is required."),
        ({"label": "x" * 301, "kind": "short_text"}, "label", "300 characters"),
        (
            {"label": "Workshop", "kind": "single_choice", "choices": "Only one"},
            "choices",
            "at least two choices",
        ),
        (
            {"label": "Workshop", "kind": "multiple_choice", "choices": "A\nB\na"},
            "choices",
            "is given twice",
        ),
        (
            {"label": "Workshop", "kind": "single_choice", "choices": "A\n" + "b" * 201},
            "choices",
            "at most 200 characters",
        ),
        ({"label": "Workshop", "kind": "essay"}, "kind", "Not a valid choice"),
    ],
)
def test_a_wrong_question_is_refused_with_the_error_next_to_its_field(
    as_owner, meeting, data, field_id, message
):
    response = as_owner.post(f"/meetings/{meeting.id}/questions/new", data=data)

    assert response.status_code == 400
    assert message in error_of(response.text, field_id)
    assert questions_of(meeting) == []


def test_the_form_keeps_what_was_typed_after_an_error(as_owner, meeting):
    response = as_owner.post(
        f"/meetings/{meeting.id}/questions/new",
        data={"label": "Which workshop?", "kind": "single_choice", "choices": "Alone"},
    )

    assert 'value="Which workshop?"' in response.text
    assert "Alone</textarea>" in response.text


# Changing


def test_an_organiser_changes_a_question(as_owner, meeting):
    question = add(meeting, QuestionKind.SINGLE_CHOICE, label="Workshop?", choices=["A", "B"])

    form = as_owner.get(f"/meetings/{meeting.id}/questions/{question.id}/edit").text
    assert "<h1>Change the question</h1>" in form
    assert 'value="Workshop?"' in form
    response = as_owner.post(
        f"/meetings/{meeting.id}/questions/{question.id}/edit",
        data={
            "label": "Which workshop?",
            "kind": "multiple_choice",
            "choices": "A\nB\nC",
            "help_text": "Both if you like.",
        },
    )

    assert response.status_code == 302
    [changed] = questions_of(meeting)
    assert changed.label == "Which workshop?"
    assert changed.kind is QuestionKind.MULTIPLE_CHOICE
    assert changed.choice_list == ["A", "B", "C"]
    assert changed.help_text == "Both if you like."
    assert changed.required is False


def test_a_question_with_answers_keeps_its_kind_unless_the_answers_stay_valid(as_owner, meeting):
    question = add(meeting, QuestionKind.SINGLE_CHOICE, label="Workshop?", choices=["A", "B"])
    invitation, _token = invite(meeting)
    answer(question, invitation, "A")
    url = f"/meetings/{meeting.id}/questions/{question.id}/edit"

    assert "already has answers" in as_owner.get(url).text
    refused = as_owner.post(url, data={"label": "Workshop?", "kind": "short_text"})

    assert refused.status_code == 400
    assert "its kind can no longer change" in error_of(refused.text, "kind")
    assert questions_of(meeting)[0].kind is QuestionKind.SINGLE_CHOICE

    allowed = as_owner.post(
        url, data={"label": "Workshop?", "kind": "multiple_choice", "choices": "A\nB"}
    )
    assert allowed.status_code == 302
    assert questions_of(meeting)[0].kind is QuestionKind.MULTIPLE_CHOICE


def test_renaming_a_choice_keeps_the_old_answer_as_a_former_choice(as_owner, meeting):
    question = add(meeting, QuestionKind.MULTIPLE_CHOICE, label="Meal?", choices=["Veggie", "Meat"])
    invitation, _token = invite(meeting)
    answer(question, invitation, "Veggie", "Meat")

    as_owner.post(
        f"/meetings/{meeting.id}/questions/{question.id}/edit",
        data={"label": "Meal?", "kind": "multiple_choice", "choices": "Vegetarian\nMeat"},
    )

    assert services.saved_answers([invitation.id]) == {
        invitation.id: {question.id: ["Veggie", "Meat"]}
    }
    parts = services.answer_parts(questions_of(meeting)[0], ["Veggie", "Meat"])
    assert [(part.text, part.former) for part in parts] == [("Veggie", True), ("Meat", False)]


# Reordering


def test_questions_move_up_and_down(as_owner, meeting):
    first, second, third = (add(meeting, label=label) for label in ("One", "Two", "Three"))

    as_owner.post(f"/meetings/{meeting.id}/questions/{third.id}/move/up")
    assert [q.label for q in questions_of(meeting)] == ["One", "Three", "Two"]
    as_owner.post(f"/meetings/{meeting.id}/questions/{first.id}/move/down")
    assert [q.label for q in questions_of(meeting)] == ["Three", "One", "Two"]
    # Already first: nothing moves.
    response = as_owner.post(f"/meetings/{meeting.id}/questions/{third.id}/move/up")
    assert response.status_code == 302
    assert [q.label for q in questions_of(meeting)] == ["Three", "One", "Two"]
    assert (
        as_owner.post(f"/meetings/{meeting.id}/questions/{second.id}/move/left").status_code == 404
    )


def test_the_list_has_move_buttons_as_post_forms(as_owner, meeting):
    first = add(meeting, label="One")
    second = add(meeting, label="Two")

    html = as_owner.get(f"/meetings/{meeting.id}/questions").text

    assert f'action="/meetings/{meeting.id}/questions/{first.id}/move/down"' in html
    assert f'action="/meetings/{meeting.id}/questions/{second.id}/move/up"' in html
    assert f"/questions/{first.id}/move/up" not in html
    assert f"/questions/{second.id}/move/down" not in html


# Removing


def test_a_question_without_answers_is_deleted_after_confirmation(as_owner, meeting):
    question = add(meeting)
    url = f"/meetings/{meeting.id}/questions/{question.id}/remove"

    page = as_owner.get(url)
    assert page.status_code == 200
    assert "Nobody has answered it yet" in page.text
    assert questions_of(meeting) == [question]

    assert as_owner.post(url).status_code == 302
    assert questions_of(meeting) == []


def test_a_question_with_answers_is_only_taken_off_the_forms(as_owner, meeting):
    question = add(meeting, label="Accessibility needs?")
    invitation, _token = invite(meeting)
    answer(question, invitation, "A ramp")
    url = f"/meetings/{meeting.id}/questions/{question.id}/remove"

    assert "It has 1 answer." in as_owner.get(url).text
    as_owner.post(url)

    [removed] = questions_of(meeting)
    assert removed.removed_at is not None
    assert services.active_questions(meeting) == []
    assert services.answered_questions(meeting) == [removed]
    assert db.session.scalar(select(func.count(QuestionAnswer.id))) == 1
    listing = as_owner.get(f"/meetings/{meeting.id}/questions").text
    assert "Removed questions" in listing and "Accessibility needs?" in listing
    # A removed question can no longer be changed or moved.
    assert as_owner.get(f"/meetings/{meeting.id}/questions/{removed.id}/edit").status_code == 404


# Who may do it


def question_pages(meeting, question):
    base = f"/meetings/{meeting.id}/questions"
    return [
        ("GET", base),
        ("GET", f"{base}/new"),
        ("POST", f"{base}/new"),
        ("GET", f"{base}/{question.id}/edit"),
        ("POST", f"{base}/{question.id}/edit"),
        ("POST", f"{base}/{question.id}/move/up"),
        ("GET", f"{base}/{question.id}/remove"),
        ("POST", f"{base}/{question.id}/remove"),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, meeting):
    question = add(meeting)
    for method, url in question_pages(meeting, question):
        response = client.open(url, method=method, data={"label": "Changed", "kind": "yes_no"})
        assert response.status_code == 302, url
        assert "/login" in response.location
    assert questions_of(meeting)[0].label == "Dietary needs?"


def test_other_organisers_are_refused(client, login, meeting):
    question = add(meeting)
    login(UserFactory())
    for method, url in question_pages(meeting, question):
        response = client.open(url, method=method, data={"label": "Changed", "kind": "yes_no"})
        assert response.status_code == 403, url
    assert questions_of(meeting)[0].label == "Dietary needs?"


def test_a_cancelled_meetings_questions_can_no_longer_change(as_owner, meeting):
    question = add(meeting)
    meeting.status = MeetingStatus.CANCELLED
    db.session.commit()

    for method, url in question_pages(meeting, question)[1:]:
        response = as_owner.open(url, method=method, data={"label": "Changed", "kind": "yes_no"})
        assert response.status_code == 302, url
        assert response.location.endswith(f"/meetings/{meeting.id}/questions"), url
    listed = as_owner.get(response.location)
    assert listed.status_code == 200
    assert "A cancelled meeting cannot be changed." in listed.text
    assert [(q.label, q.removed_at) for q in questions_of(meeting)] == [("Dietary needs?", None)]


def test_another_meetings_question_is_missing(as_owner, meeting):
    other = a_meeting(organisers=[meeting.organisers[0]])
    question = add(other)

    response = as_owner.get(f"/meetings/{meeting.id}/questions/{question.id}/edit")

    assert response.status_code == 404


def test_the_invitation_tabs_and_the_meeting_page_link_to_the_questions(as_owner, meeting):
    answers_page = as_owner.get(f"/meetings/{meeting.id}/invitations/").text
    meeting_page = as_owner.get(f"/meetings/{meeting.id}").text

    assert f'href="/meetings/{meeting.id}/questions"' in answers_page
    assert f'href="/meetings/{meeting.id}/questions"' in meeting_page


# The services other forms use (the public registration form)


def test_answers_survive_a_trip_through_json_and_garbage_is_left_out():
    answers = {3: ["Végétarien"], 12: ["Lunch", "Dinner"], 14: []}

    assert services.answers_from_json(services.answers_to_json(answers)) == answers
    assert services.answers_from_json("not json") == {}
    assert services.answers_from_json('["a"]') == {}
    assert services.answers_from_json('{"x": ["a"], "5": "b", "6": [1, null]}') == {
        5: ["b"],
        6: ["1"],
    }


def test_saving_leaves_out_questions_of_other_meetings_and_deleted_ones(meeting):
    question = add(meeting)
    other = add(a_meeting(), label="Elsewhere")
    invitation, _token = invite(meeting)

    services.save_answers(invitation, {question.id: ["Vegan"], other.id: ["x"], 999: ["y"]}, NOW)
    db.session.commit()

    assert services.saved_answers([invitation.id]) == {invitation.id: {question.id: ["Vegan"]}}


def test_a_form_with_questions_requires_the_required_ones_whatever_its_base(app, meeting):
    class RegistrationForm(FlaskForm):
        class Meta:
            csrf = False

        last_name = StringField("Last name")

    required = add(meeting, QuestionKind.YES_NO, label="Parking?", required=True)
    optional = add(meeting, QuestionKind.MULTIPLE_CHOICE, label="Meals?", choices=["A", "B"])
    questions = services.active_questions(meeting)
    form_class = services.form_with_questions(RegistrationForm, questions)
    assert services.form_with_questions(RegistrationForm, []) is RegistrationForm
    assert [field.name for field in form_class(formdata=None)] == [
        "last_name",
        services.question_field_name(required),
        services.question_field_name(optional),
    ]

    with app.test_request_context(method="POST"):
        empty = form_class(formdata=MultiDict({"last_name": "Durand"}))
        assert not empty.validate()
        assert list(empty.errors) == [services.question_field_name(required)]

        filled = form_class(
            formdata=MultiDict(
                [
                    ("last_name", "Durand"),
                    (services.question_field_name(required), "yes"),
                    (services.question_field_name(optional), "A"),
                    (services.question_field_name(optional), "B"),
                ]
            )
        )
        assert filled.validate()
        assert services.answers_from_form(filled, questions) == {
            required.id: ["yes"],
            optional.id: ["A", "B"],
        }
        services.prefill(empty, questions, {optional.id: ["B"]})
        assert empty[services.question_field_name(optional)].data == ["B"]
        assert empty[services.question_field_name(required)].data is None
