"""Answers to a meeting's questions: given on the invitee's personal page (each kind, required
ones enforced for those coming), kept apart between invitees by the page's shell cache, guarded
on the own page, and shown on the answer list, in the exports and on the meeting page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations.tokens import form_token
from app.models import Answer, Invitation, InvitationLink, QuestionKind
from app.questions import services
from app.questions.services import QuestionData
from tests.invitee_helpers import a_meeting, invite

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def meeting(app):
    return a_meeting(NOW)


def add(meeting, kind=QuestionKind.SHORT_TEXT, label="Dietary needs?", **fields):
    question = services.add_question(meeting, QuestionData(kind=kind, label=label, **fields), NOW)
    db.session.commit()
    return question


def all_kinds(meeting, required=False):
    """One question of each kind, in this order."""
    return {
        "short": add(meeting, label="Dietary needs?", required=required),
        "long": add(meeting, QuestionKind.LONG_TEXT, label="Access needs?", required=required),
        "single": add(
            meeting,
            QuestionKind.SINGLE_CHOICE,
            label="Which workshop?",
            choices=["Morning", "Afternoon"],
            required=required,
        ),
        "multiple": add(
            meeting,
            QuestionKind.MULTIPLE_CHOICE,
            label="Meals?",
            choices=["Lunch", "Dinner", "Coffee"],
            required=required,
        ),
        "yes_no": add(meeting, QuestionKind.YES_NO, label="Need parking?", required=required),
    }


def name(question) -> str:
    return services.question_field_name(question)


def save(invitation, answers):
    services.save_answers(invitation, answers, NOW)
    db.session.commit()


def error_of(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def saved_of(invitation) -> dict[int, list[str]]:
    db.session.expire_all()
    return services.saved_answers([invitation.id]).get(invitation.id, {})


# The personal page


def test_the_personal_page_asks_each_kind_of_question(english, meeting):
    questions = all_kinds(meeting, required=True)
    _invitation, token = invite(meeting, NOW)

    html = english.get(f"/i/{token}").text

    short, long, single, multiple, yes_no = questions.values()
    assert re.search(
        rf'<input[^>]*id="{name(short)}"[^>]*name="{name(short)}"[^>]*type="text"', html
    )
    assert f'<label for="{name(short)}">Dietary needs?</label>' in html
    assert f'name="{name(long)}"' in html and "<textarea" in html
    assert "<legend>Which workshop? <span" in html
    assert html.count(f'name="{name(single)}" type="radio"') == 2
    assert html.count(f'name="{name(multiple)}" type="checkbox"') == 3
    assert 'type="radio" value="yes"' in html and "Need parking?" in html
    assert "(required if you attend)" in html
    # A required question is not required by the browser: "I cannot attend" leaves it empty.
    assert not re.search(rf'<input[^>]*name="{name(short)}"[^>]*required', html)


@pytest.mark.parametrize(
    ("key", "sent", "saved"),
    [
        ("short", " Vegetarian ", ["Vegetarian"]),
        ("long", "A ramp,\nplease", ["A ramp,\nplease"]),
        ("single", "Afternoon", ["Afternoon"]),
        ("multiple", ["Lunch", "Coffee"], ["Lunch", "Coffee"]),
        ("yes_no", "no", ["no"]),
    ],
)
def test_each_kind_of_answer_is_saved_with_the_answer(client, meeting, key, sent, saved):
    question = all_kinds(meeting)[key]
    invitation, token = invite(meeting, NOW)

    response = client.post(f"/i/{token}", data={"answer": "yes", name(question): sent})

    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.answer is Answer.COMING
    assert saved_of(invitation) == {question.id: saved}


def test_a_choice_not_offered_is_refused(client, meeting):
    question = all_kinds(meeting)["single"]
    invitation, token = invite(meeting, NOW)

    response = client.post(f"/i/{token}", data={"answer": "yes", name(question): "Evening"})

    assert error_of(response.text, name(question))
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NONE
    assert saved_of(invitation) == {}


def test_the_page_shows_the_saved_answers(english, meeting):
    questions = all_kinds(meeting)
    invitation, token = invite(meeting, NOW)
    save(
        invitation,
        {
            questions["short"].id: ["No gluten"],
            questions["long"].id: ["Lift needed"],
            questions["single"].id: ["Morning"],
            questions["multiple"].id: ["Lunch", "Dinner"],
            questions["yes_no"].id: ["yes"],
        },
    )

    html = english.get(f"/i/{token}").text

    assert f'name="{name(questions["short"])}" type="text" value="No gluten"' in html
    assert "Lift needed</textarea>" in html
    for question, value in (
        (questions["single"], "Morning"),
        (questions["multiple"], "Lunch"),
        (questions["multiple"], "Dinner"),
        (questions["yes_no"], "yes"),
    ):
        assert re.search(rf'<input checked[^>]*name="{name(question)}"[^>]*value="{value}"', html)
    assert not re.search(
        rf'<input checked[^>]*name="{name(questions["multiple"])}"[^>]*value="Coffee"', html
    )


def test_a_required_question_is_enforced_for_those_coming_and_keeps_the_rest(english, meeting):
    questions = all_kinds(meeting, required=True)
    invitation, token = invite(meeting, NOW)

    response = english.post(
        f"/i/{token}",
        data={
            "answer": "yes",
            "comment": "See you there",
            name(questions["short"]): "Vegan",
            name(questions["multiple"]): ["Dinner"],
            name(questions["yes_no"]): "no",
        },
    )

    html = response.text
    assert "Please correct the errors below." in html
    assert error_of(html, name(questions["long"])) == "Please answer this question."
    assert error_of(html, name(questions["single"])) == "Please answer this question."
    assert error_of(html, name(questions["short"])) is None
    # What was given stays in the form.
    assert 'value="Vegan"' in html and "See you there</textarea>" in html
    assert re.search(
        rf'<input checked[^>]*name="{name(questions["multiple"])}"[^>]*value="Dinner"', html
    )
    assert re.search(rf'<input checked[^>]*name="{name(questions["yes_no"])}"[^>]*value="no"', html)
    assert re.search(r'<input checked[^>]*name="answer"[^>]*value="yes"', html)
    # Nothing is recorded.
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NONE
    assert saved_of(invitation) == {}


def test_those_not_coming_may_leave_required_questions_empty(client, meeting):
    questions = all_kinds(meeting, required=True)
    invitation, token = invite(meeting, NOW)

    response = client.post(
        f"/i/{token}", data={"answer": "no", name(questions["short"]): "Nothing special"}
    )

    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NOT_COMING
    assert saved_of(invitation) == {questions["short"].id: ["Nothing special"]}


def test_an_emptied_answer_is_erased_and_removed_questions_keep_theirs(client, meeting):
    kept = add(meeting, label="Old question")
    asked = add(meeting, label="Dietary needs?")
    invitation, token = invite(meeting, NOW)
    save(invitation, {kept.id: ["Kept"], asked.id: ["Vegan"]})
    services.remove_question(kept, NOW)
    db.session.commit()

    client.post(f"/i/{token}", data={"answer": "yes", name(asked): ""})

    assert saved_of(invitation) == {kept.id: ["Kept"]}


def test_a_former_choice_is_shown_as_no_longer_offered(english, meeting):
    question = add(meeting, QuestionKind.SINGLE_CHOICE, label="Workshop?", choices=["A", "B"])
    invitation, token = invite(meeting, NOW)
    save(invitation, {question.id: ["A"]})
    services.update_question(
        question, QuestionData(QuestionKind.SINGLE_CHOICE, "Workshop?", choices=["A1", "B"]), NOW
    )
    db.session.commit()

    html = english.get(f"/i/{token}").text

    assert "Your earlier answer “A” is no longer offered." in html
    assert not re.search(rf"<input checked[^>]*name=\"{name(question)}\"", html)


# The shell cache


def test_the_shell_cache_never_shows_one_invitees_answers_to_another(client, meeting):
    question = add(meeting, label="Dietary needs?")
    first, first_token = invite(meeting, NOW)
    second, second_token = invite(meeting, NOW)
    third, third_token = invite(meeting, NOW)
    save(first, {question.id: ["First-secret-answer"]})
    save(second, {question.id: ["Second-secret-answer"]})

    pages = [client.get(f"/i/{token}").text for token in (first_token, second_token, third_token)]
    again = client.get(f"/i/{first_token}").text

    assert "First-secret-answer" in pages[0] and "Second-secret-answer" not in pages[0]
    assert "Second-secret-answer" in pages[1] and "First-secret-answer" not in pages[1]
    assert "secret-answer" not in pages[2]
    assert "First-secret-answer" in again and "Second-secret-answer" not in again


def test_a_page_cached_before_the_questions_shows_them_once_added(client, meeting):
    _invitation, token = invite(meeting, NOW)
    other, other_token = invite(meeting, NOW)
    client.get(f"/i/{token}")

    question = add(meeting, label="Dietary needs?")
    save(other, {question.id: ["Other-secret"]})
    html = client.get(f"/i/{token}").text

    assert f'name="{name(question)}"' in html
    assert "Other-secret" not in html
    assert "Other-secret" in client.get(f"/i/{other_token}").text


def test_a_meeting_without_questions_still_loads_its_page_in_one_query(
    client, meeting, count_queries
):
    removed = add(meeting, label="Removed")
    _invitation, token = invite(meeting, NOW)
    services.remove_question(removed, NOW)
    db.session.commit()
    client.get(f"/i/{token}")

    with count_queries() as counter:
        response = client.get(f"/i/{token}")

    assert response.status_code == 200
    assert f'name="{name(removed)}"' not in response.text
    assert counter.count == 1, counter.statements


# The own page


def test_the_own_page_sends_those_coming_to_the_meetings_page_for_required_questions(
    english, meeting
):
    question = add(meeting, label="Dietary needs?", required=True)
    invitation, token = invite(meeting, NOW)
    plain = a_meeting(NOW, title="Sans questions")
    other = Invitation(meeting=plain, contact=invitation.contact, invited_at=NOW)
    db.session.add(other)
    db.session.commit()

    html = english.get(f"/i/{token}/invitations").text

    assert html.count('value="yes"') == 1  # the meeting without questions only
    assert f'action="/i/{token}/invitations/{invitation.id}/page"' in html
    assert f'action="/i/{token}/invitations/{other.id}/page"' not in html

    # The buttons' "yes" is refused for the meeting with a required question.
    refused = english.post(
        f"/i/{token}/invitations/{invitation.id}/answer",
        data={"answer": "yes", "csrf_token": form_token(token)},
        follow_redirects=True,
    )
    assert "please answer the meeting&#39;s questions on its page" in refused.text
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NONE

    # "No" needs no answer.
    english.post(
        f"/i/{token}/invitations/{invitation.id}/answer",
        data={"answer": "no", "csrf_token": form_token(token)},
    )
    db.session.refresh(invitation)
    assert invitation.answer is Answer.NOT_COMING

    # Once answered, "yes" from the own page is accepted.
    save(invitation, {question.id: ["Vegan"]})
    english.post(
        f"/i/{token}/invitations/{invitation.id}/answer",
        data={"answer": "yes", "csrf_token": form_token(token)},
    )
    db.session.refresh(invitation)
    assert invitation.answer is Answer.COMING


def test_the_own_page_opens_a_meetings_page_with_a_new_link(english, meeting):
    question = add(meeting, label="Dietary needs?", required=True)
    first, token = invite(meeting, NOW)
    later = a_meeting(NOW, title="Autre séance")
    add(later, label="Parking?", required=True)
    other = Invitation(meeting=later, contact=first.contact, invited_at=NOW)
    db.session.add(other)
    db.session.commit()

    response = english.post(
        f"/i/{token}/invitations/{other.id}/page", data={"csrf_token": form_token(token)}
    )

    assert response.status_code == 302
    new_token = response.location.rsplit("/i/", 1)[1]
    assert new_token != token
    page = english.get(f"/i/{new_token}").text
    assert "Autre séance" in page and "Parking?" in page
    assert f'name="{name(question)}"' not in page
    links = db.session.scalars(
        select(InvitationLink).where(InvitationLink.invitation_id == other.id)
    )
    assert len(list(links)) == 1


def test_the_own_page_refuses_to_open_another_contacts_invitation(client, meeting):
    _invitation, token = invite(meeting, NOW)
    stranger, _stranger_token = invite(a_meeting(NOW), NOW)

    response = client.post(
        f"/i/{token}/invitations/{stranger.id}/page", data={"csrf_token": form_token(token)}
    )

    assert response.status_code == 404


def test_once_answers_are_closed_the_page_shows_the_answers_given(english, app):
    meeting = a_meeting(NOW, answer_deadline=NOW - timedelta(hours=1))
    questions = all_kinds(meeting)
    invitation, token = invite(meeting, NOW)
    save(
        invitation,
        {
            questions["short"].id: ["No gluten"],
            questions["multiple"].id: ["Lunch", "Dinner"],
            questions["yes_no"].id: ["yes"],
        },
    )

    html = english.get(f"/i/{token}").text

    assert "Answers closed on" in html
    assert f'name="{name(questions["short"])}"' not in html
    assert "<dt>Dietary needs?</dt>" in html and "No gluten" in html
    assert "Lunch; Dinner" in html
    assert re.search(r'<dt>Need parking\?</dt>\s*<dd class="text-block">Yes</dd>', html)
    assert "Which workshop?" not in html
